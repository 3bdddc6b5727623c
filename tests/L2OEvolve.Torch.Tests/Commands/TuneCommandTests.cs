using L2OEvolve.Cli;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tuning;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class TuneCommandTests
{
    private string _dir = "";
    private TextWriter _stdout = null!, _stderr = null!;
    private StringWriter _out = null!, _err = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "l2o-tune-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        (_stdout, _stderr) = (Console.Out, Console.Error);
        (_out, _err) = (new StringWriter(), new StringWriter());
        Console.SetOut(_out);
        Console.SetError(_err);
    }

    [TearDown]
    public void TearDown()
    {
        Console.SetOut(_stdout);
        Console.SetError(_stderr);
        Directory.Delete(_dir, recursive: true);
    }

    private string Rule(string infix)
    {
        var path = Path.Combine(_dir, "r.rule.json");
        File.WriteAllText(path, $"{{\"name\": \"r\", \"rule\": \"{infix}\"}}");
        return path;
    }

    private Task<int> Tune(string rule, string outDir, params string[] extra) => CliApp.RunAsync(
        ["tune", "--rule", rule, "--optimizee", "quadratic", "--steps", "20", "--unroll", "5", "--eval-seeds", "1", "--out", outDir, .. extra]);

    [Test]
    public async Task Tune_ThenMoreEpochs_ResumesAndWritesRuleCsvAndCheckpoint()
    {
        var rule = Rule("-0.001 * g");
        var outDir = Path.Combine(_dir, "out");
        Assert.That(await Tune(rule, outDir, "--epochs", "2"), Is.EqualTo(0), _err.ToString());
        Assert.That(await Tune(rule, outDir, "--epochs", "3"), Is.EqualTo(0), _err.ToString());

        Assert.That(_err.ToString(), Does.Contain("resuming").And.Contain("after epoch 2/3").And.Contain("ETA"));
        var csv = File.ReadAllLines(Path.Combine(outDir, TuneStore.ConstantsFile));
        Assert.That(csv[0], Is.EqualTo("epoch,optimizee_seed,meta_loss,windows,skipped,seconds,c0"));
        Assert.That(csv, Has.Length.EqualTo(1 + 1 + 3));
        var tuned = RuleFile.Load(Path.Combine(outDir, TuneStore.TunedRuleFile));
        Assert.That(tuned.Name, Is.EqualTo("r-tuned"));
        Assert.That(tuned.Rule.Constants()[0], Is.LessThan(-0.001), "the tuned rule is still descent and takes larger steps");
        Assert.That(TuneStore.TryRead(outDir)!.Progress.Epoch, Is.EqualTo(3));
        Assert.That(_out.ToString(), Does.Contain("tuned rule:").And.Contain("meta-loss per window"));
    }

    [Test]
    public async Task Tune_ExistingCheckpointUnderOtherSettings_FailsNamingTheFields()
    {
        var rule = Rule("-0.001 * g");
        var outDir = Path.Combine(_dir, "out");
        Assert.That(await Tune(rule, outDir, "--epochs", "1"), Is.EqualTo(0), _err.ToString());
        Assert.That(await Tune(rule, outDir, "--epochs", "1", "--seed", "7", "--lr", "0.05"), Is.EqualTo(2), _err.ToString());
        Assert.That(_err.ToString(), Does.Contain("seed: 0 → 7").And.Contain("lr: 0.01 → 0.05"));
    }

    [Test]
    public async Task Tune_RuleWithoutMinusSign_WarnsAboutTheSign()
    {
        Assert.That(await Tune(Rule("0.01 * g"), Path.Combine(_dir, "out"), "--epochs", "1"), Is.EqualTo(0), _err.ToString());
        Assert.That(_err.ToString(), Does.Contain("SPEC §9 item 13"));
    }

    [Test]
    public async Task Tune_RuleWithoutConstants_FailsClearly()
    {
        Assert.That(await Tune(Rule("neg(g)"), Path.Combine(_dir, "out"), "--epochs", "1"), Is.EqualTo(2));
        Assert.That(_err.ToString(), Does.Contain("no constants to tune"));
    }
}
