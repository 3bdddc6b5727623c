using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>The real daemon as a separate process: locking, malformed jobs, signals, crashes and exact resume.</summary>
[NonParallelizable]
public class DaemonProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static JobHome Home(string path) => new(path, PhysicalFileSystem.Instance, Resilience.Io(3, TimeSpan.FromMilliseconds(20)));

    [Test]
    public void Daemon_SecondOnTheSameHome_IsRefusedWithAClearError()
    {
        using var dir = new TempDir();
        using var first = DaemonProcess.Start("daemon", "--home", dir.Path, "--poll", "100ms");
        Assert.That(DaemonProcess.WaitUntil(() => DaemonLock.IsHeld(dir.Path), Patience), Is.True, first.Output);

        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.Path);

        Assert.That(code, Is.EqualTo(DaemonHost.ExitLocked));
        Assert.That(stderr, Does.Contain($"another daemon (pid {first.Id}) is already running on {dir.Path}"));
        Assert.That(first.HasExited, Is.False);
    }

    [Test]
    public void Daemon_SigtermWhileIdle_ExitsCleanlyAndReleasesTheLock()
    {
        using var dir = new TempDir();
        using var daemon = DaemonProcess.Start("daemon", "--home", dir.Path, "--poll", "100ms");
        Assert.That(DaemonProcess.WaitUntil(() => daemon.Output.Contains("daemon started"), Patience), Is.True, daemon.Output);

        daemon.Terminate();

        Assert.That(daemon.WaitForExit(Patience), Is.True);
        Assert.That(daemon.ExitCode, Is.EqualTo(0), daemon.Output);
        Assert.That(DaemonLock.IsHeld(dir.Path), Is.False);
    }

    [Test]
    public void Daemon_InvalidOptions_ExitWithEachFaultNamed()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.Path, "--workers", "0", "--keep", "1", "--poll", "soon");
        Assert.That(code, Is.EqualTo(DaemonHost.ExitInvalidOptions));
        Assert.That(stderr, Does.Contain("--poll: 'soon' is not a duration"));
        var (code2, _, stderr2) = DaemonProcess.Run("daemon", "--home", dir.Path, "--workers", "0", "--keep", "1");
        Assert.That(code2, Is.EqualTo(DaemonHost.ExitInvalidOptions));
        Assert.That(stderr2, Does.Contain("--workers: must be 1..256 (got 0)").And.Contain("--keep: must be at least 2"));
    }

    [Test]
    public void Daemon_MalformedJobFiles_MarksEachFailedWithTheReasonAndGoesOn()
    {
        using var dir = new TempDir();
        var home = Home(dir.Path);
        void Put(string name, string json)
        {
            Directory.CreateDirectory(home.JobDirectory(name));
            File.WriteAllText(home.SpecPath(name), json);
        }
        Put("not-json", "{ \"schema\": 1, \"name\": ");
        Put("missing", """{ "schema": 1, "name": "missing", "grammar": "/nowhere.json" }""");
        Put("wrong-name", """{ "schema": 1, "name": "other", "data": "/d.csv", "grammar": "/g.json" }""");
        Put("bad-kind", $$"""{ "schema": 1, "name": "bad-kind", "kind": "teleport", "data": "{{DaemonProcess.CliDll}}", "grammar": "{{DaemonProcess.CliDll}}" }""");

        var (code, stdout, stderr) = DaemonProcess.Run("daemon", "--home", dir.Path, "--poll", "100ms", "--exit-when-idle");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "not-json", "missing", "wrong-name", "bad-kind" })
                Assert.That(home.ReadStatus(name).State, Is.EqualTo(JobState.Failed), name);
            Assert.That(home.ReadStatus("not-json").Message, Does.Contain($"{home.SpecPath("not-json")}: field '(document)': not valid JSON"));
            Assert.That(home.ReadStatus("missing").Message, Does.Contain("field 'data': missing (required)").And.Contain("field 'grammar': file not found: /nowhere.json"));
            Assert.That(home.ReadStatus("wrong-name").Message, Does.Contain("field 'name': 'other' differs from the job's directory name 'wrong-name'"));
            Assert.That(home.ReadStatus("bad-kind").Message, Does.Contain("field 'kind': unknown job kind 'teleport'"));
        });
        var (_, table, _) = DaemonProcess.Run("status", "--home", dir.Path);
        Assert.That(table, Does.Contain("not-json").And.Contain("failed"));
    }

    [Test]
    public void Submit_BadOptions_AreRejectedNamingTheOption()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = DaemonProcess.Run("submit", "--home", dir.Path, "--name", "../x", "--data", dir.File("none.csv"),
            "--grammar", dir.File("none.json"), "--generations", "-2", "--time", "soon", "--setting", "novalue");
        Assert.That(code, Is.EqualTo(2), "bad input");
        Assert.That(stderr, Does.Contain("--time: 'soon' is not a duration")
            .And.Contain("--setting: 'novalue' is not KEY=VALUE")
            .And.Contain("--name: '../x' is not a valid job name")
            .And.Contain("--data: file not found")
            .And.Contain("--grammar: file not found")
            .And.Contain("--generations: must be positive (got -2)"));
        Assert.That(Directory.Exists(Path.Combine(dir.Path, "jobs")), Is.False, "nothing is written for a rejected job");
    }

    // ---- sr jobs: crashes, signals and damaged checkpoints -------------------------------------------------------

    private const int Generations = 60;
    private static readonly Dictionary<(ulong, int), string> ReferenceRuns = [];

    /// <summary>A small table (y = x0² + 2.5·x1) and a copy of the arith grammar, so tests can edit the grammar.</summary>
    internal static (string Data, string Grammar) Inputs(TempDir dir)
    {
        var rng = new L2OEvolve.Engine.Random.Rng(11);
        var csv = new System.Text.StringBuilder("x0,x1,y\n");
        for (int i = 0; i < 120; i++)
        {
            double a = rng.NextDouble() * 4 - 2, b = rng.NextDouble() * 4 - 2;
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{a:R},{b:R},{a * a + 2.5 * b:R}\n");
        }
        File.WriteAllText(dir.File("data.csv"), csv.ToString());
        File.Copy(Path.Combine(RepoRoot(), "grammars", "arith.json"), dir.File("grammar.json"), overwrite: true);
        return (dir.File("data.csv"), dir.File("grammar.json"));
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "L2OEvolve.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (L2OEvolve.sln) not found above the test directory");
    }

    private static void SubmitSr(string home, string name, TempDir inputs, ulong seed, int generations = Generations)
    {
        var (code, stdout, stderr) = DaemonProcess.Run("submit", "--home", home, "--name", name, "--data", inputs.File("data.csv"),
            "--grammar", inputs.File("grammar.json"), "--generations", generations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--islands", "2", "--population", "30", "--threads", "1");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
    }

    private static string[] DaemonArgs(string home, params string[] extra) => DaemonArgs(home, 2, extra);

    private static string[] DaemonArgs(string home, int checkpointEvery, params string[] extra) =>
        ["daemon", "--home", home, "--poll", "100ms", "--status-interval", "20ms", "--checkpoint-generations", checkpointEvery.ToString(System.Globalization.CultureInfo.InvariantCulture), "--keep", "3", .. extra];

    /// <summary>The hall of fame of the job run start to finish by one daemon (cached per seed and budget).</summary>
    private static string Uninterrupted(ulong seed, int generations = Generations)
    {
        lock (ReferenceRuns)
        {
            if (ReferenceRuns.TryGetValue((seed, generations), out var known)) return known;
            using var dir = new TempDir();
            Inputs(dir);
            SubmitSr(dir.File("home"), "ref", dir, seed, generations);
            var (code, stdout, stderr) = DaemonProcess.Run(DaemonArgs(dir.File("home"), "--exit-when-idle"));
            Assert.That(code, Is.EqualTo(0), stdout + stderr);
            var home = Home(dir.File("home"));
            Assert.That(home.ReadStatus("ref").State, Is.EqualTo(JobState.Finished), stdout + stderr);
            return ReferenceRuns[(seed, generations)] = File.ReadAllText(home.HallOfFameCsvPath("ref"));
        }
    }

    /// <summary>Runs the daemon until the job has reached <paramref name="generation"/>, then SIGTERMs it.</summary>
    private static void RunUntilThenTerminate(string home, string name, long generation)
    {
        var h = Home(home);
        using var daemon = DaemonProcess.Start(DaemonArgs(home));
        Assert.That(DaemonProcess.WaitUntil(() => h.ReadStatus(name).Generation >= generation, Patience), Is.True, daemon.Output);
        daemon.Terminate();
        Assert.That(daemon.WaitForExit(Patience), Is.True, daemon.Output);
        Assert.That(daemon.ExitCode, Is.EqualTo(0), daemon.Output);
    }

    [Test]
    public void Daemon_KilledAtRandomMomentsAndRestarted_ReachesTheUninterruptedHallOfFame()
    {
        const ulong seed = 21;
        const int cycles = 6;
        string expected = Uninterrupted(seed);
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "crashy", dir, seed);
        var home = Home(homePath);
        var random = new System.Random(2024); // the kill moments are random but reproducible
        var killedAt = new List<long>();
        var logs = new System.Text.StringBuilder();

        for (int cycle = 0; cycle < cycles; cycle++)
        {
            // Kill targets spread over the run, each jittered; checkpoints every generation so that kills also
            // land inside checkpoint writes. On an idle machine a generation takes milliseconds, so a kill can land
            // well past its target: when no room is left before the budget ends, the remaining cycles are skipped
            // rather than waiting for a generation the job will never reach.
            long target = Math.Max(Generations * (cycle + 1) / (cycles + 1) + random.Next(-3, 4), killedAt.LastOrDefault() + 2);
            if (target >= Generations - 1) break;
            using var daemon = DaemonProcess.Start(DaemonArgs(homePath, checkpointEvery: 1));
            bool reached = DaemonProcess.WaitUntil(() => home.ReadStatus("crashy") is var s && (s.Generation >= target || s.IsTerminal), Patience);
            Assert.That(reached, Is.True, $"cycle {cycle}: generation {target} not reached\n{home.ReadStatus("crashy")}\n{daemon.Output}");
            Thread.Sleep(random.Next(0, 20));
            daemon.Kill9();
            logs.Append(daemon.Output);
            var status = home.ReadStatus("crashy");
            if (status.IsTerminal) break; // finished before the kill landed: nothing left to interrupt
            killedAt.Add(status.Generation);
        }
        TestContext.Out.WriteLine($"killed at generations {string.Join(", ", killedAt)} of {Generations}");
        Assert.That(killedAt, Has.Count.GreaterThanOrEqualTo(3), "at least three kills must land inside the run");

        var (code, stdout, stderr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));
        logs.Append(stdout);
        int midWrite = System.Text.RegularExpressions.Regex.Matches(logs.ToString(), "a checkpoint write that was interrupted").Count;
        TestContext.Out.WriteLine($"{midWrite} of {killedAt.Count} kills interrupted a checkpoint write");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(home.ReadStatus("crashy").State, Is.EqualTo(JobState.Finished), stdout + stderr);
        Assert.That(File.ReadAllText(home.HallOfFameCsvPath("crashy")), Is.EqualTo(expected));
        var (resultCode, result, _) = DaemonProcess.Run("result", "--home", homePath, "crashy");
        Assert.That((resultCode, result), Is.EqualTo((0, File.ReadAllText(home.ResultPath("crashy")))));
    }

    // ---- funnel jobs: rollouts on an MLP (mlp-fashion's network on tiny IDX files of the test's own) ---------------

    private const int FunnelGenerations = 24;

    /// <summary>A recorded-like table (the teacher's output is -2·mt0) and tiny MNIST-format data for the rollouts.</summary>
    private static string FunnelInputs(TempDir dir, TinyMnist images)
    {
        var rng = new L2OEvolve.Engine.Random.Rng(5);
        var csv = new System.Text.StringBuilder("g0,mt0,gt0,y\n");
        for (int i = 0; i < 120; i++)
        {
            double g = rng.NextGaussian(), mt = 0.5 * g + 0.5 * rng.NextGaussian(), gt = Math.Abs(rng.NextGaussian());
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{g:R},{mt:R},{gt:R},{-2 * mt:R}\n");
        }
        File.WriteAllText(dir.File("rows.csv"), csv.ToString());
        File.WriteAllText(dir.File("g.json"), """{"name": "tiny", "features": "from-data", "operators": {"+": 1, "*": 1, "neg": 1}, "maxsize": 9}""");
        return $"mlp-fashion:data={images.Dir},batch=16";
    }

    private static void SubmitFunnel(string home, string name, TempDir dir, string optimizee, int threads)
    {
        var (code, stdout, stderr) = DaemonProcess.Run("submit", "--home", home, "--name", name, "--data", dir.File("rows.csv"),
            "--grammar", dir.File("g.json"), "--generations", FunnelGenerations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", "8", "--islands", "2", "--population", "16", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--warm-start", "-1 * g0", "--rollout-optimizee", optimizee, "--rollout-steps", "6", "--rollout-seeds", "2",
            "--rollout-scale", "0.02", "--imitation-pass", "0.9");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
    }

    [Test]
    public void Daemon_FunnelJobOnAnMlpKilledAtRandomMoments_ReachesTheUninterruptedHallOfFameForAnyThreadCount()
    {
        using var images = new TinyMnist(n: 64);
        using var dir = new TempDir();
        string optimizee = FunnelInputs(dir, images);

        // The reference: one daemon, start to finish, one thread.
        SubmitFunnel(dir.File("ref"), "f", dir, optimizee, threads: 1);
        var (refCode, refOut, refErr) = DaemonProcess.Run(DaemonArgs(dir.File("ref"), "--exit-when-idle"));
        var reference = Home(dir.File("ref"));
        Assert.That((refCode, reference.ReadStatus("f").State), Is.EqualTo((0, JobState.Finished)), refOut + refErr);
        string expected = File.ReadAllText(reference.HallOfFameCsvPath("f"));
        Assert.That(expected.Split('\n').Skip(1).Select(l => l.Split('|')).Where(f => f.Length > 1).Select(f => double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture)),
            Has.Some.InRange(1e-9, 1.5), "some member was scored by rollouts (loss = imitation + rollout score < 2)");

        // The same job with two threads, killed with SIGKILL at random generations and restarted each time.
        string homePath = dir.File("home");
        SubmitFunnel(homePath, "f", dir, optimizee, threads: 2);
        var home = Home(homePath);
        var random = new System.Random(77);
        var killedAt = new List<long>();
        for (int cycle = 0; cycle < 5; cycle++)
        {
            long target = Math.Max(FunnelGenerations * (cycle + 1) / 6 + random.Next(-1, 2), killedAt.LastOrDefault() + 1);
            if (target >= FunnelGenerations - 1) break;
            using var daemon = DaemonProcess.Start(DaemonArgs(homePath, checkpointEvery: 1));
            bool reached = DaemonProcess.WaitUntil(() => home.ReadStatus("f") is var s && (s.Generation >= target || s.IsTerminal), TimeSpan.FromSeconds(60));
            Assert.That(reached, Is.True, $"cycle {cycle}: generation {target} not reached\n{home.ReadStatus("f")}\n{daemon.Output}");
            Thread.Sleep(random.Next(0, 150)); // often mid-generation, inside a rollout
            daemon.Kill9();
            var status = home.ReadStatus("f");
            if (status.IsTerminal) break;
            killedAt.Add(status.Generation);
        }
        TestContext.Out.WriteLine($"funnel job killed at generations {string.Join(", ", killedAt)} of {FunnelGenerations}");
        Assert.That(killedAt, Has.Count.GreaterThanOrEqualTo(3), "at least three kills must land inside the run");

        var (code, stdout, stderr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(home.ReadStatus("f").State, Is.EqualTo(JobState.Finished), stdout + stderr);
        Assert.That(File.ReadAllText(home.HallOfFameCsvPath("f")), Is.EqualTo(expected));
    }

    [Test]
    public void Daemon_Sigterm_WritesAFinalCheckpointAndExitsWithinTheShutdownTimeout()
    {
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "long", dir, seed: 5, generations: 1_000_000);
        var home = Home(homePath);
        // No periodic checkpoints at all: any checkpoint on disk afterwards is the final one.
        using var daemon = DaemonProcess.Start("daemon", "--home", homePath, "--poll", "100ms", "--checkpoint-generations", "0",
            "--checkpoint-interval", "1h", "--shutdown-timeout", "20s");
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("long").Generation >= 5, Patience), Is.True, daemon.Output);
        Assert.That(home.Checkpoints("long", 3).Files(), Is.Empty);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        daemon.Terminate();
        bool exited = daemon.WaitForExit(TimeSpan.FromSeconds(20));

        Assert.That(exited, Is.True, $"still running {clock.Elapsed} after SIGTERM\n{daemon.Output}");
        Assert.That(daemon.ExitCode, Is.EqualTo(0), daemon.Output);
        var status = home.ReadStatus("long");
        var (envelope, _, rejected) = home.Checkpoints("long", 3).LoadNewestValid();
        Assert.Multiple(() =>
        {
            Assert.That(rejected, Is.Empty);
            Assert.That(envelope, Is.Not.Null, daemon.Output);
            Assert.That(envelope!.Generation, Is.EqualTo(status.Generation), "the final checkpoint holds the last completed generation");
            Assert.That(status.State, Is.EqualTo(JobState.Queued), "a shut-down job resumes on the next start");
            Assert.That(DaemonLock.IsHeld(homePath), Is.False);
        });
    }

    [TestCase("corrupt")]
    [TestCase("truncate")]
    public void Daemon_DamagedNewestCheckpoint_IsReportedAndThePreviousOneResumesExactly(string damage)
    {
        const ulong seed = 21; // shares the cached uninterrupted reference run with the kill test
        string expected = Uninterrupted(seed);
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "dmg", dir, seed);
        var home = Home(homePath);
        RunUntilThenTerminate(homePath, "dmg", 10);
        var files = home.Checkpoints("dmg", 3).Files();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(2));
        string newest = files[^1];
        var bytes = File.ReadAllBytes(newest);
        if (damage == "corrupt") { bytes[bytes.Length / 2] ^= 0x5A; File.WriteAllBytes(newest, bytes); }
        else File.WriteAllBytes(newest, bytes[..(bytes.Length * 2 / 3)]);

        var (code, stdout, stderr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        string fault = damage == "corrupt" ? "checksum mismatch" : "truncated";
        Assert.Multiple(() =>
        {
            Assert.That(stdout + stderr, Does.Contain($"rejected checkpoint {newest}").And.Contain(fault));
            Assert.That(home.ReadStatus("dmg").Message, Does.Contain($"skipped corrupt checkpoint {Path.GetFileName(newest)}"));
            Assert.That(home.ReadStatus("dmg").State, Is.EqualTo(JobState.Finished));
            Assert.That(File.ReadAllText(home.HallOfFameCsvPath("dmg")), Is.EqualTo(expected));
        });
    }

    [Test]
    public void Daemon_GrammarFileChangedSinceTheCheckpoint_RefusesTheJobNamingTheField()
    {
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "edited", dir, seed: 3);
        SubmitSr(homePath, "other", dir, seed: 4, generations: 4);
        var home = Home(homePath);
        RunUntilThenTerminate(homePath, "edited", 4);
        File.WriteAllText(dir.File("grammar.json"), File.ReadAllText(dir.File("grammar.json")).Replace("\"exp\": 2,", "\"exp\": 3,"));

        var (code, stdout, stderr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var status = home.ReadStatus("edited");
        Assert.That(status.State, Is.EqualTo(JobState.Failed));
        Assert.That(status.Message, Does.Match("refused to resume from ckpt-\\d+\\.l2ock: settings or inputs changed incompatibly: grammar$"));
        var (_, detail, _) = DaemonProcess.Run("status", "--home", homePath, "edited");
        Assert.That(detail, Does.Contain("changed incompatibly: grammar"));
    }

    [Test]
    public void Daemon_SrJob_WritesTheSameHallOfFameAsTheSrVerb()
    {
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        // A selection subset (50 of 120 rows) exercises sr's rescoring of the reported hall of fame as well.
        var (submitCode, _, submitErr) = DaemonProcess.Run("submit", "--home", homePath, "--name", "same", "--data", dir.File("data.csv"),
            "--grammar", dir.File("grammar.json"), "--generations", "20", "--seed", "21", "--islands", "2", "--population", "30",
            "--batch-rows", "50", "--threads", "1");
        Assert.That(submitCode, Is.EqualTo(0), submitErr);
        var (daemonCode, daemonOut, daemonErr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));
        Assert.That(daemonCode, Is.EqualTo(0), daemonOut + daemonErr);

        var (code, stdout, stderr) = DaemonProcess.Run("sr", "--data", dir.File("data.csv"), "--grammar", dir.File("grammar.json"),
            "--generations", "20", "--seed", "21", "--threads", "2", "--islands", "2", "--population", "30", "--batch-rows", "50",
            "--quiet", "--out", dir.File("sr"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(File.ReadAllText(Home(homePath).HallOfFameCsvPath("same")), Is.EqualTo(File.ReadAllText(Path.Combine(dir.File("sr"), "hall_of_fame.csv"))));
        Assert.That(File.ReadAllText(Home(homePath).ResultPath("same")), Does.Contain(stdout.Split('\n').Single(l => l.StartsWith("chosen", StringComparison.Ordinal))));
    }

    [Test]
    public void Submit_UnknownColumn_IsRejectedAtSubmission()
    {
        using var dir = new TempDir();
        Inputs(dir);
        var (code, _, stderr) = DaemonProcess.Run("submit", "--home", dir.File("home"), "--name", "j", "--data", dir.File("data.csv"),
            "--grammar", dir.File("grammar.json"), "--target", "nope", "--generations", "5");
        Assert.That(code, Is.EqualTo(2), "bad input");
        Assert.That(stderr, Does.Contain("data.csv").And.Contain("nope"));
        Assert.That(File.Exists(Path.Combine(dir.File("home"), "jobs", "j", "job.json")), Is.False);
    }

    [Test]
    public void Daemon_TwoWorkersThreeJobsAndAStop_FinishesTheShortOnesAndStopsTheLongOne()
    {
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "long", dir, seed: 1, generations: 1_000_000);
        SubmitSr(homePath, "short-a", dir, seed: 2, generations: 8);
        SubmitSr(homePath, "short-b", dir, seed: 3, generations: 8);
        var home = Home(homePath);
        using var daemon = DaemonProcess.Start("daemon", "--home", homePath, "--workers", "2", "--poll", "100ms", "--status-interval", "20ms");
        bool shortsDone = DaemonProcess.WaitUntil(
            () => home.ReadStatus("short-a").State == JobState.Finished && home.ReadStatus("short-b").State == JobState.Finished, Patience);
        Assert.That(shortsDone, Is.True, daemon.Output);
        Assert.That(home.ReadStatus("long").State, Is.EqualTo(JobState.Running), "the long job shares the two workers");

        var (stopCode, _, stopErr) = DaemonProcess.Run("stop", "--home", homePath, "long");
        Assert.That(stopCode, Is.EqualTo(0), stopErr);
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("long").State == JobState.Stopped, Patience), Is.True, daemon.Output);

        var (_, table, _) = DaemonProcess.Run("status", "--home", homePath);
        var (resultCode, result, _) = DaemonProcess.Run("result", "--home", homePath, "short-a");
        Assert.Multiple(() =>
        {
            Assert.That(daemon.HasExited, Is.False, "the daemon goes on after a stop");
            Assert.That(home.ReadStatus("long").CheckpointGeneration, Is.EqualTo(home.ReadStatus("long").Generation));
            Assert.That(table, Does.Match(@"long\s+stopped"));
            Assert.That(table, Does.Match(@"short-a\s+finished\s+8\s"));
            Assert.That(resultCode, Is.EqualTo(0));
            Assert.That(result, Does.StartWith("Complexity|Loss|R2|Equation").And.Contain("chosen").And.Contain("accurate"));
        });
    }

    [Test]
    public void Daemon_StoppedJobResumedByTheVerb_CarriesOnToTheUninterruptedHallOfFame()
    {
        const ulong seed = 33;
        string expected = Uninterrupted(seed);
        using var dir = new TempDir();
        Inputs(dir);
        string homePath = dir.File("home");
        SubmitSr(homePath, "paused", dir, seed);
        var home = Home(homePath);
        // Stopped while no daemon runs, so the stop cannot race the job to its budget: the next daemon marks it stopped.
        RunUntilThenTerminate(homePath, "paused", 5);
        long savedAt = home.ReadStatus("paused").Generation;
        Assert.That(DaemonProcess.Run("stop", "--home", homePath, "paused").ExitCode, Is.EqualTo(0));
        var (idleCode, idleOut, idleErr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));
        Assert.That((idleCode, home.ReadStatus("paused").State, home.ReadStatus("paused").Generation), Is.EqualTo((0, JobState.Stopped, savedAt)), idleOut + idleErr);

        var (code, stdout, stderr) = DaemonProcess.Run("resume", "--home", homePath, "paused");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain($"checkpoint at generation {savedAt}"));
        var (runCode, runOut, runErr) = DaemonProcess.Run(DaemonArgs(homePath, "--exit-when-idle"));

        Assert.That(runCode, Is.EqualTo(0), runOut + runErr);
        Assert.That(home.ReadStatus("paused").State, Is.EqualTo(JobState.Finished), runOut + runErr);
        Assert.That(savedAt, Is.LessThan(Generations), "the job was stopped before its budget");
        Assert.That(File.ReadAllText(home.HallOfFameCsvPath("paused")), Is.EqualTo(expected));
    }
}
