using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Compilation;

/// <summary>
/// Settings of the paper's per-coordinate features (docs/symbolic-l2o.md, 'Features'): the Adam-style betas behind <c>m</c>, <c>v</c>,
/// <c>mt</c>, <c>gt</c>, the epsilon added to <c>sqrt(v̂)</c>, and the scale of the step feature <c>t</c>.
/// </summary>
/// <param name="Beta1">Decay of <c>m</c> (0.95 as in the paper's code, not Adam's 0.9).</param>
/// <param name="Beta2">Decay of <c>v</c> (0.95 as in the paper's code).</param>
/// <param name="Epsilon">Added outside the square root: <c>vs = sqrt(v̂) + Epsilon</c> (1e-12 in the torch code).</param>
/// <param name="TScale">The feature <c>t</c> is <c>step * TScale</c>; 1e-3 reproduces the paper's <c>step/1000</c>.</param>
public sealed record FeatureSettings(double Beta1 = 0.95, double Beta2 = 0.95, double Epsilon = 1e-12, double TScale = 1e-3)
{
    /// <summary>The paper's settings.</summary>
    public static FeatureSettings Default { get; } = new();
}

/// <summary>
/// The runtime feature names a rule may use and their meaning as expression trees over the primitive
/// inputs: the gradient <c>g</c>, the parameter <c>p</c> and the scaled step <c>t</c>. Expanding a rule this way lets one compiler handle
/// features and the tree's own <c>ema</c>/<c>lag</c> nodes alike, and makes features share state with each other
/// (<c>m</c> and <c>mhat</c> keep one moving average between them; a written <c>ema(0.95, g)</c> keeps its own,
/// since its beta is a constant of the rule that fitting may move).
/// </summary>
/// <remarks>
/// A name <c>XK</c> or <c>X_K</c> where <c>X</c> is a base feature and <c>K</c> digits means <c>lag(K, X)</c>
/// (<c>g0</c> is the newest gradient; docs/symbolic-l2o.md, 'Recording distillation data'). An exact base name wins (<c>mom99</c> is the feature, not
/// <c>mom9</c> lagged by 9); otherwise the longest base-name prefix wins, so write <c>mom9_9</c> for that lag.
/// </remarks>
public static class RuleFeatures
{
    /// <summary>The primitive gradient input.</summary>
    public const string Gradient = "g";

    /// <summary>The primitive parameter input: the coordinate's current value θ, before the update (weight decay).</summary>
    public const string Parameter = "p";

    /// <summary>The primitive step input (scaled by <see cref="FeatureSettings.TScale"/>).</summary>
    public const string Step = "t";

    /// <summary>Every base feature name, with what it means.</summary>
    public static ImmutableArray<(string Name, string Meaning)> Catalogue { get; } =
    [
        ("g", "the gradient"),
        ("p", "the parameter's current value θ, before the update (for weight decay)"),
        ("t", "the step (from 1) times TScale (default 1e-3: the paper's step/1000)"),
        ("m", "ema(Beta1, g), not bias-corrected (the paper's AdamUp_unNorm)"),
        ("v", "ema(Beta2, g*g), not bias-corrected"),
        ("mhat", "ema_bc(Beta1, g): m/(1-Beta1^t) (AdamUp_Norm)"),
        ("vhat", "ema_bc(Beta2, g*g): v/(1-Beta2^t)"),
        ("vs", "sqrt(vhat) + Epsilon (AdamDn_Norm)"),
        ("mt", "m̃ = mhat / vs"),
        ("gt", "g̃ = g / vs"),
        ("mom5", "ema(0.5, g)"),
        ("mom9", "ema(0.9, g)"),
        ("mom99", "ema(0.99, g)"),
        ("mp2", "m / (ema_bc(Beta2, |g|^2)^(1/2) + 1e-8), a p-norm feature of the paper's magic sets"),
        ("mp2h", "m / (ema_bc(Beta2, |g|^2.5)^(1/2.5) + 1e-8)"),
        ("mp3", "m / (ema_bc(Beta2, |g|^3)^(1/3) + 1e-8)"),
        ("mp4", "m / (ema_bc(Beta2, |g|^4)^(1/4) + 1e-8)"),
    ];

