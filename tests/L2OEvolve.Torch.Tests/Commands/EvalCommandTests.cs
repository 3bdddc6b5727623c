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

    [Test]
    public async Task Eval_MissingData_FailsNamingThePathsLookedIn()
    {
        var empty = Path.Combine(_out, "empty");
        int code = await CliApp.RunAsync(["eval", "--optimizee", "mlp-fashion", "--optimizer", "sgd", "--data-dir", empty, "--steps", "5", "--seeds", "1", "--out", _out]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(_capturedErr.ToString(), Does.Contain(Path.Combine(empty, "train-images-idx3-ubyte.gz")));
    }
}
