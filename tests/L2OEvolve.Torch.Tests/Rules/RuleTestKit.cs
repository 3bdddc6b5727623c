using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

/// <summary>Expression builders and trajectory runners shared by the rule tests.</summary>
internal static class RuleTestKit
{
    public static Expr C(double v) => new Expr.Const(v);
    public static Expr V(string name) => new Expr.Var(name);
    public static Expr Mul(Expr a, Expr b) => new Expr.Binary(Op.Mul, a, b);
    public static Expr Div(Expr a, Expr b) => new Expr.Binary(Op.Div, a, b);
    public static Expr Add(Expr a, Expr b) => new Expr.Binary(Op.Add, a, b);
    public static Expr Sub(Expr a, Expr b) => new Expr.Binary(Op.Sub, a, b);
    public static Expr Sqrt(Expr a) => new Expr.Unary(Op.Sqrt, a);
    public static Expr G => V("g");

    /// <summary>A rule definition from infix text with the default features.</summary>
    public static RuleDefinition Def(string infix, string name = "r") => new(name, Infix.Parse(infix), "", FeatureSettings.Default);

    /// <summary>Adam written as a rule: <c>-lr * ema_bc(b1, g) / (sqrt(ema_bc(b2, g*g)) + eps)</c>.</summary>
    public static Expr Adam(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8) =>
        Mul(C(-lr), Div(new Expr.Ema(b1, true, G), Add(Sqrt(new Expr.Ema(b2, true, Mul(G, G))), C(eps))));

    /// <summary>The parameters after each of <paramref name="steps"/> updates, flattened into one array per step.</summary>
    public static List<float[]> Trajectory(IOptimizee problem, int steps, Action<IReadOnlyList<Tensor>, int> update)
    {
        var ps = problem.InitialParameters().Select(p => p.detach().clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
        var result = new List<float[]>();
        for (int step = 1; step <= steps; step++)
        {
            using var scope = NewDisposeScope();
            foreach (var p in ps) p.grad?.zero_();
            var loss = problem.Loss(ps, step);
            loss.backward();
            update(ps, step);
            result.Add(ps.SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray());
        }
        foreach (var p in ps) p.Dispose();
        return result;
    }

    /// <summary>Trajectory driven by an <see cref="IParameterOptimizer"/>.</summary>
    public static List<float[]> Trajectory(IOptimizee problem, int steps, IParameterOptimizer optimizer) =>
        Trajectory(problem, steps, (ps, step) => optimizer.Step(ps, ps.Select(p => p.grad!).ToList(), step));

    /// <summary>Trajectory driven by a TorchSharp optimizer over the same parameter tensors.</summary>
    public static List<float[]> TorchTrajectory(IOptimizee problem, int steps, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> make)
    {
        var ps = problem.InitialParameters().Select(p => new TorchSharp.Modules.Parameter(p.detach().clone())).ToList();
        using var opt = make(ps);
        var result = new List<float[]>();
        for (int step = 1; step <= steps; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = problem.Loss(ps.Cast<Tensor>().ToList(), step);
            loss.backward();
            opt.step();
            result.Add(ps.SelectMany(p => p.detach().data<float>().ToArray()).ToArray());
        }
        foreach (var p in ps) p.Dispose();
        return result;
    }

    /// <summary>Largest over steps of ‖a − b‖ / ‖b‖.</summary>
    public static double MaxRelativeDeviation(List<float[]> a, List<float[]> b)
    {
        double worst = 0;
        for (int s = 0; s < b.Count; s++)
        {
            double num = 0, den = 0;
            for (int i = 0; i < b[s].Length; i++)
            {
                double d = a[s][i] - b[s][i];
                num += d * d;
                den += (double)b[s][i] * b[s][i];
            }
            worst = Math.Max(worst, Math.Sqrt(num / Math.Max(den, 1e-30)));
        }
        return worst;
    }
}
