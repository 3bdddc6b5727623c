using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tuning;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Tuning;

public class TunableRuleTests
{
    [TestCase("-0.01 * g")]
    [TestCase("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-08)")]
    [TestCase("-0.01 * (mt + g1 + gt_2 + mom99 + t * lag(3, mom5) + tanh(ema_bc(0.7, abs(g))))")]
    [TestCase("-0.0001 * sign(ema(0.99, g) + 0.1 * g) - 0.001 * p")]
    [TestCase("-0.01 * m / (1 - 0.8 + 0.8 * vs)")]
    public void Step_AtInitialConstants_ReproducesRuleOptimizerTrajectory(string infix)
    {
        var def = Def(infix);
        var tunable = TunableRule.Create(def);
        using var problem = OptimizeeRegistry.Create("logreg", 2, CPU);
        using var reference = new RuleOptimizer("r", def.Compile(), problem.ParameterShapes, CPU, RuleBackend.OpChain);
        var expected = Trajectory(problem, 40, reference);

        var states = problem.ParameterShapes.Select(s => tunable.InitialState(s, CPU).Select(t => t.DetachFromDisposeScope()).ToArray()).ToArray();
        using var c = tensor(tunable.InitialConstants.ToArray(), ScalarType.Float64);
        var ours = Trajectory(problem, 40, (ps, step) =>
        {
            using var _ = no_grad();
            for (int i = 0; i < ps.Count; i++)
            {
                var (update, next) = tunable.Step(ps[i].grad!, ps[i], states[i], step, c);
                ps[i].add_(update);
                states[i] = next.Select(t => t.DetachFromDisposeScope()).ToArray();
            }
        });
        Assert.That(MaxRelativeDeviation(ours, expected), Is.LessThan(1e-5));
    }

    [Test]
    public void Create_EqualConstants_StayDistinctMetaParameters()
    {
        var tunable = TunableRule.Create(Def("-0.5 * g + -0.5 * g1"));
        Assert.That(tunable.Count, Is.EqualTo(2));
        var tuned = tunable.WithConstants([-0.25, -0.75]);
        Assert.That(Infix.Print(tuned.Rule), Is.EqualTo(Infix.Print(Infix.Parse("-0.25 * g + -0.75 * g1"))));
    }

    [Test]
    public void Create_TuneBetas_CountsWrittenEmaBetasButNotFeatureBetas()
    {
        var tunable = TunableRule.Create(Def("-0.01 * ema(0.9, g) / (sqrt(v) + 1e-8)"), tuneBetas: true);
        Assert.That(tunable.InitialConstants, Is.EqualTo(new[] { -0.01, 0.9, 1e-8 }));
    }

    [Test]
    public void Step_ConstantRequiringGrad_GetsTheAnalyticGradient()
    {
        // update = c * g, so d(update)/dc = g: the gradient of sum(update) with respect to c is sum(g).
        var tunable = TunableRule.Create(Def("-0.1 * g"));
        using var c = tensor(new[] { -0.1 }, ScalarType.Float64).requires_grad_(true);
        using var g = tensor(new float[] { 1, 2, -4 });
        var (update, _) = tunable.Step(g, zeros_like(g), [], 1, c);
        update.sum().backward();
        Assert.That(c.grad!.data<double>()[0], Is.EqualTo(-1.0).Within(1e-6));
    }

    [Test]
    public void Step_TunedBeta_GetsTheGradientOfFiniteDifferences()
    {
        // Three steps of -0.1 * ema_bc(β, g) + 0.5 * ema(β, g): the beta reaches the moving average and the bias correction.
        var tunable = TunableRule.Create(Def("-0.1 * ema_bc(0.8, g) + 0.5 * ema(0.6, g1)"), tuneBetas: true);
        Assert.That(tunable.InitialConstants, Is.EqualTo(new[] { -0.1, 0.8, 0.5, 0.6 }));
        double Total(double[] c, out double[] grad)
        {
            using var scope = NewDisposeScope();
            var ct = tensor(c, ScalarType.Float64).requires_grad_(true);
            IReadOnlyList<Tensor> state = tunable.InitialState([2], CPU);
            Tensor total = zeros(2, ScalarType.Float64);
            for (int step = 1; step <= 3; step++)
            {
                var g = tensor(new[] { 1.0f * step, -2f + step }, ScalarType.Float32);
                var (update, next) = tunable.Step(g, zeros_like(g), state, step, ct);
                total = total.add(update);
                state = next;
            }
            var sum = total.sum();
            sum.backward();
            grad = ct.grad!.data<double>().ToArray();
            return sum.item<double>();
        }
        double[] c0 = [.. tunable.InitialConstants];
        Total(c0, out var analytic);
        for (int i = 0; i < c0.Length; i++)
        {
            const double h = 1e-3;
            double[] up = [.. c0], down = [.. c0];
            up[i] += h;
            down[i] -= h;
            double numeric = (Total(up, out _) - Total(down, out _)) / (2 * h);
            Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-3 * Math.Max(1, Math.Abs(numeric))), $"constant {i}");
        }
        Assert.That(analytic[1], Is.Not.EqualTo(0.0), "the beta of ema_bc receives a gradient");
    }

    [Test]
    public void Step_ConstantTunedAcrossZero_KeepsTheDivisionProtected()
    {
        // Compiled with ε = 1e-8 the division needs no guard; a meta-parameter may move ε to 0, where 0/0 would be NaN.
        var tunable = TunableRule.Create(Def("-0.1 * g / (sqrt(v) + 1e-8)"));
        using var c = tensor(new[] { -0.1, 0.0 }, ScalarType.Float64);
        using var g = zeros(3);
        var (update, _) = tunable.Step(g, zeros_like(g), tunable.InitialState([3], CPU), 1, c);
        Assert.That(update.data<float>().ToArray().All(float.IsFinite), Is.True);
    }
}
