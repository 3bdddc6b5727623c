using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Torch.Funnel;

/// <summary>
/// Checks that an update rule is an optimizer and not a drift: it must read the gradient, and it must vanish when
/// the gradient history is zero. A rule such as <c>mt + sqrt(exp(tanh(gt + 0.41)))</c> imitates a teacher's average
/// output and "trains" by moving every coordinate the same way each step; rollouts over a few hundred steps can
/// reward that, so the funnel refuses it before any rollout.
/// </summary>
public static class UpdateChecks
{
    // Features that are not functions of the gradient history: the parameter itself and the step counter.
    private static readonly string[] NonGradientBases = ["p", "t"];

    /// <summary>True when <paramref name="rule"/> reads at least one gradient-derived feature.</summary>
    public static bool ReadsGradient(Expr rule) => rule.Variables().Any(v => !NonGradientBases.Contains(BaseOf(v)));

    /// <summary>
    /// The largest |update| the rule gives at rest, i.e. when every gradient-derived feature (and its history) is
    /// zero, over a few values of the step feature <c>t</c> and with the parameter at 0. Moving averages and lags
    /// of a constant are that constant (their steady state).
    /// </summary>
    public static double RestUpdate(Expr rule)
    {
        double worst = 0;
        foreach (var t in new[] { 0.001, 0.01, 0.1, 1.0 })
        {
            double u = Math.Abs(AtRest(rule, t));
            if (double.IsNaN(u)) return double.PositiveInfinity;
            worst = Math.Max(worst, u);
        }
        return worst;
    }

    private static double AtRest(Expr e, double t) => e.Fold<double>((node, kids) => node switch
    {
        Expr.Const c => c.Value,
        Expr.Var v => BaseOf(v.Name) == "t" ? t : 0.0,
        Expr.Unary u => Ops.Apply(u.Op, kids[0]),
        Expr.Binary b => Ops.Apply(b.Op, kids[0], kids[1]),
        Expr.Ema or Expr.Lag => kids[0],
        _ => double.NaN,
    });

    private static string BaseOf(string name) => LagNames.TryParse(name, RuleFeatures.Names, out var b, out _) ? b : name;
}
