using L2OEvolve.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class ExportCommandTests
{
    private string _dir = "";
    private TextWriter _stderr = null!;
    private StringWriter _err = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "l2o-export-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _stderr = Console.Error;
        _err = new StringWriter();
        Console.SetError(_err);
    }

    [TearDown]
    public void TearDown()
    {
        Console.SetError(_stderr);
        Directory.Delete(_dir, recursive: true);
    }

    [TestCase("pytorch", "class Momentum(torch.optim.Optimizer):")]
    [TestCase("torchsharp", "public sealed class MomentumOptimizer : IDisposable")]
    [TestCase("sympy", "expr = ")]
    [TestCase("latex", @"\Delta\theta = ")]
    public async Task Export_ShippedRule_WritesTheFormat(string format, string expected)
    {
        var rule = Path.Combine(_dir, "momentum.rule.json");
        File.WriteAllText(rule, """{"rule": "-0.1 * ema(0.9, g)"}""");
        var outFile = Path.Combine(_dir, "sub", "out.txt");
        int code = await CliApp.RunAsync(["export", "--rule", rule, "--to", format, "--out", outFile]);
        Assert.That(code, Is.EqualTo(0), _err.ToString());
        Assert.That(File.ReadAllText(outFile), Does.Contain(expected));
    }

    [Test]
    public async Task Export_UnknownFormat_FailsNamingTheChoices()
    {
        var rule = Path.Combine(_dir, "r.rule.json");
        File.WriteAllText(rule, """{"rule": "-0.1 * g"}""");
        Assert.That(await CliApp.RunAsync(["export", "--rule", rule, "--to", "onnx"]), Is.EqualTo(2));
        Assert.That(_err.ToString(), Does.Contain("expected latex, sympy, torchsharp or pytorch"));
    }
}
