using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Commands;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Torch.Tests.Daemon.Jobs;

namespace L2OEvolve.Torch.Tests.Daemon.Commands;

public class StatusCommandTests
{
    [Test]
    public void Table_RunningJobWithoutADaemon_ShowsInterruptedAndTheFront()
    {
        using var dir = new TempDir();
        var home = new JobHome(dir.File("home"), PhysicalFileSystem.Instance, Resilience.Io(0, TimeSpan.Zero));
        var spec = Specs.Chain(dir, "a", 20);
        home.WriteAtomically(home.SpecPath("a"), spec.ToJson());
        home.WriteStatus("a", JobProgressTests.Running(5, 100, 10) with { Front = [new(1, 0.5, "x"), new(3, 0.25, "x*c"), new(5, 0.125, "x*x*c")] });

        string table = StatusCommand.Table(home, daemonRunning: false);

        Assert.That(table, Does.Contain("no daemon is running"));
        Assert.That(table, Does.Match(@"a\s+interrupted\s+5\s+100\s+1:5e-1 3:2\.5e-1 5:1\.25e-1\s+10\.0s\s+30\.0s"));
    }

    [Test]
    public void Table_MalformedJobNotYetSeenByTheDaemon_ShowsMalformed()
    {
        using var dir = new TempDir();
        var home = new JobHome(dir.File("home"), PhysicalFileSystem.Instance, Resilience.Io(0, TimeSpan.Zero));
        home.WriteAtomically(home.SpecPath("bad"), "{ \"schema\": 1,");

        Assert.That(StatusCommand.Table(home, daemonRunning: false), Does.Match(@"\nbad\s+malformed\s"));
    }
}