    // The p-norm features divide the raw (not bias-corrected) m, with their own epsilon, as the teachers' inputs do.
    private static readonly Dictionary<string, double> MagicP = new() { ["mp2"] = 2.0, ["mp2h"] = 2.5, ["mp3"] = 3.0, ["mp4"] = 4.0 };
    private const double MagicEpsilon = 1e-8;

    /// <summary>True when <paramref name="name"/> is a feature or a lagged feature name.</summary>
    public static bool IsKnown(string name) => TryResolve(name, FeatureSettings.Default, out _);

    /// <summary>
    /// Rewrites every feature variable of <paramref name="rule"/> into its expression over <c>g</c> and <c>t</c>.
    /// Throws <see cref="ArgumentException"/> naming the first unknown variable.
    /// </summary>
    public static Expr Expand(Expr rule, FeatureSettings settings) => Expand(rule, settings, new HashSet<string>());

    /// <summary>As <see cref="Expand(Expr, FeatureSettings)"/>, leaving the variables named in <paramref name="keep"/> alone.</summary>
    public static Expr Expand(Expr rule, FeatureSettings settings, IReadOnlySet<string> keep) => rule switch
    {
        Expr.Var v when keep.Contains(v.Name) => v,
        Expr.Var v => TryResolve(v.Name, settings, out var e)
            ? e
            : throw new ArgumentException(
                $"unknown feature '{v.Name}' (known: {string.Join(", ", Catalogue.Select(c => c.Name))}, and lagged names such as g1 or mt_2)"),
        Expr.Unary u => u with { Arg = Expand(u.Arg, settings, keep) },
        Expr.Binary b => b with { Left = Expand(b.Left, settings, keep), Right = Expand(b.Right, settings, keep) },
        Expr.Ema e => e with { Arg = Expand(e.Arg, settings, keep) },
        Expr.Lag l => l with { Arg = Expand(l.Arg, settings, keep) },
        _ => rule,
    };

    /// <summary>Every base feature name (<see cref="Catalogue"/>'s names): the bases of lag names such as <c>mom5_3</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = Catalogue.Select(c => c.Name).ToArray();

    private static bool TryResolve(string name, FeatureSettings s, out Expr expr)
    {
        // The dataset convention's parser (LagNames), over this runtime's larger set of base names.
        expr = null!;
        if (!LagNames.TryParse(name, Names, out var baseName, out int k) || !TryBase(baseName, s, out var baseExpr)) return false;
        expr = k == 0 ? baseExpr : new Expr.Lag(k, baseExpr);
        return true;
    }

    private static bool TryBase(string name, FeatureSettings s, out Expr expr)
    {
        var g = new Expr.Var(Gradient);
        var g2 = new Expr.Binary(Op.Mul, g, g);
        Expr Vs() => new Expr.Binary(Op.Add, new Expr.Unary(Op.Sqrt, new Expr.Ema(s.Beta2, true, g2)), new Expr.Const(s.Epsilon));
        expr = name switch
        {
            "g" => g,
            "t" => new Expr.Var(Step),
            "p" => new Expr.Var(Parameter),
            "m" => new Expr.Ema(s.Beta1, false, g),
            "v" => new Expr.Ema(s.Beta2, false, g2),
            "mhat" => new Expr.Ema(s.Beta1, true, g),
            "vhat" => new Expr.Ema(s.Beta2, true, g2),
            "vs" => Vs(),
            "mt" => new Expr.Binary(Op.Div, new Expr.Ema(s.Beta1, true, g), Vs()),
            "gt" => new Expr.Binary(Op.Div, g, Vs()),
            "mom5" => new Expr.Ema(0.5, false, g),
            "mom9" => new Expr.Ema(0.9, false, g),
            "mom99" => new Expr.Ema(0.99, false, g),
            _ when MagicP.TryGetValue(name, out double p) => new Expr.Binary(Op.Div, new Expr.Ema(s.Beta1, false, g),
                new Expr.Binary(Op.Add, new Expr.Binary(Op.Pow, new Expr.Ema(s.Beta2, true, new Expr.Binary(Op.Pow, new Expr.Unary(Op.Abs, g), new Expr.Const(p))),
                    new Expr.Const(1.0 / p)), new Expr.Const(MagicEpsilon))),
            _ => null!,
        };
        return expr is not null;
    }
}
