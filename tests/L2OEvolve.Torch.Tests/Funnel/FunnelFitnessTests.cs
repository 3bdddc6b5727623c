using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Funnel;

namespace L2OEvolve.Torch.Tests.Funnel;

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
    public void Evaluate_ManyMoreRulesThanTheCacheHolds_KeepsAtMostItsCapacityAndRescoresAnEvictedRuleToTheSameBits()
    {
        var f = new FunnelFitness(Imitation(), [new RolloutStage(OptimizeeRegistry.Family("quadratic"), "quadratic", 10, [1])],
            new FunnelSettings(ImitationPass: double.PositiveInfinity), cacheCapacity: 8);
        var rules = Enumerable.Range(1, 40).Select(k => $"-{k} * mt0 / 20").ToArray();
        var first = Score(f, rules[0]);
        foreach (var rule in rules.Skip(1)) Score(f, rule);

        Assert.That(f.RecordCapacity, Is.EqualTo(8));
        Assert.That(f.RecordsHeld, Is.InRange(1, 8), "a long search's records stay within the capacity");
        Assert.That(f.Record(Infix.Parse(rules[0])), Is.Null, "the first rule's record was evicted by the later ones");
        long runs = f.RolloutsRun;
        Assert.That(Score(f, rules[0]), Is.EqualTo(first), "rolled out again, to the same bits");
        Assert.That(f.RolloutsRun, Is.EqualTo(runs + 1));
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
        Assert.That(rules, Is.EquivalentTo(new[] { "-1 * mom5_0", "-1 * mt0", "-1 * sign(mt0)", "-1 * gt0" }.Select(s => Infix.Print(Infix.Parse(s)))));
    }

    [TestCase("0.3")]
    [TestCase("-0.01 * p")]
    public void Evaluate_RuleThatDoesNotReadTheGradient_GetsNoRollout(string rule)
    {
        var f = Funnel(new FunnelSettings(ImitationPass: double.PositiveInfinity));
        var o = Score(f, rule);
        Assert.That(f.RolloutsRun, Is.EqualTo(0));
        Assert.That(f.Refused, Is.EqualTo(1));
        Assert.That(f.Record(Infix.Parse(rule))!.Refused, Does.Contain("gradient"));
        Assert.That(o[0], Is.EqualTo(o[1] + 2.0).Within(1e-12), "scored as untested: a constant drift earns nothing from rollouts");
    }

    [Test]
    public void Evaluate_RuleThatDriftsAtRest_GetsNoRollout()
    {
        // Imitates the teacher well but moves every coordinate by a constant when the gradient is zero.
        var f = Funnel(new FunnelSettings(ImitationPass: double.PositiveInfinity));
        Score(f, "-1 * mt0 + sqrt(exp(tanh(0.41)))");
        Assert.That(f.RolloutsRun, Is.EqualTo(0));
        Assert.That(f.Record(Infix.Parse("-1 * mt0 + sqrt(exp(tanh(0.41)))"))!.Refused, Does.Contain("at rest"));
    }

    [Test]
    public void Evaluate_StepMultipliers_KeepTheBestStepForTheLaterStagesAndTheRule()
    {
        // -0.001 · mt0 is far too small a step for 20 quadratic steps at scale 0.01; ×100 helps most.
        var f = Funnel(new FunnelSettings(ImitationPass: double.PositiveInfinity, StepMultipliers: [1, 100]));
        Score(f, "-0.001 * mt0");
        var tree = Infix.Parse("-0.001 * mt0");
        Assert.That(f.Record(tree)!.Multiplier, Is.EqualTo(100));
        Assert.That(f.StepSize(tree), Is.EqualTo(0.01 * 100).Within(1e-12));
        var rule = f.Rule(tree, "r", "");
        Assert.That(rule.Lr, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(rule.Rule, Is.EqualTo(tree), "the step stays the rule's lr, apart from its expression");
        Assert.That(f.RolloutsRun, Is.EqualTo(3), "two multipliers on stage 1, the chosen one on stage 2");
    }

    [Test]
    public void Evaluate_StageNotReached_CountsAsTheLastScorePlusTheUntestedPenalty()
    {
        var f = Funnel(new FunnelSettings(ImitationPass: double.PositiveInfinity));
        var stages = f.Stages;
        var strict = new FunnelFitness(Imitation(), [stages[0] with { PassBelow = 0.0 }, stages[1]], new FunnelSettings(ImitationPass: double.PositiveInfinity));
        var o = Score(strict, "-1 * mt0");
        Assert.That(double.IsNaN(o[3]), Is.True, "stage 2 not reached");
        Assert.That(o[0] - o[1], Is.EqualTo((o[2] + (o[2] + 2.0)) / 2).Within(1e-12));
    }
}
