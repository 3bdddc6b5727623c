using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.OptimizerEvaluation;

public class ComparisonTests
{
    private static readonly OptimizerRegistry Registry = OptimizerRegistry.BuiltIn.With(RuleFile.TryResolveShipped).With(RuleFile.TryResolve);

    private static readonly Contender[] Contenders =
    [
        new("adam", ContenderKind.Baseline, "adam", TuneLr: true),
        new("lion", ContenderKind.Baseline, "lion", TuneLr: true),
        new("sgd-as-is", ContenderKind.Baseline, "sgd:lr=0.01", TuneLr: false),
    ];

    private static ComparisonSettings Settings(int workers = 1) => new([10, 30], [0, 1, 2], [1_000_000], LrPoints: 5, LrDecades: 2, Workers: workers);

    [Test]
    public void Run_EveryHorizonHasEveryContenderOnEverySeed_WithTheLrItWasTunedTo()
    {
        var cmp = Comparison.Run("logreg", true, OptimizeeRegistry.Family("logreg"), CPU, Registry, Contenders, Settings());

        Assert.That(cmp.Horizons.Select(h => h.Steps), Is.EqualTo(new[] { 10, 30 }));
        foreach (var h in cmp.Horizons)
        {
            Assert.That(h.Results.Select(r => r.Contender.Name), Is.EqualTo(Contenders.Select(c => c.Name)));
            Assert.That(h.Results.SelectMany(r => r.Runs).Select(r => r.TrainLoss.Length), Has.All.EqualTo(h.Steps));
            Assert.That(h.Find("adam")!.Lr, Is.EqualTo(h.Find("adam")!.Tuning!.BestLr));
            Assert.That(h.Find("sgd-as-is")!.Lr, Is.Null, "an untuned contender runs as specified");
            Assert.That(h.Find("adam")!.Runs.Select(r => r.Seed), Is.EqualTo(new long[] { 0, 1, 2 }));
        }
    }

    [Test]
    public void Run_AShortHorizonReadOffALongerRun_EqualsRunningItAlone()
    {
        var cmp = Comparison.Run("logreg", true, OptimizeeRegistry.Family("logreg"), CPU, Registry, [Contenders[2]], Settings());
        var alone = Harness.Run(OptimizeeRegistry.Family("logreg"), CPU, [new OptimizerEntry("sgd", Registry.Resolve("sgd:lr=0.01", CPU))], new EvalSettings(10, [0, 1, 2]));

        var cut = cmp.Horizons[0].Results[0].Runs;
        for (int i = 0; i < 3; i++)
        {
            Assert.That(cut[i].TrainLoss, Is.EqualTo(alone[i].TrainLoss));
            Assert.That(cut[i].Evaluation, Is.EqualTo(alone[i].Evaluation), "the held-out evaluation is taken at the shorter horizon");
        }
    }

    [Test]
    public void Run_TwoWorkers_GiveTheSameResultsAsOne()
    {
        var one = Comparison.Run("logreg", true, OptimizeeRegistry.Family("logreg"), CPU, Registry, Contenders, Settings(1));
        var two = Comparison.Run("logreg", true, OptimizeeRegistry.Family("logreg"), CPU, Registry, Contenders, Settings(2));
        for (int h = 0; h < 2; h++)
            for (int c = 0; c < Contenders.Length; c++)
            {
                Assert.That(two.Horizons[h].Results[c].Lr, Is.EqualTo(one.Horizons[h].Results[c].Lr));
                Assert.That(two.Horizons[h].Results[c].FinalTrainLoss, Is.EqualTo(one.Horizons[h].Results[c].FinalTrainLoss));
                Assert.That(two.Horizons[h].Results[c].EvalLoss, Is.EqualTo(one.Horizons[h].Results[c].EvalLoss));
            }
    }

    [Test]
    public void Settings_OverlappingSeeds_AreRejected()
    {
        var bad = new ComparisonSettings([10], [0, 1], [1]);
        Assert.Throws<ArgumentException>(() => Comparison.Run("logreg", true, OptimizeeRegistry.Family("logreg"), CPU, Registry, Contenders, bad));
    }
}
