using System.Collections.Immutable;

namespace L2OEvolve.Engine.Expressions;

/// <summary>An immutable update-rule expression tree: a closed union whose subtrees are shared freely.</summary>
/// <remarks>
/// Nodes carry no parent pointers, so any subtree can sit in many trees at once. Edits rebuild only the path from
/// the root to the edited node. Record equality is structural; <see cref="StructuralHash"/> gives a stable 64-bit
/// hash for deduplication. Each node remembers a few facts of its subtree once asked (its size, its numbers, its
/// structural hash): the search asks them of every child, and a child shares all but one path with its parent, so
/// they are computed only along that path. They are pure functions of the subtree, equality ignores them, and a
/// <c>with</c> copy, which may have new children, starts without them.
/// </remarks>
public abstract partial record Expr
{
    private Expr() { }

    /// <summary>A copy of <paramref name="original"/>'s own fields; the facts of its subtree are not copied, since
    /// the copy's children may be replaced (<c>with</c>).</summary>
    protected Expr(Expr original) { }

    // Facts of the subtree, 0 until first computed. Threads racing to fill one compute the same value, and a 64-bit
    // field is written whole, so a reader sees 0 or the value.
    private ulong _facts; // see Facts
    private ulong _kinds; // see Kinds
    private ulong _measures; // a grammar's measures of the subtree, kept by the constraint check (MeasureCache)
    private ulong _hash; // StructuralHash.Of; a hash that is 0 is recomputed at every use

    /// <summary>Structural equality: the same node kind (each kind compares its own fields); cached facts are ignored.</summary>
    public virtual bool Equals(Expr? other) => ReferenceEquals(this, other) || other is not null && EqualityContract == other.EqualityContract;

    /// <inheritdoc/>
    public override int GetHashCode() => EqualityComparer<Type>.Default.GetHashCode(EqualityContract);

    /// <summary>Measures of this subtree under one grammar, packed with that grammar's key (0 = none yet).</summary>
    internal ulong MeasureCache { get => _measures; set => _measures = value; }

    /// <summary>The cached structural hash (0 = not computed yet), for <see cref="StructuralHash"/>.</summary>
    internal ulong HashCache { get => _hash; set => _hash = value; }

    /// <summary>A real constant; tunable by constant optimisation and meta-tuning.</summary>
    public sealed record Const(double Value) : Expr;

    /// <summary>A named input feature (a dataset column such as <c>g0</c>, or a runtime feature such as <c>m</c>).</summary>
    public sealed record Var(string Name) : Expr;

    /// <summary>A pure unary operator applied to one argument.</summary>
    public sealed record Unary(Op Op, Expr Arg) : Expr;

    /// <summary>A pure binary operator applied to two arguments.</summary>
    public sealed record Binary(Op Op, Expr Left, Expr Right) : Expr;

    /// <summary>
    /// A per-coordinate exponential moving average over time: <c>s_t = Beta*s_{t-1} + (1-Beta)*Arg_t</c>, <c>s_0 = 0</c>;
    /// with bias correction the value is <c>s_t / (1 - Beta^t)</c>. <c>Beta</c> is a tunable constant in (0, 1).
    /// </summary>
    public sealed record Ema(double Beta, bool BiasCorrected, Expr Arg) : Expr;

    /// <summary>The value <c>Arg</c> had <c>Steps</c> time steps ago, per coordinate (zero before the history starts).</summary>
    public sealed record Lag(int Steps, Expr Arg) : Expr;

    /// <summary>The node's children in evaluation order.</summary>
    public ImmutableArray<Expr> Children => this switch
    {
        Unary u => [u.Arg],
        Binary b => [b.Left, b.Right],
        Ema e => [e.Arg],
        Lag l => [l.Arg],
        _ => [],
    };

    /// <summary>True when this tree contains a stateful operator (ema or lag) and so must be evaluated along time.</summary>
    public bool IsStateful => this switch
    {
        Ema or Lag => true,
        Unary u => u.Arg.IsStateful,
        Binary b => b.Left.IsStateful || b.Right.IsStateful,
        _ => false,
    };
}
