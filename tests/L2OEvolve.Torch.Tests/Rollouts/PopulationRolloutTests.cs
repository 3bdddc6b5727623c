using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rollouts;
using L2OEvolve.Torch.Rules;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rollouts;

public class PopulationRolloutTests
{
    private static readonly Expr Exploding = new Expr.Unary(Op.Exp, Mul(C(1e4), new Expr.Unary(Op.Abs, G)));

    /// <summary>A mixed population: Adam, momentum, SGD, a lagged-feature rule and the paper's m̃/g̃ features.</summary>
    private static List<Expr> Mixed() =>
    [
        Adam(0.01),
        Mul(C(-0.1), new Expr.Ema(0.9, false, G)),
        Mul(C(-0.05), G),
        Mul(C(-0.01), Add(V("g1"), V("mt"))),
        Mul(C(-0.003), Add(V("gt"), new Expr.Unary(Op.Tanh, V("mom5")))),
    ];

    private static void AssertClose(RolloutResult[] a, RolloutResult[] b, double rel)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        for (int i = 0; i < a.Length; i++)
        {
            Assert.That(a[i].Diverged, Is.EqualTo(b[i].Diverged), $"candidate {i}");
            Assert.That(a[i].FinalLoss, Is.EqualTo(b[i].FinalLoss).Within(rel * Math.Abs(b[i].FinalLoss) + 1e-7), $"candidate {i} final");
            Assert.That(a[i].MeanLoss, Is.EqualTo(b[i].MeanLoss).Within(rel * Math.Abs(b[i].MeanLoss) + 1e-7), $"candidate {i} mean");
        }
    }

    [TestCase("quadratic")]
    [TestCase("logreg")]
    public void Run_MixedRules_MatchesRunningEachRuleAlone(string optimizee)
    {
        var family = OptimizeeRegistry.Family(optimizee);
        var settings = new RolloutSettings(60, [1, 2]);
        var programs = settings.Compile(Mixed());
        var together = PopulationRollout.Run(programs, family, settings);
        var alone = PopulationRollout.RunSequential(programs, family, settings);
        AssertClose(together, alone, 1e-4);
        Assert.That(together.Select(r => r.FinalLoss).Distinct().Count(), Is.EqualTo(programs.Count), "the candidates must differ");
    }

    [Test]
    public void Run_MlpOnTinyData_MatchesRunningEachRuleAlone()
    {
        using var data = new TinyMnist(n: 64);
        var family = OptimizeeRegistry.Family("mlp-mnist-rp", new OptimizeeOptions(DataDir: data.Dir, BatchSize: 16));
        var settings = new RolloutSettings(20, [3]);
        var programs = settings.Compile(Mixed().Take(3).ToList());
        AssertClose(PopulationRollout.Run(programs, family, settings), PopulationRollout.RunSequential(programs, family, settings), 1e-4);
    }

    [Test]
    public void Run_OpChainBackend_MatchesFusedBackend()
    {
        var family = OptimizeeRegistry.Family("logreg");
        var settings = new RolloutSettings(40, [4]);
        var rules = Mixed();
        AssertClose(PopulationRollout.Run(rules, family, settings, backend: RuleBackend.OpChain),
            PopulationRollout.Run(rules, family, settings, backend: RuleBackend.Fused), 1e-4);
    }

    [Test]
    public void Run_DivergingCandidate_IsFlaggedAndLeavesTheOthersUntouched()
    {
        var family = OptimizeeRegistry.Family("quadratic");
        var settings = new RolloutSettings(30, [1, 2, 3]);
        var withBad = PopulationRollout.Run([Adam(0.01), Exploding, Mul(C(-0.01), G)], family, settings);
        var without = PopulationRollout.Run([Adam(0.01), Mul(C(-0.01), G)], family, settings);
        Assert.That(withBad[1].Diverged, Is.True);
        Assert.That(withBad[1].DivergedAtStep, Is.EqualTo(1));
        Assert.That(withBad[1].SeedsDiverged, Is.EqualTo(3));
        Assert.That(withBad[1].FinalLoss, Is.EqualTo(double.PositiveInfinity));
        // Batched kernels may round differently for another population size, hence "close", not "equal".
        AssertClose([withBad[0], withBad[2]], without, 1e-6);
    }

    [Test]
    public void Run_SameInputsTwice_GivesIdenticalResults()
    {
        var family = OptimizeeRegistry.Family("logreg");
        var settings = new RolloutSettings(25, [5, 6]);
        Assert.That(PopulationRollout.Run(Mixed(), family, settings), Is.EqualTo(PopulationRollout.Run(Mixed(), family, settings)));
    }

    [Test]
    public void Run_MoreSteps_LowersAdamsFinalLossOnQuadratic()
    {
        var family = OptimizeeRegistry.Family("quadratic");
        var shortRun = PopulationRollout.Run([Adam(0.05)], family, new RolloutSettings(5, [1]));
        var longRun = PopulationRollout.Run([Adam(0.05)], family, new RolloutSettings(200, [1]));
        Assert.That(longRun[0].FinalLoss, Is.LessThan(shortRun[0].FinalLoss * 0.5));
    }

    [Test]
    public void Run_NoSeeds_Throws()
    {
        Assert.Throws<ArgumentException>(() => PopulationRollout.Run([G], OptimizeeRegistry.Family("quadratic"), new RolloutSettings(5, [])));
    }

    [Test]
    public void Run_CancelledToken_StopsWithOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            PopulationRollout.Run([G], OptimizeeRegistry.Family("quadratic"), new RolloutSettings(5, [1]), ct: cts.Token));
    }
}
