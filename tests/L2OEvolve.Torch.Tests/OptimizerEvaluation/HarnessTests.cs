using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Tests.Optimizees;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.OptimizerEvaluation;

public class HarnessTests
{
    private static OptimizerEntry Entry(string spec) => new(spec, OptimizerRegistry.BuiltIn.Resolve(spec, CPU));

    [Test]
    public void Run_ARunLibtorchFailedInside_IsRunAgainAndGivesTheUnfaultedFigures()
    {
        var settings = new EvalSettings(30, [4, 5], Workers: 2);
        var clean = Harness.Run(OptimizeeRegistry.Family("logreg"), CPU, [Entry("adam"), Entry("sgd")], settings);
        var faulted = Harness.Run(new FaultyFamily(OptimizeeRegistry.Family("logreg"), faults: 2), CPU, [Entry("adam"), Entry("sgd")], settings);
        Assert.That(faulted.Select(r => r.TrainLoss), Is.EqualTo(clean.Select(r => r.TrainLoss)));
        Assert.That(faulted.Select(r => r.Evaluation), Is.EqualTo(clean.Select(r => r.Evaluation)));
    }

    [Test]
    public void Run_ARunLibtorchFailsOnEveryAttempt_NamesTheOptimizerAndSeed()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            Harness.Run(new FaultyFamily(OptimizeeRegistry.Family("logreg"), faults: int.MaxValue), CPU, [Entry("adam")], new EvalSettings(5, [4])));
        Assert.That(ex!.Message, Does.Contain("adam").And.Contain("seed 4").And.Contain("3 attempts"));
    }

    [Test]
    public void Run_SameSettingsTwice_GivesIdenticalLosses()
    {
        var family = OptimizeeRegistry.Family("logreg");
        var settings = new EvalSettings(30, [4, 5]);
        var a = Harness.Run(family, CPU, [Entry("adam")], settings);
        var b = Harness.Run(family, CPU, [Entry("adam")], settings);
        Assert.That(a.Select(r => r.TrainLoss), Is.EqualTo(b.Select(r => r.TrainLoss)));
    }

    [Test]
    public void Run_EvaluateAt_TakesTheHeldOutEvaluationAtEarlierSteps_AndPrefixCutsThere()
    {
        var family = OptimizeeRegistry.Family("logreg");
        var full = Harness.Run(family, CPU, [Entry("adam")], new EvalSettings(30, [4], EvaluateAt: [10, 20]))[0];
        var ten = Harness.Run(family, CPU, [Entry("adam")], new EvalSettings(10, [4]))[0];

        Assert.That(full.Intermediate!.Keys, Is.EquivalentTo(new[] { 10, 20 }));
        var cut = full.Prefix(10);
        Assert.That(cut.TrainLoss, Is.EqualTo(ten.TrainLoss));
        Assert.That(cut.Evaluation, Is.EqualTo(ten.Evaluation));
        Assert.Throws<InvalidOperationException>(() => full.Prefix(15), "no evaluation was taken at step 15");
    }

    [Test]
    public void Run_WithoutHeldOut_SkipsTheEvaluationButStillFlagsDivergence()
    {
        var runs = Harness.Run(OptimizeeRegistry.Family("quadratic"), CPU, [Entry("sgd:lr=10"), Entry("sgd:lr=0.01")], new EvalSettings(100, [0], HeldOut: false));
        Assert.That(runs[0].Diverged, Is.True);
        Assert.That(runs[1].Diverged, Is.False);
        Assert.That(double.IsNaN(runs[1].Evaluation.Loss), Is.True, "no held-out evaluation was asked for");
    }

    [Test]
    public void Run_DivergingOptimizer_IsRecordedAtItsStepAndOthersGoOn()
    {
        var runs = Harness.Run(OptimizeeRegistry.Family("quadratic"), CPU, [Entry("sgd:lr=10"), Entry("sgd:lr=0.01")], new EvalSettings(100, [0, 1]));

        var bad = runs.Where(r => r.Optimizer == "sgd:lr=10").ToArray();
        var good = runs.Where(r => r.Optimizer == "sgd:lr=0.01").ToArray();
        Assert.That(bad.All(r => r.Diverged && r.DivergedAtStep < 100), Is.True);
        Assert.That(bad.All(r => !float.IsFinite(r.TrainLoss[r.DivergedAtStep!.Value - 1])), Is.True);
        Assert.That(bad.All(r => double.IsNaN(r.Evaluation.Loss)), Is.True);
        Assert.That(good.All(r => !r.Diverged && r.StepsRun == 100 && double.IsFinite(r.Evaluation.Loss)), Is.True);
    }

    [Test]
    public void RunOne_UpdateThatMakesParametersNonFiniteOnTheLastStep_CountsAsDiverged()
    {
        ParameterOptimizerFactory poison = (_, _) => new PoisonOnStep(3);
        using var problem = OptimizeeRegistry.Create("quadratic", 0, CPU);
        var r = Harness.RunOne(problem, new OptimizerEntry("poison", poison), 0, CPU, 3);
        Assert.That(r.DivergedAtStep, Is.EqualTo(3));
        Assert.That(r.TrainLoss.All(float.IsFinite), Is.True);
    }

    [Test]
    public void Run_Adam_ReducesLogisticRegressionLossAndReportsAccuracy()
    {
        var runs = Harness.Run(OptimizeeRegistry.Family("logreg"), CPU, [Entry("adam:lr=0.05")], new EvalSettings(200, [0]));
        var r = runs.Single();
        Assert.That(EvalSummary.FinalLoss(r.TrainLoss), Is.LessThan(0.8 * r.TrainLoss[0]));
        Assert.That(r.Evaluation.Accuracy, Is.GreaterThan(0.7));
        Assert.That(r.StateFloatsPerParameter, Is.EqualTo(2));
    }

    [Test]
    public void Run_ReportsProgressUpToTheTotal()
    {
        var seen = new List<EvalProgress>();
        Harness.Run(OptimizeeRegistry.Family("quadratic"), CPU, [Entry("sgd"), Entry("adam")], new EvalSettings(10, [0, 1]), new SyncProgress(seen.Add));
        Assert.That(seen[^1].StepsDone, Is.EqualTo(40));
        Assert.That(seen[^1].StepsTotal, Is.EqualTo(40));
        Assert.That(seen.Select(p => p.StepsDone), Is.Ordered);
    }

    [Test]
    public void Run_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            Harness.Run(OptimizeeRegistry.Family("quadratic"), CPU, [Entry("sgd")], new EvalSettings(10, [0]), ct: cts.Token));
    }

    private sealed class SyncProgress(Action<EvalProgress> report) : IProgress<EvalProgress>
    {
        public void Report(EvalProgress value) => report(value);
    }

    /// <summary>Writes NaN into the parameters on one step, like a numerically broken candidate rule.</summary>
    private sealed class PoisonOnStep(int poisonStep) : IParameterOptimizer
    {
        public string Name => "poison";
        public double StateFloatsPerParameter => 0;
        public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
        {
            using var _ = torch.no_grad();
            if (step == poisonStep) foreach (var p in parameters) p.fill_(float.NaN);
        }
        public void Dispose() { }
    }
}
