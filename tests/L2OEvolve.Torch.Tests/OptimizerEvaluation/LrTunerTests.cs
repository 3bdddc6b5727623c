using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.OptimizerEvaluation;

public class LrTunerTests
{
    [Test]
    public void Grid_IsLogSpacedFromMinToMax()
    {
        var grid = new LrTuningSettings(1e-4, 1, 9, 10, [1]).Grid();
        Assert.That(grid, Has.Count.EqualTo(9));
        Assert.That(grid[0], Is.EqualTo(1e-4).Within(1e-12));
        Assert.That(grid[^1], Is.EqualTo(1.0).Within(1e-12));
        Assert.That(grid[1] / grid[0], Is.EqualTo(Math.Sqrt(10)).Within(1e-9));
    }

    [Test]
    public void Tune_Sgd_PicksTheGridPointWithTheLowestScore()
    {
        var settings = new LrTuningSettings(1e-3, 10, 5, 60, [100, 101]);
        var result = LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn, "sgd", settings, [0, 1]);

        Assert.That(result.Scores.Select(s => s.Lr), Is.EqualTo(settings.Grid()));
        Assert.That(result.Scores.Single(s => s.Lr == 10).Score, Is.EqualTo(double.PositiveInfinity), "lr 10 diverges on the quadratic");
        Assert.That(result.BestLr, Is.EqualTo(result.Scores.MinBy(s => s.Score).Lr));
        Assert.That(result.BestLr, Is.LessThan(10));
        Assert.That(result.TunedSpec, Does.StartWith("sgd:lr="));
    }

    [Test]
    public void Tune_SeedsOverlappingEvaluation_AreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn,
            "sgd", new LrTuningSettings(1e-3, 1, 3, 5, [0, 7]), [0, 1, 2]));
        Assert.That(ex!.Message, Does.Contain("overlap"));
    }

    [Test]
    public void IsTunable_BuiltInYesUnknownFileNo()
    {
        Assert.That(LrTuner.IsTunable("adam:beta1=0.8", OptimizerRegistry.BuiltIn, CPU), Is.True);
        Assert.That(LrTuner.IsTunable("x.rule.json", OptimizerRegistry.BuiltIn, CPU), Is.False);
    }
}

public class LrTunerHorizonTests
{
    [Test]
    public void Tune_SeveralHorizons_ChoosesEachFromTheFirstStepsOfTheSameRuns()
    {
        var settings = new LrTuningSettings(1e-3, 1, 7, 60, [100, 101], Horizons: [15, 60]);
        var both = LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn, "sgd", settings, [0]);
        var shortOnly = LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn, "sgd", settings with { Steps = 15, Horizons = null }, [0]);

        Assert.That(both.Choices.Select(c => c.Steps), Is.EqualTo(new[] { 15, 60 }));
        Assert.That(both.At(15).Scores, Is.EqualTo(shortOnly.Scores), "a 15-step horizon read off 60-step runs equals 15-step runs");
        Assert.That(both.BestLr, Is.EqualTo(both.At(60).BestLr));
    }

    [Test]
    public void Tune_BestAtTheGridEdge_GrowsTheGridUntilItIsInterior()
    {
        // SGD on the quadratic wants a rate near 0.1; a grid from 1e-5 to 1e-4 holds it at its top edge.
        var settings = new LrTuningSettings(1e-5, 1e-4, 5, 40, [100], MaxExtensions: 12);
        var result = LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn, "sgd", settings, [0]);

        var choice = result.At(40);
        Assert.That(choice.AtEdge, Is.False, $"chosen {choice.BestLr} from {string.Join(", ", choice.Scores.Select(s => s.Lr.ToString("G3")))}");
        Assert.That(choice.BestLr, Is.GreaterThan(1e-4));
        var rates = choice.Scores.Select(s => s.Lr).ToArray();
        Assert.That(rates, Is.Ordered);
        Assert.That(rates.Zip(rates.Skip(1), (a, b) => Math.Log10(b / a)), Has.All.EqualTo(0.25).Within(1e-9), "the grid stays evenly spaced as it grows");
    }

    [Test]
    public void Tune_WithoutExtensions_ReportsABestRateAtTheEdge()
    {
        var result = LrTuner.Tune(OptimizeeRegistry.Family("quadratic"), CPU, OptimizerRegistry.BuiltIn, "sgd",
            new LrTuningSettings(1e-5, 1e-4, 3, 20, [100]), [0]);
        Assert.That(result.At(20).AtEdge, Is.True);
        Assert.That(result.BestLr, Is.EqualTo(1e-4).Within(1e-12));
    }

    [Test]
    public void Around_CentresTheGridOnTheDefaultRateInLogSpace()
    {
        var grid = LrTuningSettings.Around(1e-3, 2, 17, 10, [1]).Grid();
        Assert.That(grid, Has.Count.EqualTo(17));
        Assert.That(grid[8], Is.EqualTo(1e-3).Within(1e-12));
        Assert.That(grid[0], Is.EqualTo(1e-4).Within(1e-12));
        Assert.That(grid[^1], Is.EqualTo(1e-2).Within(1e-12));
    }

    [TestCase("adam", 0.001)]
    [TestCase("sgd:lr=0.3", 0.3)]
    [TestCase("lion", 1e-4)]
    [TestCase("not-an-optimizer", 1.0)]
    public void DefaultLr_IsTheSpecsOwnRate(string spec, double expected) =>
        Assert.That(LrTuner.DefaultLr(spec), Is.EqualTo(expected));

    [Test]
    public void IsTunable_ShippedRuleFilesYes()
    {
        var registry = OptimizerRegistry.BuiltIn.With(L2OEvolve.Torch.Rules.RuleFile.TryResolveShipped);
        Assert.That(LrTuner.IsTunable("lion", registry, CPU), Is.True);
    }
}
