using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Cluster;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>A throwaway redis-server on a free local port, its data in a temporary directory, without persistence; stopped on dispose.</summary>
internal sealed class RedisServer : IDisposable
{
    private Process _process;
    private readonly TempDir _dir = new();

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    private RedisServer(int port)
    {
        Port = port;
        _process = Launch();
    }

    private Process Launch()
    {
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _dir.Path, "--save", "", "--appendonly", "no" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>A running server, or an ignored test when redis-server is not installed (./run.sh test installs it).</summary>
    public static RedisServer Start()
    {
        if (!File.Exists("/usr/bin/redis-server") && !File.Exists("/usr/local/bin/redis-server"))
            Assert.Ignore("redis-server is not installed (./run.sh test installs it)");
        var server = new RedisServer(FreePort());
        server.WaitUntilUp();
        return server;
    }

    private void WaitUntilUp()
    {
        bool up = DaemonProcess.WaitUntil(() =>
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return true; }
            catch (SocketException) { return false; }
        }, TimeSpan.FromSeconds(20));
        Assert.That(up, Is.True, "redis-server did not start");
    }

    /// <summary>SIGSTOP: the server keeps its connections but answers nothing (a hung or partitioned store).</summary>
    public void Freeze() => PosixSignal.Send(_process.Id, PosixSignal.Stop);

    /// <summary>SIGCONT after <see cref="Freeze"/>.</summary>
    public void Thaw() => PosixSignal.Send(_process.Id, PosixSignal.Continue);

    /// <summary>SIGKILL, then a new server on the same port: without persistence every key is lost.</summary>
    public void RestartEmpty()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = Launch();
        WaitUntilUp();
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); }
        _process.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Cluster mode as separate processes: silos with Redis membership on one shared home, against the single-process daemon.</summary>
