using L2OEvolve.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class EvalCommandTests
{
    private string _out = "";
    private TextWriter _stdout = null!, _stderr = null!;
    private StringWriter _capturedOut = null!, _capturedErr = null!;

    [SetUp]
    public void SetUp()
    {
        _out = Path.Combine(Path.GetTempPath(), "l2o-eval-" + Guid.NewGuid().ToString("N"));
        (_stdout, _stderr) = (Console.Out, Console.Error);
        (_capturedOut, _capturedErr) = (new StringWriter(), new StringWriter());
        Console.SetOut(_capturedOut);
        Console.SetError(_capturedErr);
    }

    [TearDown]
    public void TearDown()
    {
        Console.SetOut(_stdout);
        Console.SetError(_stderr);
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }

    [Test]
    public async Task Eval_Quadratic_WritesCsvSummaryAndPlot()
    {
        int code = await CliApp.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "adam", "--optimizer", "sgd:lr=10",
            "--optimizer", "momentum", "--steps", "20", "--seeds", "3", "--out", _out]);

        Assert.That(code, Is.EqualTo(0), _capturedErr.ToString());
        var losses = File.ReadAllLines(Path.Combine(_out, "losses.csv"));
        Assert.That(losses[0], Is.EqualTo("optimizer,seed,step,train_loss"));
        Assert.That(losses.Count(l => l.StartsWith("adam,")), Is.EqualTo(20 * 3));
        Assert.That(losses.Count(l => l.StartsWith("momentum,")), Is.EqualTo(20 * 3));
        var summary = File.ReadAllText(Path.Combine(_out, "summary.md"));
        Assert.That(summary, Does.Contain("| adam |").And.Contain("| momentum |").And.Contain("3/3 (first at step"));
        Assert.That(_capturedOut.ToString(), Does.Contain("| adam |"));
        var png = File.ReadAllBytes(Path.Combine(_out, "loss.png"));
        Assert.That(png.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        Assert.That(File.ReadAllLines(Path.Combine(_out, "runs.csv")), Has.Length.EqualTo(1 + 3 * 3));
    }

    [Test]
    public async Task Eval_TinyMnistWithLrTuning_ReportsTunedRateAndAccuracy()
    {
        using var tiny = new TinyMnist(n: 40);
        int code = await CliApp.RunAsync(["eval", "--optimizee", "mlp-mnist-dm", "--optimizer", "sgd", "--data-dir", tiny.Dir,
            "--steps", "8", "--seeds", "2", "--batch", "8", "--tune-lr", "--tune-seeds", "1", "--lr-points", "3", "--out", _out]);

        Assert.That(code, Is.EqualTo(0), _capturedErr.ToString());
        var summary = File.ReadAllText(Path.Combine(_out, "summary.md"));
        Assert.That(summary, Does.Contain("lr-tuned: lr=").And.Contain("eval accuracy").And.Contain(tiny.Dir));
        Assert.That(_capturedErr.ToString(), Does.Contain("tuned lr ="));
    }

    [Test]
    public async Task Eval_UnknownOptimizer_FailsWithExitCode2NamingIt()
    {
        int code = await CliApp.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "adagrad", "--steps", "5", "--seeds", "1", "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain("unknown optimizer 'adagrad'"));
    }

    [TestCase("{\n  \"rule\": \"-0.01 * g +\"\n}", "$.rule, column 12")]
    [TestCase("{\n  \"rule\": \"-0.01 * foo\"\n}", "unknown feature 'foo'")]
    [TestCase("", "line 1, column 1: malformed JSON")]
    public async Task Eval_MalformedRuleFile_FailsWithExitCode2NamingFileAndPlaceWithoutStackTrace(string json, string expected)
    {
        Directory.CreateDirectory(_out);
        var rule = Path.Combine(_out, "bad.rule.json");
        File.WriteAllText(rule, json);
        int code = await CliApp.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", rule, "--steps", "5", "--seeds", "1", "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain($"{rule}: ").And.Contain(expected).And.Not.Contain("   at "));
    }

    [Test]
    public async Task Eval_MissingRuleFile_FailsWithExitCode2NamingIt()
    {
        var rule = Path.Combine(_out, "absent.rule.json");
        int code = await CliApp.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", rule, "--steps", "5", "--seeds", "1", "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain($"{rule}: cannot read the rule file"));
    }

    [TestCase("--batch", "0", "--batch must be at least 1")]
    [TestCase("--threads", "-2", "--threads must be 0")]
    [TestCase("--seeds", "0", "--seeds must be at least 1")]
    public async Task Eval_OutOfRangeNumber_FailsWithExitCode2NamingTheOption(string option, string value, string expected)
    {
        int code = await CliApp.RunAsync(["eval", "--optimizee", "quadratic", "--optimizer", "sgd", "--steps", "5", option, value, "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain(expected));
    }

    [Test]
    public async Task Eval_MissingData_FailsNamingThePathsLookedIn()
    {
        var empty = Path.Combine(_out, "empty");
        int code = await CliApp.RunAsync(["eval", "--optimizee", "mlp-fashion", "--optimizer", "sgd", "--data-dir", empty, "--steps", "5", "--seeds", "1", "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain(Path.Combine(empty, "train-images-idx3-ubyte.gz")));
    }
}
