using L2OEvolve.Cli.Commands;
namespace L2OEvolve.Torch.Tests.Cli;

public class ScoreCommandTests
{
    [TestCase("x0 * x1 + 0.5")]
    [TestCase("plus(mult(x0, x1), 0.5)")]
    public void Score_ExactEquationInfixOrPySrPrefix_PrintsFloatRoundoffMseAndR2One(string equation)
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        var (code, stdout, stderr) = cli.Run("score", "--data", data, "--equation", equation);
        Assert.That(code, Is.Zero, stderr);
        var mse = double.Parse(stdout.Split('\n').Single(l => l.StartsWith("MSE"))[3..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(mse, Is.LessThan(1e-12), "the data is float32, so only round-off remains");
        Assert.That(stdout, Does.Contain("R2       1.000000"));
    }

    [Test]
    public void Score_ConstantMean_HasR2Zero()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        var lines = File.ReadAllLines(data).Skip(1).Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
        float mean = (float)lines.Average();
        var (code, stdout, _) = cli.Run("score", "--data", data, "--target", "y", "--equation", mean.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + " + 0 * x0");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Match(@"R2\s+-?0\.0000"));
    }

    [Test]
    public void Score_UnparsableEquation_CleanErrorNonZero()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("score", "--data", data, "--equation", "x0 * * x1");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith("error: --equation"));
    }

    [Test]
    public void Score_UnknownVariable_CleanErrorNamingIt()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("score", "--data", data, "--equation", "x7 + 1");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("x7"));
    }
}
