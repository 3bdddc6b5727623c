using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Commands;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace L2OEvolve.Torch.Tests.Daemon.Commands;

public class ResumeCommandTests
{
    private static JobHome Home(TempDir dir) => new(dir.File("home"), PhysicalFileSystem.Instance, Resilience.Io(0, TimeSpan.Zero));

    private static JobRunner Runner(JobHome home, ChainJobFactory factory) =>
        new(home, new JobFactories([factory]), new DaemonOptions { Home = home.Root, CheckpointEveryGenerations = 5, KeepCheckpoints = 3 }, NullLogger.Instance);

    [Test]
    public async Task Resume_StoppedJob_CarriesOnFromItsCheckpointToTheUninterruptedResult()
    {
        using var straightDir = new TempDir();
        var straightHome = Home(straightDir);
        Specs.Submit(straightHome, Specs.Chain(straightDir, "a", 20));
        await Runner(straightHome, new ChainJobFactory()).RunAsync("a", CancellationToken.None);

        using var dir = new TempDir();
        var home = Home(dir);
        var stopping = new ChainJobFactory { BeforeStep = (g, _) => { if (g == 7) File.WriteAllText(home.StopPath("a"), "now"); } };
        Specs.Submit(home, Specs.Chain(dir, "a", 20));
        await Runner(home, stopping).RunAsync("a", CancellationToken.None);
        Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Stopped));

        Assert.That(ResumeCommand.Resume(home, "a"), Is.Zero);
        Assert.That(File.Exists(home.StopPath("a")), Is.False, "the stop request is cleared");
        Assert.That(home.ReadStatus("a").IsTerminal, Is.False, "the daemon's scheduler runs it again");

        await Runner(home, new ChainJobFactory()).RunAsync("a", CancellationToken.None);
        Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Finished));
        Assert.That(home.ReadStatus("a").Generation, Is.EqualTo(20));
        Assert.That(Specs.ChainValue(home, "a"), Is.EqualTo(Specs.ChainValue(straightHome, "a")));
    }

    [Test]
    public void Resume_StopRequestedButNotYetActedOn_WithdrawsTheRequest()
    {
        using var dir = new TempDir();
        var home = Home(dir);
        Specs.Submit(home, Specs.Chain(dir, "a", 20));
        home.WriteStatus("a", JobStatus.Initial with { State = JobState.Running });
        File.WriteAllText(home.StopPath("a"), "now");

        Assert.That(ResumeCommand.Resume(home, "a"), Is.Zero);
        Assert.That(File.Exists(home.StopPath("a")), Is.False);
        Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Running));
    }

    [TestCase(JobState.Finished)]
    [TestCase(JobState.Failed)]
    [TestCase(JobState.Running)]
    public void Resume_JobNotStopped_IsRefusedAndLeftAlone(JobState state)
    {
        using var dir = new TempDir();
        var home = Home(dir);
        Specs.Submit(home, Specs.Chain(dir, "a", 20));
        var before = JobStatus.Initial with { State = state, Generation = 20 };
        home.WriteStatus("a", before);

        Assert.That(ResumeCommand.Resume(home, "a"), Is.EqualTo(CommandErrors.BadInput));
        Assert.That((home.ReadStatus("a").State, home.ReadStatus("a").Generation), Is.EqualTo((state, 20L)));
    }

    [Test]
    public void Resume_UnknownJob_IsBadInput()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<L2OEvolve.Engine.InputException>(() => ResumeCommand.Resume(Home(dir), "ghost"))!;
        Assert.That(e.Message, Does.StartWith("no job 'ghost' in "));
    }
}
