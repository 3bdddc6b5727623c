using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Cli.Web;
using L2OEvolve.Torch.Tests.Daemon;
using Polly;

namespace L2OEvolve.Torch.Tests.Web;

/// <summary>Best loss over time as the page plots it: one point per generation seen, bounded, restarting with the job.</summary>
public class JobWatcherTests
{
    private static JobStatus At(long generation, double loss) =>
        new(JobState.Running, generation, generation * 10, generation * 0.5, [new(3, loss, "x")], null, null, DateTimeOffset.UnixEpoch);

    [Test]
    public void Record_KeepsOnePointPerGenerationSeen()
    {
        using var dir = new TempDir();
        var watcher = new JobWatcher(new JobHome(dir.Path, PhysicalFileSystem.Instance, ResiliencePipeline.Empty));

        watcher.Record("a", At(1, 0.9));
        watcher.Record("a", At(1, 0.9));
        watcher.Record("a", At(4, 0.5));

        Assert.That(watcher.History("a").Select(p => (p.Generation, p.BestLoss)), Is.EqualTo(new[] { (1L, 0.9), (4L, 0.5) }));
        Assert.That(watcher.History("b"), Is.Empty);
    }

    [Test]
    public void Record_LongRun_IsThinnedButKeepsTheFirstAndNewestPoints()
    {
        using var dir = new TempDir();
        var watcher = new JobWatcher(new JobHome(dir.Path, PhysicalFileSystem.Instance, ResiliencePipeline.Empty));

        for (int g = 1; g <= 5000; g++) watcher.Record("a", At(g, 1.0 / g));

        var history = watcher.History("a");
        Assert.That(history.Count, Is.LessThanOrEqualTo(JobWatcher.HistoryCap));
        Assert.That(history[0].Generation, Is.EqualTo(1));
        Assert.That(history[^1].Generation, Is.EqualTo(5000));
        Assert.That(history.Select(p => p.Generation), Is.Ordered.Ascending);
    }

    [Test]
    public void Record_JobResumedFromAnEarlierCheckpoint_RestartsTheCurveThere()
    {
        using var dir = new TempDir();
        var watcher = new JobWatcher(new JobHome(dir.Path, PhysicalFileSystem.Instance, ResiliencePipeline.Empty));

        foreach (var g in new long[] { 1, 2, 3, 4 }) watcher.Record("a", At(g, 1.0 / g));
        watcher.Record("a", At(2, 0.5));

        Assert.That(watcher.History("a").Select(p => p.Generation), Is.EqualTo(new long[] { 1, 2 }));
    }
}
