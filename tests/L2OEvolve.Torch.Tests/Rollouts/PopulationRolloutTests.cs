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

    private static IOptimizeeFamily Family(string optimizee, TinyMnist data) =>
        OptimizeeRegistry.Family(optimizee, new OptimizeeOptions(DataDir: data.Dir, BatchSize: 24));

    private static long[] Bits(RolloutResult r) => [BitConverter.DoubleToInt64Bits(r.FinalLoss), BitConverter.DoubleToInt64Bits(r.MeanLoss)];

    // A search's cache and a resumed search's batches differ, so a candidate's score must not depend on its batch.
    [TestCase("mlp-fashion")]
    [TestCase("mlp-mnist-rp")]
    [TestCase("logreg")]
    [TestCase("quadratic")]
    public void Run_CandidateAloneOrInBatchesOfAnySizeAndOrder_GivesTheSameBits(string optimizee)
    {
        using var data = new TinyMnist(n: 96);
        var family = Family(optimizee, data);
        var settings = new RolloutSettings(12, [3, 4]);
        var rules = Mixed();
        var alone = rules.Select(r => Bits(PopulationRollout.Run([r], family, settings)[0])).ToArray();
        var filler = Enumerable.Range(0, 40).Select(k => Mul(C(-0.001 * (k + 1)), G)).ToList();
        // Indices into rules; a negative index -1 - k is filler k.
        List<int[]> batches = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0], [3, -1, -2, 1, -3, -4, -5, 4, 0, 2]];
        batches.Add([.. Enumerable.Range(0, 37).Select(k => k % 9 == 4 ? k / 9 : -1 - k)]);
        foreach (var batch in batches)
        {
            var population = batch.Select(i => i >= 0 ? rules[i] : filler[-1 - i]).ToList();
            var results = PopulationRollout.Run(population, family, settings);
            for (int j = 0; j < batch.Length; j++)
                if (batch[j] >= 0)
                    Assert.That(Bits(results[j]), Is.EqualTo(alone[batch[j]]), $"rule {batch[j]} at position {j} of a batch of {batch.Length}");
        }
    }

    [TestCase("mlp-fashion")]
    [TestCase("logreg")]
    public void Run_AnyLibtorchThreadCount_GivesTheSameBits(string optimizee)
    {
        using var data = new TinyMnist(n: 96);
        var family = Family(optimizee, data);
        var settings = new RolloutSettings(12, [5]);
        int before = TorchSharp.torch.get_num_threads();
        try
        {
            var runs = new[] { 1, 2, 3 }.Select(t =>
            {
                TorchSharp.torch.set_num_threads(t);
                PopulationRollout.Workers = t;
                return PopulationRollout.Run(Mixed(), family, settings).SelectMany(Bits).ToArray();
            }).ToArray();
            Assert.That(runs[1], Is.EqualTo(runs[0]), "2 threads versus 1");
            Assert.That(runs[2], Is.EqualTo(runs[0]), "3 threads versus 1");
        }
        finally
        {
            TorchSharp.torch.set_num_threads(before);
            PopulationRollout.Workers = 1;
        }
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
        Assert.That(new[] { withBad[0], withBad[2] }, Is.EqualTo(without), "a candidate's bits do not depend on its company");
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
