using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class ExportCommandTests
{
    [TestCase("pytorch", "class Momentum(torch.optim.Optimizer):")]
    [TestCase("torchsharp", "public sealed class MomentumOptimizer : IDisposable")]
    [TestCase("sympy", "expr = ")]
    [TestCase("latex", @"\Delta\theta = ")]
    public async Task Export_ShippedRule_WritesTheFormat(string format, string expected)
    {
        using var cli = new CliRunner();
        var rule = cli.PathOf("momentum.rule.json");
        File.WriteAllText(rule, """{"rule": "-0.1 * ema(0.9, g)"}""");
        var outFile = cli.PathOf(Path.Combine("sub", "out.txt"));
        var (code, _, stderr) = await cli.RunAsync("export", "--rule", rule, "--to", format, "--out", outFile);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(File.ReadAllText(outFile), Does.Contain(expected));
    }

    [Test]
    public async Task Export_UnknownFormat_FailsNamingTheChoices()
    {
        using var cli = new CliRunner();
        var rule = cli.PathOf("r.rule.json");
        File.WriteAllText(rule, """{"rule": "-0.1 * g"}""");
        var (code, _, stderr) = await cli.RunAsync("export", "--rule", rule, "--to", "onnx");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("expected latex, sympy, torchsharp or pytorch"));
    }
}
