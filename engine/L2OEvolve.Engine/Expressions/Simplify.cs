namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// Algebraic simplification that keeps a rule's value: constant folding, identities (<c>x + 0</c>, <c>x * 1</c>,
/// <c>x / 0 = 1</c>, <c>neg(neg x)</c>, ...) and merging of constants along <c>+</c>/<c>-</c> and <c>*</c>/<c>/</c> chains.
/// </summary>
/// <remarks>
/// <para>Every rule holds under the reference semantics of <see cref="Ops"/> for all finite inputs: identities that
/// fail for an infinite or NaN intermediate (<c>x * 0 = 0</c>, <c>x - x = 0</c>, <c>x / x = 1</c>) fire only when
/// <c>x</c> is provably finite (<see cref="AlwaysFinite"/>), and a fold that would produce a non-finite constant is
/// not done. Merging constants (<c>(x + 1) + 2</c> to <c>x + 3</c>) changes only floating-point rounding.</para>
/// <para>Algorithm: repeat one bottom-up pass (<see cref="Expr.Map"/>, which keeps unchanged subtrees by identity)
/// until a pass returns the very same tree. Each rule strictly shrinks the tree or moves it to a canonical form
/// (constants right of <c>+</c>, left of <c>*</c>), so the loop ends; a pass cap guards against any oversight.</para>
/// </remarks>
public static class Simplify
{
    private const int MaxPasses = 100;

    /// <summary>The simplified tree; the same instance when nothing simplifies.</summary>
    public static Expr Apply(Expr expr)
    {
        for (int pass = 0; pass < MaxPasses; pass++)
        {
            var next = expr.Map(Rewrite);
            if (ReferenceEquals(next, expr)) return expr;
            expr = next;
        }
        return expr;
    }

    /// <summary>True when <paramref name="e"/> is finite for every finite input: no operator in it can overflow or
    /// produce NaN from finite arguments (so <c>+ - * / pow exp sinh square cube</c> disqualify it).</summary>
    public static bool AlwaysFinite(Expr e) => e switch
    {
        Expr.Const c => double.IsFinite(c.Value),
        Expr.Var => true,
        Expr.Unary u => u.Op.FiniteOnFinite && AlwaysFinite(u.Arg),
        Expr.Binary b => b.Op.AlwaysFinite || b.Op.FiniteOnFinite && AlwaysFinite(b.Left) && AlwaysFinite(b.Right),
        Expr.Ema m => AlwaysFinite(m.Arg),
        Expr.Lag l => AlwaysFinite(l.Arg),
        _ => false,
    };

    // Constant folding here; every other identity belongs to its operator (Op.Simplify).
    private static Expr Rewrite(Expr node) => node switch
    {
        Expr.Unary { Arg: Expr.Const c } u => Fold(u, u.Op.Apply(c.Value)),
        Expr.Unary u => u.Op.Simplify(u),
        Expr.Binary { Left: Expr.Const lc, Right: Expr.Const rc } b => Fold(b, b.Op.Apply(lc.Value, rc.Value)),
        Expr.Binary b => b.Op.Simplify(b),
        Expr.Lag { Arg: Expr.Lag inner } outer when (long)outer.Steps + inner.Steps <= int.MaxValue
            => new Expr.Lag(outer.Steps + inner.Steps, inner.Arg),
        _ => node,
    };

    /// <summary>Reads <c>rest + k</c>, <c>rest - k</c> as (rest, ±k); anything else as (itself, NaN), which no merge accepts.</summary>
    internal static (Expr Remainder, double K) AsSum(Expr e) => e switch
    {
        Expr.Binary { Right: Expr.Const k } a when a.Op == Op.Add => (a.Left, k.Value),
        Expr.Binary { Right: Expr.Const k } s when s.Op == Op.Sub => (s.Left, -k.Value),
        _ => (e, double.NaN),
    };

    /// <summary><c>rest + k</c> in canonical form, or null when <paramref name="k"/> is not finite (nothing merged).</summary>
    internal static Expr? MergeSum(Expr rest, double k) =>
        !double.IsFinite(k) ? null
        : k == 0 ? rest
        : k < 0 ? new Expr.Binary(Op.Sub, rest, new Expr.Const(-k))
        : new Expr.Binary(Op.Add, rest, new Expr.Const(k));

    /// <summary><c>k * rest</c>, or null when the merged factor over- or underflowed.</summary>
    internal static Expr? Scale(double k, Expr rest) =>
        double.IsFinite(k) && k != 0 ? new Expr.Binary(Op.Mul, new Expr.Const(k), rest) : null;

    private static Expr Fold(Expr node, double value) => double.IsFinite(value) ? new Expr.Const(value) : node;

    internal static bool IsConst(Expr e, double value) => e is Expr.Const c && c.Value == value;
}
