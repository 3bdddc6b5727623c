using System.Collections.Immutable;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

public class JobRunnerTests
{
    private static DaemonOptions Options(string home) => new()
    {
        Home = home, CheckpointEveryGenerations = 5, KeepCheckpoints = 3, EvaluationAttempts = 3, StatusInterval = TimeSpan.FromMilliseconds(1),
    };

    private static (JobHome Home, JobRunner Runner) Setup(string home, ChainJobFactory factory, IFileSystem? fs = null, DaemonOptions? options = null)
    {
        options ??= Options(home);
        var jobHome = new JobHome(home, fs ?? PhysicalFileSystem.Instance, Resilience.Io(1, TimeSpan.FromMilliseconds(1)));
        var runner = new JobRunner(jobHome, new JobFactories([factory]), options, NullLogger.Instance);
        return (jobHome, runner);
    }

    [Test]
    public async Task RunAsync_GenerationBudget_FinishesWithAFinalCheckpointAndResult()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Specs.Submit(home, Specs.Chain(dir, "a", 12));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.Multiple(() =>
        {
            Assert.That(status.State, Is.EqualTo(JobState.Finished));
            Assert.That(status.Generation, Is.EqualTo(12));
            Assert.That(status.CheckpointGeneration, Is.EqualTo(12));
            Assert.That(home.Checkpoints("a", 3).Files().Select(Path.GetFileName),
                Is.EqualTo(new[] { "ckpt-0000000005.l2ock", "ckpt-0000000010.l2ock", "ckpt-0000000012.l2ock" }));
            Assert.That(File.ReadAllText(home.ResultPath("a")), Does.Contain("after 12 generations"));
        });
    }

    [Test]
    public async Task RunAsync_InterruptedThenResumed_ReachesTheUninterruptedValue()
    {
        using var straightDir = new TempDir();
        var (straightHome, straight) = Setup(straightDir.Path, new ChainJobFactory());
        Specs.Submit(straightHome, Specs.Chain(straightDir, "a", 30));
        await straight.RunAsync("a", CancellationToken.None);

        using var dir = new TempDir();
        using var shutdown = new CancellationTokenSource();
        var interrupting = new ChainJobFactory { BeforeStep = (g, _) => { if (g == 17) shutdown.Cancel(); } };
        var (home, first) = Setup(dir.Path, interrupting);
        Specs.Submit(home, Specs.Chain(dir, "a", 30));
        await first.RunAsync("a", shutdown.Token);
        var mid = home.ReadStatus("a");

        var (_, second) = Setup(dir.Path, new ChainJobFactory());
        await second.RunAsync("a", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(mid.State, Is.EqualTo(JobState.Queued), "a shutdown leaves the job to be resumed");
            Assert.That(mid.CheckpointGeneration, Is.InRange(17, 18), "the shutdown saves the last completed generation");
            Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Finished));
            Assert.That(Specs.ChainValue(home, "a"), Is.EqualTo(Specs.ChainValue(straightHome, "a")));
            Assert.That(File.ReadAllText(home.HallOfFameCsvPath("a")), Is.EqualTo(File.ReadAllText(straightHome.HallOfFameCsvPath("a"))));
        });
    }

    [Test]
    public async Task RunAsync_SettingsChangedSinceCheckpoint_RefusesWithTheChangedFields()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Specs.Submit(home, Specs.Chain(dir, "a", 5));
        await runner.RunAsync("a", CancellationToken.None);
        Specs.Submit(home, Specs.Chain(dir, "a", 10));
        File.WriteAllText(dir.File("grammar.json"), "{\"changed\": true}");

        var (_, changed) = Setup(dir.Path, new ChainJobFactory { Width = "8" });
        await changed.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.That(status.State, Is.EqualTo(JobState.Failed));
        Assert.That(status.Message, Does.Contain("changed incompatibly: grammar.content, settings.width"));
    }

    [Test]
    public async Task RunAsync_BudgetRaisedAfterFinishing_ContinuesFromTheCheckpoint()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Specs.Submit(home, Specs.Chain(dir, "a", 5));
        await runner.RunAsync("a", CancellationToken.None);
        Specs.Submit(home, Specs.Chain(dir, "a", 9));
        await runner.RunAsync("a", CancellationToken.None);
        Assert.That(home.ReadStatus("a").Generation, Is.EqualTo(9));
    }

    [Test]
    public async Task RunAsync_MalformedJobFile_FailsWithFileFieldAndFault()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Directory.CreateDirectory(home.JobDirectory("bad"));
        File.WriteAllText(home.SpecPath("bad"), Specs.Chain(dir, "bad", 5).ToJson().Replace("\"generations\": 5", "\"generations\": \"five\""));

        await runner.RunAsync("bad", CancellationToken.None);

        var status = home.ReadStatus("bad");
        Assert.That(status.State, Is.EqualTo(JobState.Failed));
        Assert.That(status.Message, Does.Contain($"{home.SpecPath("bad")}: field 'generations': expected an integer"));
    }

    [Test]
    public async Task RunAsync_EvaluationsKeepFailing_StopsTheJobWithTheReasonAndKeepsItsState()
    {
        using var dir = new TempDir();
        var broken = new ScriptedFitness((g, _, _) => g < 7 ? g : throw new InvalidOperationException("rollout diverged in native code"));
        var factory = new ChainJobFactory { Fitness = new GuardedFitness(broken, Resilience.Evaluation(TimeSpan.FromSeconds(30), attempts: 3)) };
        var (home, runner) = Setup(dir.Path, factory);
        Specs.Submit(home, Specs.Chain(dir, "a", 20));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.Multiple(() =>
        {
            Assert.That(broken.Calls, Is.EqualTo(7 + 3), "generations 0-6 once, then three attempts at generation 7");
            Assert.That(status.State, Is.EqualTo(JobState.Failed));
            Assert.That(status.Message, Does.Contain("generation 8 failed: evaluations kept failing").And.Contain("rollout diverged"));
            Assert.That(status.CheckpointGeneration, Is.EqualTo(7), "the last good state is saved");
        });
    }

    [Test]
    public async Task RunAsync_HungEvaluation_TimesOutAndFailsThatJobOnly()
    {
        using var dir = new TempDir();
        using var release = new ManualResetEventSlim();
        // Ignores its token on purpose: a hang in native code cannot be interrupted, only abandoned.
        var hangs = new ScriptedFitness((g, _, _) => { if (g == 2) release.Wait(TimeSpan.FromSeconds(20)); return g; });
        var hanging = new ChainJobFactory("hangs") { Fitness = new GuardedFitness(hangs, Resilience.Evaluation(TimeSpan.FromMilliseconds(200), attempts: 2)) };
        var healthy = new ChainJobFactory();
        var home = new JobHome(dir.Path, PhysicalFileSystem.Instance, Resilience.Io(1, TimeSpan.FromMilliseconds(1)));
        var runner = new JobRunner(home, new JobFactories([hanging, healthy]), Options(dir.Path), NullLogger.Instance);
        Specs.Submit(home, Specs.Chain(dir, "stuck", 10) with { Kind = "hangs" });
        Specs.Submit(home, Specs.Chain(dir, "fine", 10));

        await Task.WhenAll(runner.RunAsync("stuck", CancellationToken.None), runner.RunAsync("fine", CancellationToken.None));
        release.Set();

        Assert.Multiple(() =>
        {
            Assert.That(hangs.Calls, Is.EqualTo(2 + 2), "generations 0-1, then two timed-out attempts at generation 2");
            Assert.That(home.ReadStatus("stuck").State, Is.EqualTo(JobState.Failed));
            Assert.That(home.ReadStatus("stuck").Message, Does.Contain("TimeoutRejectedException"));
            Assert.That(home.ReadStatus("fine").State, Is.EqualTo(JobState.Finished));
        });
    }

    [Test]
    public async Task RunAsync_DiskFullDuringACheckpoint_KeepsThePreviousOneAndTheJobRunning()
    {
        using var dir = new TempDir();
        // Generation 10's checkpoint hits a full disk; later ones find space again.
        var fs = new FaultyFileSystem(p => p.EndsWith("ckpt-0000000010.l2ock.tmp", StringComparison.Ordinal));
        var (home, runner) = Setup(dir.Path, new ChainJobFactory(), fs);
        using var stop = new CancellationTokenSource();
        Specs.Submit(home, Specs.Chain(dir, "a", 12));

        await runner.RunAsync("a", CancellationToken.None);

        var files = home.Checkpoints("a", 3).Files().Select(Path.GetFileName).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(fs.InjectedFailures, Is.EqualTo(2), "one attempt and one retry");
            Assert.That(files, Is.EqualTo(new[] { "ckpt-0000000005.l2ock", "ckpt-0000000012.l2ock" }));
            Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Finished));
        });
    }

    [Test]
    public async Task RunAsync_FinalCheckpointHitsAFullDiskThenSpaceReturns_RetriesWithoutReplayingAndFinishes()
    {
        using var dir = new TempDir();
        // Generation 12's final checkpoint fails three times (the first attempt and its I/O retry, then one more).
        var fs = new FaultyFileSystem(p => p.EndsWith("ckpt-0000000012.l2ock.tmp", StringComparison.Ordinal), failures: 3);
        int stepped = 0;
        var options = Options(dir.Path);
        options.FinalCheckpointDelay = TimeSpan.FromMilliseconds(1);
        var (home, runner) = Setup(dir.Path, new ChainJobFactory { BeforeStep = (_, _) => stepped++ }, fs, options);
        Specs.Submit(home, Specs.Chain(dir, "a", 12));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.Multiple(() =>
        {
            Assert.That(fs.InjectedFailures, Is.EqualTo(3));
            Assert.That(stepped, Is.EqualTo(12), "no generation is replayed");
            Assert.That((status.State, status.CheckpointGeneration), Is.EqualTo((JobState.Finished, (long?)12)));
        });
    }

    [Test]
    public async Task RunAsync_FinalCheckpointNeverWritten_EndsFailedNamingWhatIsOnDiskAndIsNotRestarted()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem(p => p.EndsWith("ckpt-0000000012.l2ock.tmp", StringComparison.Ordinal));
        var options = Options(dir.Path);
        options.FinalCheckpointDelay = TimeSpan.Zero;
        options.FinalCheckpointAttempts = 3;
        var (home, runner) = Setup(dir.Path, new ChainJobFactory(), fs, options);
        Specs.Submit(home, Specs.Chain(dir, "a", 12));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.That(status.State, Is.EqualTo(JobState.Failed), "terminal, so the daemon neither replays it nor waits for it");
        Assert.That(status.Message, Does.Contain("reached 12 generations, but the final checkpoint (generation 12) could not be written after 3 attempts")
            .And.Contain("No space left on device").And.Contain("newest checkpoint on disk: generation 10")
            .And.Contain("`l2oevolve resume a`"));
        Assert.That(File.ReadAllText(home.ResultPath("a")), Does.Contain("after 12 generations"), "the result of the run is still written");
    }

    [Test]
    public async Task RunAsync_AnotherJobsCheckpointPlacedAsNewest_FallsBackToTheJobsOwnAndSaysSo()
    {
        using var straightDir = new TempDir();
        var (straightHome, straight) = Setup(straightDir.Path, new ChainJobFactory());
        Specs.Submit(straightHome, Specs.Chain(straightDir, "a", 30));
        await straight.RunAsync("a", CancellationToken.None);

        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Specs.Submit(home, Specs.Chain(dir, "b", 40));
        await runner.RunAsync("b", CancellationToken.None);
        using var shutdown = new CancellationTokenSource();
        var (_, interrupted) = Setup(dir.Path, new ChainJobFactory { BeforeStep = (g, _) => { if (g == 12) shutdown.Cancel(); } });
        Specs.Submit(home, Specs.Chain(dir, "a", 30));
        await interrupted.RunAsync("a", shutdown.Token);
        // A valid checkpoint of job b, further along, copied into a's directory by hand.
        File.Copy(home.Checkpoints("b", 3).Files()[^1], Path.Combine(home.CheckpointDirectory("a"), "ckpt-0000000040.l2ock"));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.That(status.State, Is.EqualTo(JobState.Finished), status.Message);
        Assert.That(status.Message, Does.Contain("skipped checkpoint ckpt-0000000040.l2ock: it belongs to job 'b'"));
        // (the newest file is still b's, so the result file tells a's own end state)
        Assert.That(File.ReadAllText(home.ResultPath("a")), Is.EqualTo(File.ReadAllText(straightHome.ResultPath("a"))), "resumed from its own checkpoint, exactly");
    }

    [Test]
    public async Task RunAsync_NewestCheckpointIncompatibleButAnOlderOneFits_ResumesFromTheOlderOneAndSaysSo()
    {
        using var straightDir = new TempDir();
        var (straightHome, straight) = Setup(straightDir.Path, new ChainJobFactory());
        Specs.Submit(straightHome, Specs.Chain(straightDir, "a", 20));
        await straight.RunAsync("a", CancellationToken.None);

        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory());
        Specs.Submit(home, Specs.Chain(dir, "a", 10));
        await runner.RunAsync("a", CancellationToken.None);
        // A checkpoint of the same job written under other settings (another width), newer than its own.
        using var otherDir = new TempDir();
        var (otherHome, other) = Setup(otherDir.Path, new ChainJobFactory { Width = "9" });
        Specs.Submit(otherHome, Specs.Chain(dir, "a", 15));
        await other.RunAsync("a", CancellationToken.None);
        File.Copy(otherHome.Checkpoints("a", 3).Files()[^1], Path.Combine(home.CheckpointDirectory("a"), "ckpt-0000000015.l2ock"));
        Specs.Submit(home, Specs.Chain(dir, "a", 20));
        File.Delete(home.StatusPath("a"));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.That(status.State, Is.EqualTo(JobState.Finished), status.Message);
        Assert.That(status.Message, Does.Contain("skipped checkpoint ckpt-0000000015.l2ock: settings or inputs changed incompatibly: settings.width"));
        Assert.That(Specs.ChainValue(home, "a"), Is.EqualTo(Specs.ChainValue(straightHome, "a")));
    }

    [Test]
    public async Task StatusCommand_StatusFileOlderThanTheCheckpoints_ShowsTheCheckpointsProgress()
    {
        using var dir = new TempDir();
        using var shutdown = new CancellationTokenSource();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory { BeforeStep = (g, _) => { if (g == 7) shutdown.Cancel(); } });
        Specs.Submit(home, Specs.Chain(dir, "a", 30));
        await runner.RunAsync("a", shutdown.Token);
        File.Delete(home.StatusPath("a")); // a daemon killed before its first status write

        var status = JobProgress.Current(home, "a");

        long saved = home.Checkpoints("a", 3).LoadNewestValid().Envelope!.Generation;
        Assert.That(saved, Is.InRange(7, 8), "the shutdown saved the last completed generation");
        Assert.That((status.Generation, status.CheckpointGeneration), Is.EqualTo((saved, (long?)saved)));
        Assert.That(status.Message, Does.Contain($"progress read from checkpoint ckpt-{saved:D10}.l2ock"));
        Assert.That(L2OEvolve.Cli.Commands.StatusCommand.Detail(home, "a", daemonRunning: false),
            Does.Contain($"generation:  {saved}").And.Contain($"checkpoint:  generation {saved}"));
    }

    [Test]
    public void DaemonLock_HomeThatCannotBeCreated_IsReportedAsSuchNotAsAnotherDaemon()
    {
        var e = Assert.Throws<DaemonHomeException>(() => DaemonLock.Acquire("/proc/l2o-no-such-home/inner"))!;
        Assert.That(e.Message, Does.StartWith("cannot use /proc/l2o-no-such-home/inner as the daemon's home").And.Not.Contain("another daemon"));
    }

    [Test]
    public async Task RunAsync_StopRequested_SavesAndMarksStopped()
    {
        using var dir = new TempDir();
        JobHome? homeRef = null;
        var factory = new ChainJobFactory { BeforeStep = (g, _) => { if (g == 4) File.WriteAllText(homeRef!.StopPath("a"), "now"); } };
        var (home, runner) = Setup(dir.Path, factory);
        homeRef = home;
        Specs.Submit(home, Specs.Chain(dir, "a", 100));

        await runner.RunAsync("a", CancellationToken.None);

        Assert.That(home.ReadStatus("a").State, Is.EqualTo(JobState.Stopped));
        Assert.That(home.ReadStatus("a").CheckpointGeneration, Is.EqualTo(5));
    }

    /// <summary>Blocks like a search too big for its budget: until cancelled (or, if nothing cancels, 60 s, so a broken runner fails instead of hanging).</summary>
    private static void UntilCancelled(CancellationToken ct)
    {
        ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(60));
        ct.ThrowIfCancellationRequested();
    }

    [Test]
    public async Task RunAsync_TimeBudgetRunsOutInTheInitialPopulation_FailsWithOneMessageAndSavesNothing()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory { BeforeStart = UntilCancelled });
        Specs.Submit(home, Specs.Chain(dir, "a", generations: null, seconds: 0.2));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.Multiple(() =>
        {
            Assert.That(status.State, Is.EqualTo(JobState.Failed));
            Assert.That(status.Message, Is.EqualTo("timeSeconds: the time budget of 0.2 s ran out while scoring the initial population; raise timeSeconds or make the population smaller"));
            Assert.That(status.Generation, Is.Zero);
            Assert.That(status.ElapsedSeconds, Is.GreaterThan(0), "the time spent on the initial population is counted");
            Assert.That(home.Checkpoints("a", 3).Files(), Is.Empty);
        });
    }

    [Test]
    public async Task RunAsync_ShutdownWhileBuildingTheInitialPopulation_LeavesTheJobQueuedToStartAgain()
    {
        using var dir = new TempDir();
        using var shutdown = new CancellationTokenSource();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory { BeforeStart = ct => { shutdown.Cancel(); UntilCancelled(ct); } });
        Specs.Submit(home, Specs.Chain(dir, "a", 10));

        await runner.RunAsync("a", shutdown.Token);
        var interrupted = home.ReadStatus("a");
        var (_, again) = Setup(dir.Path, new ChainJobFactory());
        await again.RunAsync("a", CancellationToken.None);

        Assert.That((interrupted.State, interrupted.Message), Is.EqualTo((JobState.Queued,
            (string?)"interrupted by daemon shutdown while building the initial population; starts again when the daemon starts again")));
        Assert.That((home.ReadStatus("a").State, home.ReadStatus("a").Generation), Is.EqualTo((JobState.Finished, 10L)));
    }

    [Test]
    public async Task RunAsync_TimeBudgetRunsOutInsideAGeneration_AbandonsItKeepsTheStateBeforeAndFinishes()
    {
        using var dir = new TempDir();
        var (home, runner) = Setup(dir.Path, new ChainJobFactory { BeforeStep = (g, ct) => { if (g == 3) UntilCancelled(ct); } });
        Specs.Submit(home, Specs.Chain(dir, "a", generations: null, seconds: 1));

        await runner.RunAsync("a", CancellationToken.None);

        var status = home.ReadStatus("a");
        Assert.Multiple(() =>
        {
            Assert.That(status.State, Is.EqualTo(JobState.Finished));
            Assert.That(status.Message, Is.EqualTo("reached the time budget of 1 s"));
            Assert.That((status.Generation, status.CheckpointGeneration), Is.EqualTo((3L, (long?)3)));
        });
    }

    [Test]
    public async Task RunAsync_SrJobWhoseInitialPopulationOutlastsItsBudget_FailsNamingItsSize()
    {
        using var dir = new TempDir();
        var (home, runner) = SetupSr(dir.Path);
        var (data, grammar) = SrInputs(dir);
        // A millisecond cannot score 400 × 200 random trees: the budget must stop the initialisation itself.
        var spec = new JobSpec("big", "sr", DateTimeOffset.UnixEpoch, data, null, [], grammar, new JobBudget(null, 0.001, null), 1, 1,
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("islands", "400"), KeyValuePair.Create("populationSize", "200")]));
        Specs.Submit(home, spec);

        await runner.RunAsync("big", CancellationToken.None);

        var status = home.ReadStatus("big");
        Assert.That(status.State, Is.EqualTo(JobState.Failed));
        Assert.That(status.Message, Is.EqualTo("timeSeconds: the time budget of 0.001 s ran out while scoring the initial population of 400 × 200 members " +
            "(settings.islands × settings.populationSize); raise timeSeconds or make the population smaller"));
    }

    private static (JobHome Home, JobRunner Runner) SetupSr(string home)
    {
        var jobHome = new JobHome(home, PhysicalFileSystem.Instance, Resilience.Io(1, TimeSpan.FromMilliseconds(1)));
        return (jobHome, new JobRunner(jobHome, new JobFactories([new SrJobFactory()]), Options(home), NullLogger.Instance));
    }

    private static (string Data, string Grammar) SrInputs(TempDir dir)
    {
        var csv = new System.Text.StringBuilder("a,b,y\n");
        for (int i = 0; i < 50; i++) csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i * 0.1},{1 - i * 0.05},{i * 0.1 * (1 - i * 0.05)}\n");
        File.WriteAllText(dir.File("data.csv"), csv.ToString());
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "grammars", "arith.json"))) return (dir.File("data.csv"), Path.Combine(d.FullName, "grammars", "arith.json"));
        throw new FileNotFoundException("grammars/arith.json");
    }

    [Test]
    public void FingerprintsChanged_AddedRemovedAndChanged_AreAllListed()
    {
        var saved = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" };
        var now = new Dictionary<string, string> { ["a"] = "1", ["b"] = "20", ["d"] = "4" };
        Assert.That(Fingerprints.Changed(saved, now), Is.EqualTo(new[] { "b", "c", "d" }));
    }
}
