using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Commands;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Daemon.Commands;

public class SubmitCommandTests
{
    [Test]
    public void Submit_TargetR2_IsWrittenToTheJobFile()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("submit", "--home", cli.PathOf("home"), "--name", "j", "--data", data, "--grammar", grammar, "--target-r2", "0.999");
        Assert.That(code, Is.Zero, stderr);
        var home = new JobHome(cli.PathOf("home"), PhysicalFileSystem.Instance, Resilience.Io(0, TimeSpan.Zero));
        Assert.That(home.ReadSpec("j").Spec!.Budget.TargetR2, Is.EqualTo(0.999));
    }

    [Test]
    public void Submit_TargetR2AboveOne_IsRejectedNamingTheOption()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("submit", "--home", cli.PathOf("home"), "--name", "j", "--data", data, "--grammar", grammar, "--target-r2", "2");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("--target-r2: must be a number at most 1"));
        Assert.That(Directory.Exists(cli.PathOf("home")), Is.False, "nothing is written for a rejected job");
    }

    [TestCase("submit")]
    [TestCase("status")]
    [TestCase("daemon")]
    public void JobVerbs_HomeIsAFile_ClearErrorAndTheFileIsLeftAlone(string verb)
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        string before = File.ReadAllText(data);
        string[] args = verb == "submit" ? ["submit", "--home", data, "--name", "j", "--data", data, "--grammar", grammar] : [verb, "--home", data];
        var (code, _, stderr) = cli.Run(args);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("--home").And.Contain("a file, not a directory").And.Not.Contain("   at "));
        Assert.That(File.ReadAllText(data), Is.EqualTo(before));
    }

    [TestCase("status")]
    [TestCase("stop")]
    [TestCase("result")]
    [TestCase("resume")]
    public void ReadingVerbs_MissingHome_ClearErrorAndNothingCreated(string verb)
    {
        using var cli = new CliRunner();
        string[] args = verb == "status" ? [verb, "--home", cli.PathOf("nohome")] : [verb, "--home", cli.PathOf("nohome"), "j"];
        var (code, _, stderr) = cli.Run(args);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith($"error: {cli.PathOf("nohome")}: --home: no such directory"));
        Assert.That(Directory.Exists(cli.PathOf("nohome")), Is.False);
    }
}
