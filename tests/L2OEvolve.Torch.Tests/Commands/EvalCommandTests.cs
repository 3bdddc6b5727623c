using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class EvalCommandTests
{
    [Test]
    public async Task Eval_Quadratic_WritesCsvSummaryAndPlot()
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        var (code, stdout, stderr) = await cli.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "adam", "--optimizer", "sgd:lr=10",
            "--optimizer", "momentum", "--steps", "20", "--seeds", "3", "--out", outDir]);

        Assert.That(code, Is.EqualTo(0), stderr);
        var losses = File.ReadAllLines(Path.Combine(outDir, "losses.csv"));
        Assert.That(losses[0], Is.EqualTo("optimizer,seed,step,train_loss"));
        Assert.That(losses.Count(l => l.StartsWith("adam,")), Is.EqualTo(20 * 3));
        Assert.That(losses.Count(l => l.StartsWith("momentum,")), Is.EqualTo(20 * 3));
        var summary = File.ReadAllText(Path.Combine(outDir, "summary.md"));
        Assert.That(summary, Does.Contain("| adam |").And.Contain("| momentum |").And.Contain("3/3 (first at step"));
        Assert.That(stdout, Does.Contain("| adam |"));
        var png = File.ReadAllBytes(Path.Combine(outDir, "loss.png"));
        Assert.That(png.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        Assert.That(File.ReadAllLines(Path.Combine(outDir, "runs.csv")), Has.Length.EqualTo(1 + 3 * 3));
    }

    [Test]
    public async Task Eval_TinyMnistWithLrTuning_ReportsTunedRateAndAccuracy()
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        using var tiny = new TinyMnist(n: 40);
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "mlp-mnist-dm", "--optimizer", "sgd", "--data-dir", tiny.Dir,
            "--steps", "8", "--seeds", "2", "--batch", "8", "--tune-lr", "--tune-seeds", "1", "--lr-points", "3", "--out", outDir]);

        Assert.That(code, Is.EqualTo(0), stderr);
        var summary = File.ReadAllText(Path.Combine(outDir, "summary.md"));
        Assert.That(summary, Does.Contain("lr-tuned: lr=").And.Contain("eval accuracy").And.Contain(tiny.Dir));
        Assert.That(stderr, Does.Contain("tuned lr ="));
    }

    [Test]
    public async Task Eval_UnknownOptimizer_FailsWithExitCode2NamingIt()
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "adagrad", "--steps", "5", "--seeds", "1", "--out", outDir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("unknown optimizer 'adagrad'"));
    }

    [TestCase("{\n  \"rule\": \"-0.01 * g +\"\n}", "$.rule, column 12")]
    [TestCase("{\n  \"rule\": \"-0.01 * foo\"\n}", "unknown feature 'foo'")]
    [TestCase("", "line 1, column 1: malformed JSON")]
    public async Task Eval_MalformedRuleFile_FailsWithExitCode2NamingFileAndPlaceWithoutStackTrace(string json, string expected)
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        Directory.CreateDirectory(outDir);
        var rule = Path.Combine(outDir, "bad.rule.json");
        File.WriteAllText(rule, json);
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", rule, "--steps", "5", "--seeds", "1", "--out", outDir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain($"{rule}: ").And.Contain(expected).And.Not.Contain("   at "));
    }

    [Test]
    public async Task Eval_MissingRuleFile_FailsWithExitCode2NamingIt()
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        var rule = Path.Combine(outDir, "absent.rule.json");
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", rule, "--steps", "5", "--seeds", "1", "--out", outDir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain($"{rule}: rule file not found"));
    }

    [TestCase("--batch", "0", "--batch must be at least 1")]
    [TestCase("--threads", "-2", "--threads must be 0")]
    [TestCase("--seeds", "0", "--seeds must be at least 1")]
    public async Task Eval_OutOfRangeNumber_FailsWithExitCode2NamingTheOption(string option, string value, string expected)
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "sgd", "--steps", "5", option, value, "--out", outDir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(expected));
    }

    [Test]
    public async Task Eval_MissingData_FailsNamingThePathsLookedIn()
    {
        using var cli = new CliRunner();
        var outDir = cli.PathOf("out");
        var empty = Path.Combine(outDir, "empty");
        var (code, _, stderr) = await cli.RunAsync(["eval", "--optimizee", "mlp-fashion", "--optimizer", "sgd", "--data-dir", empty, "--steps", "5", "--seeds", "1", "--out", outDir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(Path.Combine(empty, "train-images-idx3-ubyte.gz")));
    }
}
