using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Pipeline;

namespace L2OEvolve.Torch.Tests.Pipeline;

public class FunnelFitnessTests
{
    // Imitation data where the teacher's raw output is exactly -mt0.
    private static MseFitness Imitation()
    {
        var rng = new Rng(3);
        var mt = Enumerable.Range(0, 256).Select(_ => (float)rng.NextGaussian()).ToArray();
        return MseFitness.Rows(["mt0"], [mt], [.. mt.Select(x => -x)]);
    }

    private static FunnelFitness Funnel(FunnelSettings? settings = null) => new(Imitation(),
        [
            new RolloutStage(OptimizeeRegistry.Family("quadratic"), "quadratic", 20, [1, 2]),
            new RolloutStage(OptimizeeRegistry.Family("logreg"), "logreg", 40, [3]),
        ], settings);

    private static double[] Score(FunnelFitness f, params string[] rules)
    {
        var trees = rules.Select(Infix.Parse).ToArray();
        var o = new double[trees.Length * f.ObjectiveCount];
        f.Evaluate(trees, o, new FitnessRequest(1, 0, 0), CancellationToken.None);
        return o;
    }

    [Test]
    public void Evaluate_GoodImitator_PassesBothStagesAndBeatsABadOne()
    {
        var f = Funnel();
        var o = Score(f, "-1 * mt0", "mt0");
        int k = f.ObjectiveCount;
        Assert.That(o[1], Is.EqualTo(0).Within(1e-9), "exact imitation");
        Assert.That(o[2], Is.LessThan(0.9), "stage 1 progress");
        Assert.That(double.IsNaN(o[3]), Is.False, "reached stage 2");
        Assert.That(o[k + 1], Is.GreaterThan(1), "the ascent rule imitates badly");
        Assert.That(double.IsNaN(o[k + 2]), Is.True, "and gets no rollout");
        Assert.That(o[0], Is.LessThan(o[k]));
        Assert.That(f.RolloutsRun, Is.EqualTo(2), "one candidate, two stages");
    }

    [Test]
    public void Evaluate_SameRuleAgain_UsesTheCache()
    {
        var f = Funnel();
        var first = Score(f, "-1 * mt0");
        long runs = f.RolloutsRun;
        var again = Score(f, "-1 * mt0", "-1 * mt0");
        Assert.That(f.RolloutsRun, Is.EqualTo(runs));
        Assert.That(again.Take(first.Length), Is.EqualTo(first));
    }

    [Test]
    public void Evaluate_DivergingRule_IsScoredAsDivergedNotThrown()
    {
        var f = Funnel(new FunnelSettings(ImitationPass: double.PositiveInfinity, DivergedScore: 10));
        var o = Score(f, "-1000000 * mt0");
        Assert.That(o[2], Is.EqualTo(10));
        Assert.That(o[0], Is.GreaterThan(10));
    }

    [Test]
    public void WarmStarts_RecordedFeatures_GiveSignCorrectBaseRules()
    {
        var rules = FunnelFitness.WarmStarts(["mt0", "gt0", "mt1", "mom5_0"]).Select(Infix.Print).ToArray();
        Assert.That(rules, Is.EquivalentTo(new[] { "-1 * mom5_0", "-1 * mt0", "-1 * gt0" }.Select(s => Infix.Print(Infix.Parse(s)))));
    }
}
