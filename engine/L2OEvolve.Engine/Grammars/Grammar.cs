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
    public ImmutableArray<OpSpec> OpsOfArity(int arity) => Ops.Where(o => o.Op.Arity == arity).ToImmutableArray();

    /// <summary>The complexity weight of <paramref name="op"/> in this grammar (1 when it is not listed).</summary>
    public int ComplexityOf(Op op)
    {
        // The search asks this of every operator node of every child: one array read by the operator's table slot.
        var table = Table();
        int slot = Volatile.Read(ref op.Slot);
        return (uint)slot < (uint)table.BySlot.Length && table.BySlot[slot] is var c && c != ComplexityTable.Absent ? c : 1;
    }

    /// <summary>A number that stands for this very grammar instance within the process (1 to 2^24 − 2), under which a
    /// tree's nodes remember their measures; 0 once the numbers have run out (then nothing is remembered).</summary>
    internal int MeasureKey => Table().Key;

    private ComplexityTable Table()
    {
        // Built on first use for this instance (a `with` copy, which may differ in anything, builds its own).
        var table = _complexity.Table;
        if (table is null || !ReferenceEquals(table.Owner, this)) _complexity.Table = table = new ComplexityTable(this);
        return table;
    }

    // Equality ignores it.
    private ComplexityField _complexity;

    /// <summary>The complexity of each operator in <c>Ops</c> by its slot in the operator table
    /// (<see cref="Expressions.Ops"/>), the first listing winning as in a search of the list; and the grammar's key.</summary>
    private sealed class ComplexityTable
    {
        public const int Absent = int.MinValue;
        private const int Keys = (1 << 24) - 2;
        private static int s_lastKey;

        public readonly Grammar Owner;
        public readonly int[] BySlot;
        public readonly int Key;

        public ComplexityTable(Grammar owner)
        {
            Owner = owner;
            var ops = owner.Ops;
            BySlot = Enumerable.Repeat(Absent, ops.IsDefaultOrEmpty ? 0 : ops.Max(o => Expressions.Ops.Slot(o.Op) + 1)).ToArray();
            if (!ops.IsDefault)
                foreach (var o in ops)
                    if (BySlot[o.Op.Slot] == Absent) BySlot[o.Op.Slot] = o.Complexity;
            int key = Interlocked.Increment(ref s_lastKey);
            Key = key is > 0 and <= Keys ? key : 0;
        }
    }

    /// <summary>A derived table in a field that record equality passes over (every two are equal).</summary>
    private struct ComplexityField : IEquatable<ComplexityField>
    {
        public ComplexityTable? Table;
        public readonly bool Equals(ComplexityField other) => true;
        public override readonly bool Equals(object? obj) => obj is ComplexityField;
        public override readonly int GetHashCode() => 0;
    }

    /// <summary>
    /// True when the grammar file said <c>"features": "from-data"</c>: <see cref="Features"/> is empty until
    /// <see cref="BindFeatures"/> fills it with the dataset's selected columns.
    /// </summary>
    public bool FeaturesFromData { get; init; }

    /// <summary>True when <paramref name="op"/> is one of the grammar's operators.</summary>
    public bool Allows(Op op)
    {
        foreach (var o in Ops) if (o.Op == op) return true;
        return false;
    }

    /// <summary>
    /// Binds the grammar to a dataset's feature columns. A <c>from-data</c> grammar takes them all as its features
    /// (and gets a new <see cref="ContentHash"/>); a grammar with listed features checks that each one is present.
    /// </summary>
    /// <exception cref="InputException">A listed feature is not among <paramref name="columns"/>.</exception>
    public Grammar BindFeatures(IReadOnlyList<string> columns)
    {
        if (FeaturesFromData)
        {
            var bound = this with { Features = [.. columns], FeaturesFromData = false };
            return bound with { ContentHash = GrammarJson.ComputeHash(bound) };
        }
        var available = new HashSet<string>(columns, StringComparer.Ordinal);
        var missing = Features.Where(f => !available.Contains(f)).ToList();
        if (missing.Count > 0)
            throw new InputException(
                $"grammar '{Name}' needs feature(s) {Abbreviate(missing)} which the data lacks (it has {Abbreviate(columns)})");
        return this;
    }

    // paper-rp alone has 80 features: a full list would bury the message.
    private static string Abbreviate(IReadOnlyList<string> names) =>
        names.Count <= 12 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(10))}, ... ({names.Count} in all)";

    /// <summary>
    /// The ways <paramref name="expr"/> breaks this grammar (empty when it conforms): operators or features the
    /// grammar lacks, disabled or out-of-range stateful operators, complexity above <see cref="MaxSize"/>, depth
    /// above <see cref="MaxDepth"/>, and nesting rules.
    /// </summary>
    public IReadOnlyList<string> Violations(Expr expr)
    {
        var faults = new List<string>();
        var features = new HashSet<string>(Features, StringComparer.Ordinal);
        foreach (var node in expr.Preorder())
        {
            switch (node)
            {
                case Expr.Var v when !FeaturesFromData && !features.Contains(v.Name):
                    faults.Add($"unknown feature '{v.Name}'");
                    break;
                case Expr.Unary u when !Allows(u.Op):
                    faults.Add($"operator '{u.Op.Symbol}' is not in the grammar");
                    break;
                case Expr.Binary b when !Allows(b.Op):
                    faults.Add($"operator '{b.Op.Symbol}' is not in the grammar");
                    break;
                case Expr.Ema when !Stateful.Ema:
                    faults.Add("ema is not enabled");
                    break;
                case Expr.Lag l when !Stateful.Lag || l.Steps > Stateful.MaxLag:
                    faults.Add(Stateful.Lag ? $"lag {l.Steps} exceeds the maximum {Stateful.MaxLag}" : "lag is not enabled");
                    break;
            }
        }
        int complexity = expr.Complexity(this);
        if (complexity > MaxSize) faults.Add($"complexity {complexity} exceeds maxsize {MaxSize}");
        int depth = expr.Depth();
        if (depth > MaxDepth) faults.Add($"depth {depth} exceeds maxdepth {MaxDepth}");
        foreach (var rule in Nesting)
        {
            int worst = MaxNesting(expr, rule);
            if (worst > rule.MaxCount) faults.Add($"'{rule.Inner}' nested {worst} times inside '{rule.Outer}' (at most {rule.MaxCount})");
        }
        return faults;
    }

    /// <summary>The name nesting rules use for a node: operator symbol, <c>ema</c>, <c>lag</c>, or null for leaves.</summary>
    public static string? NestingName(Expr node) => node switch
    {
        Expr.Unary u => u.Op.Symbol,
        Expr.Binary b => b.Op.Symbol,
        Expr.Ema => "ema",
        Expr.Lag => "lag",
        _ => null,
    };

    // The largest number of Inner nodes on one path strictly below any Outer node (PySR's nested_constraints).
    private static int MaxNesting(Expr expr, NestingRule rule)
    {
        int worst = 0;
        foreach (var node in expr.Preorder())
            if (NestingName(node) == rule.Outer)
                foreach (var child in node.Children) worst = Math.Max(worst, CountOnPath(child, rule.Inner));
        return worst;
    }

    private static int CountOnPath(Expr e, string inner)
    {
        int below = 0;
        foreach (var child in e.Children) below = Math.Max(below, CountOnPath(child, inner));
        return below + (NestingName(e) == inner ? 1 : 0);
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