[NonParallelizable]
public class ClusterDaemonProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static JobHome Home(string path) => new(path, PhysicalFileSystem.Instance, Resilience.Io(3, TimeSpan.FromMilliseconds(20)));

    private static string ClusterFile(TempDir dir, string name, RedisServer redis, string clusterId)
    {
        string path = dir.File(name);
        File.WriteAllText(path, $$"""{ "clusterId": "{{clusterId}}", "redis": "{{redis.ConnectionString}}", "siloPort": {{RedisServer.FreePort()}}, "gatewayPort": {{RedisServer.FreePort()}} }""");
        return path;
    }

    private static void Submit(TempDir inputs, string home, int generations = 40)
    {
        var rng = new L2OEvolve.Engine.Random.Rng(5);
        if (!File.Exists(inputs.File("data.csv")))
        {
            var csv = new System.Text.StringBuilder("x0,x1,y\n");
            for (int i = 0; i < 150; i++)
            {
                double a = rng.NextDouble() * 4 - 2, b = rng.NextDouble() * 4 - 2;
                csv.Append(CultureInfo.InvariantCulture, $"{a:R},{b:R},{a * a * b + Math.Cos(b):R}\n");
            }
            File.WriteAllText(inputs.File("data.csv"), csv.ToString());
        }
        string grammar = Path.Combine(RepoRoot(), "grammars", "arith.json");
        var (code, stdout, stderr) = DaemonProcess.Run("submit", "--home", home, "--name", "lockstep", "--data", inputs.File("data.csv"),
            "--grammar", grammar, "--generations", generations.ToString(CultureInfo.InvariantCulture), "--seed", "9", "--islands", "4", "--population", "30", "--threads", "1");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "L2OEvolve.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (L2OEvolve.sln) not found above the test directory");
    }

    [Test]
    public void TwoSiloProcesses_ReachTheSingleProcessHallOfFame_AndStatusShowsSilosAndIslands()
    {
        using var redis = RedisServer.Start();
        using var dir = new TempDir();
        string single = dir.File("single"), shared = dir.File("shared");
        Submit(dir, single);
        var (code, stdout, stderr) = DaemonProcess.Run("daemon", "--home", single, "--poll", "100ms", "--exit-when-idle");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);

        int http = RedisServer.FreePort();
        using var a = DaemonProcess.Start("daemon", "--home", shared, "--cluster", ClusterFile(dir, "a.json", redis, "two"), "--poll", "200ms", "--http", $"{http}");
        using var b = DaemonProcess.Start("daemon", "--home", shared, "--cluster", ClusterFile(dir, "b.json", redis, "two"), "--poll", "200ms");
        var home = Home(shared);
        Assert.That(DaemonProcess.WaitUntil(() => ClusterHome.ReadView(home)?.Silos.Count(s => s.Status == "active") == 2, Patience),
            Is.True, a.Output + b.Output);
        Submit(dir, shared);
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("lockstep").State == JobState.Finished, Patience), Is.True, a.Output + b.Output);
        var (_, table, _) = DaemonProcess.Run("status", "--home", shared);
        var (_, detail, _) = DaemonProcess.Run("status", "--home", shared, "lockstep");
        // A silo serves the daemon's page and API over the shared home.
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/") };
        string jobs = client.GetStringAsync("api/jobs").GetAwaiter().GetResult();
        string page = client.GetStringAsync("").GetAwaiter().GetResult();
        var unauthorised = client.PostAsync("api/jobs/lockstep/stop", null).GetAwaiter().GetResult();
        a.Terminate();
        b.Terminate();
        Assert.That(a.WaitForExit(Patience) && b.WaitForExit(Patience), Is.True, "silos stop on SIGTERM");

        Assert.That(File.ReadAllBytes(home.HallOfFameCsvPath("lockstep")), Is.EqualTo(File.ReadAllBytes(Home(single).HallOfFameCsvPath("lockstep"))),
            "the cluster's hall of fame is the single-process daemon's, byte for byte");
        Assert.That(File.ReadAllText(home.ResultPath("lockstep")), Is.EqualTo(File.ReadAllText(Home(single).ResultPath("lockstep"))));
        Assert.That(table, Does.Contain("cluster two").And.Contain("2 active silo(s)"));
        Assert.That(jobs, Does.Contain("lockstep"), a.Output);
        Assert.That(page, Does.Contain("pareto-plot"));
        Assert.That((int)unauthorised.StatusCode, Is.EqualTo(401), "control over a silo's page needs its token");
        Assert.That(detail, Does.Contain("coordinator: S127.0.0.1:").And.Contain("islands (silo of the last generation):"));
        var islands = ClusterHome.ReadPlacement(home, "lockstep")!.Islands;
        Assert.That(islands.Distinct().Count(), Is.EqualTo(2), "four islands on two silos use both: " + string.Join(", ", islands));
    }

    /// <summary>The single-process daemon's hall of fame for the job <see cref="Submit"/> queues.</summary>
    private static byte[] SingleProcessHallOfFame(TempDir dir, int generations)
    {
        string single = dir.File("single");
        Submit(dir, single, generations);
        var (code, stdout, stderr) = DaemonProcess.Run("daemon", "--home", single, "--poll", "100ms", "--exit-when-idle");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        return File.ReadAllBytes(Home(single).HallOfFameCsvPath("lockstep"));
    }

    /// <summary>Two silo processes on <paramref name="shared"/>, both active in membership, with a job queued on them.</summary>
    private static (DaemonProcess A, DaemonProcess B) TwoSilosRunning(TempDir dir, string shared, RedisServer redis, string clusterId, int generations)
    {
        string[] Args(string file) => ["daemon", "--home", shared, "--cluster", ClusterFile(dir, file, redis, clusterId), "--poll", "200ms", "--checkpoint-generations", "2"];
        var a = DaemonProcess.Start(Args("a.json"));
        var b = DaemonProcess.Start(Args("b.json"));
        Assert.That(DaemonProcess.WaitUntil(() => ClusterHome.ReadView(Home(shared))?.Silos.Count(s => s.Status == "active") == 2, Patience),
            Is.True, a.Output + b.Output);
        Submit(dir, shared, generations);
        return (a, b);
    }

    private static void StopBoth(DaemonProcess a, DaemonProcess b)
    {
        a.Terminate();
        b.Terminate();
        Assert.That(a.WaitForExit(Patience) && b.WaitForExit(Patience), Is.True, "silos stop on SIGTERM");
        foreach (var (name, silo) in new[] { ("a", a), ("b", b) })
            foreach (var line in silo.Output.Split('\n').Where(l => l.Contains("L2OEvolve.") && !l.Contains("checkpoint overhead")))
                TestContext.Out.WriteLine($"{name}: {(line.Length > 220 ? line[..220] : line)}");
    }

    [Test]
    public void TwoSilos_MembershipStoreFrozenMidRun_RetryWithBackOffSayingSo_AndTheJobGoesOnToTheSingleProcessHallOfFame()
    {
        const int generations = 120;
        using var redis = RedisServer.Start();
        using var dir = new TempDir();
        var expected = SingleProcessHallOfFame(dir, generations);
        string shared = dir.File("shared");
        var home = Home(shared);
        var (a, b) = TwoSilosRunning(dir, shared, redis, "frozen", generations);
        using var _a = a;
        using var _b = b;
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("lockstep").Generation >= 5, Patience), Is.True, a.Output + b.Output);

        long frozenAt = home.ReadStatus("lockstep").Generation;
        redis.Freeze();
        bool retried;
        long thawedAt;
        try
        {
            // Two failed attempts of one renewal: the back-off is under way.
            retried = DaemonProcess.WaitUntil(() => a.Output.Contains("membership store unreachable (attempt 2") && b.Output.Contains("membership store unreachable (attempt 2"), Patience);
            thawedAt = home.ReadStatus("lockstep").Generation;
        }
        finally { redis.Thaw(); }
        Assert.That(retried, Is.True, a.Output + b.Output);
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("lockstep").State == JobState.Finished, Patience), Is.True, a.Output + b.Output);
        Assert.That(DaemonProcess.WaitUntil(() => a.Output.Contains("membership store reachable again") && b.Output.Contains("membership store reachable again"), Patience),
            Is.True, a.Output + b.Output);
        StopBoth(a, b);

        Assert.That(thawedAt, Is.GreaterThan(frozenAt), "the job went on while the store was away");
        Assert.That(File.ReadAllBytes(home.HallOfFameCsvPath("lockstep")), Is.EqualTo(expected), "the hall of fame is the single-process daemon's, byte for byte");
    }

    [Test]
    public void TwoSilos_MembershipStoreRestartedEmpty_SilosJoinAgainAndResumeFromCheckpoints_ToTheSingleProcessHallOfFame()
    {
        const int generations = 600;
        using var redis = RedisServer.Start();
        using var dir = new TempDir();
        var expected = SingleProcessHallOfFame(dir, generations);
        string shared = dir.File("shared");
        var home = Home(shared);
        var (a, b) = TwoSilosRunning(dir, shared, redis, "amnesia", generations);
        using var _a = a;
        using var _b = b;
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("lockstep").Generation >= 6, Patience), Is.True, a.Output + b.Output);

        // The silos notice the loss at their next store check (every 5 s), and a fast machine runs the whole job in
        // less. So both are stopped while the store is replaced, past the check's due time: it runs first thing
        // when they continue, with the job hundreds of generations from its end.
        a.Freeze();
        b.Freeze();
        long frozenAt;
        try
        {
            frozenAt = home.ReadStatus("lockstep").Generation;
            redis.RestartEmpty();
            Thread.Sleep(ClusterDaemonHost.StoreCheck + TimeSpan.FromSeconds(1));
        }
        finally
        {
            a.Thaw();
            b.Thaw();
        }

        Assert.That(DaemonProcess.WaitUntil(() => a.Output.Contains("joining it again") && b.Output.Contains("joining it again"), Patience), Is.True, a.Output + b.Output);
        Assert.That(DaemonProcess.WaitUntil(() => home.ReadStatus("lockstep").State == JobState.Finished, TimeSpan.FromMinutes(10)), Is.True, a.Output + b.Output);
        StopBoth(a, b);

        Assert.That(a.Output + b.Output, Does.Contain("the membership store lost cluster 'amnesia'"));
        var resumed = System.Text.RegularExpressions.Regex.Match(a.Output + b.Output, "resumed at generation ([0-9]+)");
        Assert.That(resumed.Success, Is.True, "the job went on from a checkpoint, not from the start");
        long resumedAt = long.Parse(resumed.Groups[1].Value, CultureInfo.InvariantCulture);
        TestContext.Out.WriteLine($"stopped at generation {frozenAt}, resumed at {resumedAt} of {generations}");
        Assert.That(resumedAt, Is.InRange(Math.Max(1, frozenAt - 2), generations - 1), "from a checkpoint written around the loss");
        Assert.That(File.ReadAllBytes(home.HallOfFameCsvPath("lockstep")), Is.EqualTo(expected), "the hall of fame is the single-process daemon's, byte for byte");
    }

    [Test]
    public void Silo_ClusterOfAnotherJobSchemaVersion_IsRefusedBeforeJoining()
    {
        using var redis = RedisServer.Start();
        using var dir = new TempDir();
        using (var store = StackExchange.Redis.ConnectionMultiplexer.Connect(redis.ConnectionString))
            store.GetDatabase().StringSet("l2oevolve/l2oevolve/old/schema", (ClusterSchema.Version + 1).ToString(CultureInfo.InvariantCulture));

        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.File("home"), "--cluster", ClusterFile(dir, "c.json", redis, "old"));

        Assert.That(code, Is.EqualTo(DaemonHost.ExitInvalidOptions));
        Assert.That(stderr.Trim(), Does.StartWith("error: ").And.Contain("refusing to join").And.Contain($"this build speaks {ClusterSchema.Describe(ClusterSchema.Version)}"));
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public void Silo_MalformedClusterFile_IsOneErrorNamingTheFileAndField()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("c.json"), """{ "clusterId": "x", "redis": "127.0.0.1:1", "siloPort": 70000 }""");

        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.File("home"), "--cluster", dir.File("c.json"));

        Assert.That(code, Is.EqualTo(DaemonHost.ExitInvalidOptions));
        Assert.That(stderr.Trim(), Is.EqualTo($"error: {dir.File("c.json")}: field 'siloPort': expected a port number in 1..65535"));
        Assert.That(Directory.Exists(dir.File("home")), Is.False, "nothing is written");
    }

    [Test]
    public void SingleProcessDaemon_OnAHomeAClusterIsRunning_IsRefused()
    {
        using var dir = new TempDir();
        var home = Home(dir.File("home"));
        Directory.CreateDirectory(Path.GetDirectoryName(ClusterHome.SilosPath(home))!);
        File.WriteAllText(ClusterHome.SilosPath(home),
            $$"""{ "updated": "{{DateTimeOffset.UtcNow:O}}", "clusterId": "lab", "schemaVersion": {{ClusterSchema.Version}}, "silos": [] }""");

        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", home.Root, "--exit-when-idle");

        Assert.That(code, Is.EqualTo(DaemonHost.ExitLocked));
        Assert.That(stderr.Trim(), Is.EqualTo($"error: {home.Root}: cluster 'lab' is running on this home; stop its silos first"));
    }
}
