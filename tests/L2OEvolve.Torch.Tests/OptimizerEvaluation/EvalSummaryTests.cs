using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;

namespace L2OEvolve.Torch.Tests.OptimizerEvaluation;

public class EvalSummaryTests
{
    private static RunResult Run(string opt, float[] losses, int? diverged = null, double evalLoss = 1, double acc = double.NaN) =>
        new(opt, 0, losses, diverged, new OptimizeeEvaluation(evalLoss, acc), 2.0, 1.5, 0.5, losses.Length, 2);

    [Test]
    public void Stat_Of_GivesMeanAndSampleStdIgnoringNonFinite()
    {
        var s = Stat.Of([1, 2, 3, double.NaN, double.PositiveInfinity]);
        Assert.That((s.Mean, s.Std, s.N), Is.EqualTo((2.0, 1.0, 3)));
    }

    [Test]
    public void Summarize_ExcludesDivergedRunsFromLossesButCountsThem()
    {
        var runs = new[]
        {
            Run("a", [4, 2], evalLoss: 1),
            Run("a", [6, 4], evalLoss: 3),
            Run("a", [5, float.NaN], diverged: 2, evalLoss: double.NaN),
        };
        var s = EvalSummary.Summarize(runs).Single();
        Assert.That((s.Runs, s.Diverged, s.FirstDivergedStep), Is.EqualTo((3, 1, (int?)2)));
        Assert.That(s.FinalTrainLoss.Mean, Is.EqualTo(4.0));   // last-10 window = whole run: means 3 and 5
        Assert.That(s.EvalLoss.Mean, Is.EqualTo(2.0));
        Assert.That(s.EvalAccuracy.N, Is.EqualTo(0));
        Assert.That(s.MillisecondsPerStep, Is.EqualTo(1000.0 * 4.5 / 6));
    }

    [Test]
    public void Curves_StepWithOneDivergedRun_AveragesTheFiniteOnes()
    {
        var c = EvalSummary.Curves([Run("a", [2, 4]), Run("a", [4, float.NaN], diverged: 2)]).Single();
        Assert.That(c.Mean, Is.EqualTo(new[] { 3.0, 4.0 }));
    }

    [Test]
    public void Markdown_HasAccuracyColumnOnlyWhenSomeRunHasAccuracy()
    {
        var without = EvalReportWriter.Markdown("t", EvalSummary.Summarize([Run("a", [1f])]));
        var with = EvalReportWriter.Markdown("t", EvalSummary.Summarize([Run("a", [1f], acc: 0.5)]));
        Assert.That(without, Does.Not.Contain("eval accuracy"));
        Assert.That(with, Does.Contain("eval accuracy").And.Contain("0.5 ± 0"));
    }
}
