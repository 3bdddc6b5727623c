using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tests.Cli;
using L2OEvolve.Torch.Tuning;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class TuneCommandTests
{
    private static string Rule(CliRunner cli, string infix)
    {
        var path = cli.PathOf("r.rule.json");
        File.WriteAllText(path, $"{{\"name\": \"r\", \"rule\": \"{infix}\"}}");
        return path;
    }

    private static Task<(int Code, string Out, string Err)> Tune(CliRunner cli, string rule, params string[] extra) => cli.RunAsync(
        ["tune", "--rule", rule, "--optimizee", "quadratic", "--steps", "20", "--unroll", "5", "--eval-seeds", "1", "--out", cli.PathOf("out"), .. extra]);

    [Test]
    public async Task Tune_ThenMoreEpochs_ResumesAndWritesRuleCsvAndCheckpoint()
    {
        using var cli = new CliRunner();
        var rule = Rule(cli, "-0.001 * g");
        var outDir = cli.PathOf("out");
        var first = await Tune(cli, rule, "--epochs", "2");
        Assert.That(first.Code, Is.EqualTo(0), first.Err);
        var second = await Tune(cli, rule, "--epochs", "3");
        Assert.That(second.Code, Is.EqualTo(0), second.Err);

        Assert.That(second.Err, Does.Contain("resuming").And.Contain("after epoch 2/3").And.Contain("ETA"));
        var csv = File.ReadAllLines(Path.Combine(outDir, TuneStore.ConstantsFile));
        Assert.That(csv[0], Is.EqualTo("epoch,optimizee_seed,meta_loss,windows,skipped,seconds,c0"));
        Assert.That(csv, Has.Length.EqualTo(1 + 1 + 3));
        var tuned = RuleFile.Load(Path.Combine(outDir, TuneStore.TunedRuleFile));
        Assert.That(tuned.Name, Is.EqualTo("r-tuned"));
        Assert.That(tuned.Rule.Constants()[0], Is.LessThan(-0.001), "the tuned rule is still descent and takes larger steps");
        Assert.That(TuneStore.TryRead(outDir)!.Progress.Epoch, Is.EqualTo(3));
        Assert.That(second.Out, Does.Contain("tuned rule:").And.Contain("meta-loss per window"));
    }

    [Test]
    public async Task Tune_ExistingCheckpointUnderOtherSettings_FailsNamingTheFields()
    {
        using var cli = new CliRunner();
        var rule = Rule(cli, "-0.001 * g");
        var first = await Tune(cli, rule, "--epochs", "1");
        Assert.That(first.Code, Is.EqualTo(0), first.Err);
        var (code, _, stderr) = await Tune(cli, rule, "--epochs", "1", "--seed", "7", "--lr", "0.05");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("seed: 0 → 7").And.Contain("lr: 0.01 → 0.05"));
    }

    [Test]
    public async Task Tune_RuleWithoutMinusSign_WarnsAboutTheSign()
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = await Tune(cli, Rule(cli, "0.01 * g"), "--epochs", "1");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("docs/symbolic-l2o.md, 'The sign of the update'"));
    }

    [Test]
    public async Task Tune_RuleWithoutConstants_FailsClearly()
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = await Tune(cli, Rule(cli, "neg(g)"), "--epochs", "1");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("no constants to tune"));
    }
}
