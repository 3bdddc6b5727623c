using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Optimizers;

public class BuiltInOptimizersTests
{
    private static float[] TwoSteps(string spec, float gradient)
    {
        using var scope = torch.NewDisposeScope();
        var theta = torch.zeros(1);
        using var opt = BuiltInOptimizers.TryResolve(spec)!([[1]], CPU);
        var trace = new float[2];
        for (int t = 1; t <= 2; t++)
        {
            opt.Step([theta], [torch.full(1, gradient)], t);
            trace[t - 1] = theta.item<float>();
        }
        return trace;
    }

    [Test]
    public void Sgd_ConstantGradient_MovesByLrTimesGradient() =>
        Assert.That(TwoSteps("sgd:lr=0.1", 2), Is.EqualTo(new[] { -0.2f, -0.4f }).Within(1e-7));

    [Test]
    public void Momentum_ConstantGradient_AccumulatesVelocity() =>
        // b = 1, 1.9; θ = −0.1, −0.29
        Assert.That(TwoSteps("momentum:lr=0.1,mu=0.9", 1), Is.EqualTo(new[] { -0.1f, -0.29f }).Within(1e-6));

    [Test]
    public void Nesterov_ConstantGradient_LooksAhead() =>
        // b = 1, 1.9; θ −= 0.1·(1 + 0.9·b): −0.19, −0.19 − 0.271
        Assert.That(TwoSteps("nesterov:lr=0.1,mu=0.9", 1), Is.EqualTo(new[] { -0.19f, -0.461f }).Within(1e-6));

    [Test]
    public void Adam_FirstStep_MovesByLrAgainstTheGradientSign()
    {
        // With bias correction, m̂/√v̂ = g/|g| on the first step.
        var trace = TwoSteps("adam:lr=0.01", -3);
        Assert.That(trace[0], Is.EqualTo(0.01f).Within(1e-7));
        Assert.That(trace[1], Is.EqualTo(0.02f).Within(1e-7));
    }

    [TestCase("quadratic")]
    [TestCase("logreg")]
    [TestCase("rosenbrock:dim=5")]
    // 1e-5 relative (1e-3 percent): the two round differently in the last bit, and libtorch itself is not bit-stable run to run.
    public void Adam_MatchesTorchOptimAdamTrajectoryOver200Steps(string optimizee)
    {
        using var problem = OptimizeeRegistry.Create(optimizee, 3, CPU);
        var mine = Harness.RunOne(problem, new OptimizerEntry("adam", BuiltInOptimizers.TryResolve("adam:lr=0.01")!), 3, CPU, 200);
        var reference = Harness.RunOne(problem, new OptimizerEntry("torch-adam", BuiltInOptimizers.TryResolve("torch-adam:lr=0.01")!), 3, CPU, 200);
        Assert.That(mine.Diverged, Is.False);
        for (int t = 0; t < 200; t++)
            Assert.That(mine.TrainLoss[t], Is.EqualTo(reference.TrainLoss[t]).Within(1e-3).Percent, $"step {t + 1}");
        Assert.That(mine.TrainLoss[^1], Is.LessThan(mine.TrainLoss[0]));
    }

    [TestCase("sgd", 0)]
    [TestCase("momentum", 1)]
    [TestCase("nesterov", 1)]
    [TestCase("adam", 2)]
    [TestCase("torch-adam", 2)]
    public void StateFloatsPerParameter_IsWhatTheUpdateKeeps(string name, double floats)
    {
        using var opt = BuiltInOptimizers.TryResolve(name)!([[3]], CPU);
        Assert.That(opt.StateFloatsPerParameter, Is.EqualTo(floats));
    }

    [Test]
    public void TryResolve_Override_ShowsInName()
    {
        using var opt = BuiltInOptimizers.TryResolve("ADAM:lr=0.01,beta1=0.8")!([[1]], CPU);
        Assert.That(opt.Name, Does.Contain("lr=0.01").And.Contain("beta1=0.8").And.Contain("beta2=0.999"));
    }

    [Test]
    public void TryResolve_UnknownSetting_NamesItAndTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => BuiltInOptimizers.TryResolve("sgd:mu=0.9"));
        Assert.That(ex!.Message, Does.Contain("mu").And.Contain("known: lr"));
    }

    [Test]
    public void TryResolve_NegativeValue_IsRejected() =>
        Assert.Throws<ArgumentException>(() => BuiltInOptimizers.TryResolve("adam:lr=-1"));

    [Test]
    public void TryResolve_NotBuiltIn_ReturnsNull() =>
        Assert.That(BuiltInOptimizers.TryResolve("rules/adam.rule.json"), Is.Null);

    [Test]
    public void TryResolve_BuiltInNameWithMalformedSetting_NamesTheSetting()
    {
        var ex = Assert.Throws<ArgumentException>(() => BuiltInOptimizers.TryResolve("adam:lr"));
        Assert.That(ex!.Message, Does.Contain("setting 'lr' is not of the form key=value"));
    }

    [Test]
    public void TryResolve_OtherNameWithMalformedSetting_ReturnsNull() =>
        Assert.That(BuiltInOptimizers.TryResolve("runs/a:b/x.rule.json"), Is.Null);
}
