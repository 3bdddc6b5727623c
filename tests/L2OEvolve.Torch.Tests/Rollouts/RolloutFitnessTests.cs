using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rollouts;

namespace L2OEvolve.Torch.Tests.Rollouts;

public class RolloutFitnessTests
{
    private static readonly FitnessRequest Request = new(1, 0, 0);

    [Test]
    public void Evaluate_BadAndGoodRules_ScoresGoodBelowBaselineAndBadAsInfinite()
    {
        var fitness = new RolloutFitness(OptimizeeRegistry.Family("quadratic"), new RolloutSettings(50, [1, 2]), maxPopulation: 2);
        Expr[] candidates =
        [
            Infix.Parse("-0.01 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)"),
            Infix.Parse("-0.01 * unknown"),
            Infix.Parse("exp(10000 * abs(g))"),
            Infix.Parse("-0.02 * g"),
            Infix.Parse("0.05 * g"),
        ];
        var objectives = new double[candidates.Length];
        fitness.Evaluate(candidates, objectives, Request, CancellationToken.None);
        Assert.That(objectives[0], Is.LessThan(fitness.BaselineLoss));
        Assert.That(objectives[3], Is.LessThan(fitness.BaselineLoss));
        Assert.That(objectives[1], Is.EqualTo(double.PositiveInfinity));
        Assert.That(objectives[2], Is.EqualTo(double.PositiveInfinity));
        Assert.That(objectives[4], Is.GreaterThan(fitness.BaselineLoss), "gradient ascent does worse than standing still");
    }

    [Test]
    public void Evaluate_ChunkedOrNot_GivesTheSameScores()
    {
        var settings = new RolloutSettings(30, [3]);
        Expr[] candidates = [Infix.Parse("-0.01 * g"), Infix.Parse("-0.1 * ema(0.9, g)"), Infix.Parse("-0.01 * mt")];
        var small = new double[3];
        var large = new double[3];
        new RolloutFitness(OptimizeeRegistry.Family("quadratic"), settings, maxPopulation: 1).Evaluate(candidates, small, Request, CancellationToken.None);
        new RolloutFitness(OptimizeeRegistry.Family("quadratic"), settings, maxPopulation: 8).Evaluate(candidates, large, Request, CancellationToken.None);
        Assert.That(small, Is.EqualTo(large).Within(1e-5).Percent);
    }
}
