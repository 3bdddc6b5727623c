using L2OEvolve.Torch.Evaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Evaluation;

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
