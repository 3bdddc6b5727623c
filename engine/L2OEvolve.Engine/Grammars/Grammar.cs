using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Grammars;

/// <summary>
/// The language a search may write rules in: input features, operators with complexity weights, constants,
/// stateful operators, size limits and nesting rules. Immutable; loaded from <c>grammars/*.json</c> by
/// <see cref="GrammarJson"/>, which also computes <see cref="ContentHash"/> (used by resume compatibility checks).
/// </summary>
public sealed record Grammar(
    string Name,
    ImmutableArray<string> Features,
    ImmutableArray<OpSpec> Ops,
    ConstantSpec Constants,
    StatefulSpec Stateful,
    int MaxSize,
    int MaxDepth,
    ImmutableArray<NestingRule> Nesting,
    double Parsimony,
    string ContentHash)
{
    /// <summary>The operators of a given arity, in grammar order.</summary>
    public ImmutableArray<OpSpec> OpsOfArity(int arity) => Ops.Where(o => o.Op.Arity() == arity).ToImmutableArray();

    /// <summary>The complexity weight of <paramref name="op"/> in this grammar (1 when it is not listed).</summary>
    public int ComplexityOf(Op op)
    {
        foreach (var o in Ops) if (o.Op == op) return o.Complexity;
        return 1;
    }
}

/// <summary>An operator the grammar allows, with the complexity it adds and its relative sampling weight.</summary>
public sealed record OpSpec(Op Op, int Complexity = 1, double Weight = 1.0);

/// <summary>How constants are drawn and what they cost.</summary>
/// <param name="Min">Lower end of the range new constants are drawn from.</param>
/// <param name="Max">Upper end of that range.</param>
/// <param name="Complexity">Complexity of one constant leaf.</param>
/// <param name="Probability">Chance that a new leaf is a constant rather than a feature.</param>
public sealed record ConstantSpec(double Min = -1.0, double Max = 1.0, int Complexity = 1, double Probability = 0.3);

/// <summary>Which stateful operators a grammar allows and their ranges.</summary>
/// <param name="Ema">Allow <c>ema(beta, e)</c>.</param>
/// <param name="EmaBetaMin">Smallest beta a new ema draws.</param>
/// <param name="EmaBetaMax">Largest beta a new ema draws.</param>
/// <param name="EmaBiasCorrection">Whether new emas are bias-corrected.</param>
/// <param name="Lag">Allow <c>lag(k, e)</c>.</param>
/// <param name="MaxLag">Largest k for lag.</param>
/// <param name="Complexity">Complexity of one stateful node.</param>
public sealed record StatefulSpec(
    bool Ema = false, double EmaBetaMin = 0.5, double EmaBetaMax = 0.999, bool EmaBiasCorrection = false,
    bool Lag = false, int MaxLag = 0, int Complexity = 1)
{
    /// <summary>No stateful operators.</summary>
    public static StatefulSpec None { get; } = new();

    /// <summary>True when any stateful operator is allowed.</summary>
    public bool Any => Ema || Lag;
}

/// <summary>
/// Limits how often <paramref name="Inner"/> may occur inside an <paramref name="Outer"/> (PySR's
/// <c>nested_constraints</c>): <c>MaxCount = 0</c> forbids <c>exp(...exp(...)...)</c> outright.
/// Either side may be an operator name or <c>"ema"</c>/<c>"lag"</c>.
/// </summary>
public sealed record NestingRule(string Outer, string Inner, int MaxCount);
