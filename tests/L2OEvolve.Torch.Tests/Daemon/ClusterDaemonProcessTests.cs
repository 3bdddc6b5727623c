using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Cluster;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>A throwaway redis-server on a free local port, its data in a temporary directory; stopped on dispose.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new();

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    private RedisServer(int port)
    {
        Port = port;
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _dir.Path, "--save", "", "--appendonly", "no" })
            info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>A running server, or an ignored test when redis-server is not installed (./run.sh test installs it).</summary>
    public static RedisServer Start()
    {
        if (!File.Exists("/usr/bin/redis-server") && !File.Exists("/usr/local/bin/redis-server"))
            Assert.Ignore("redis-server is not installed (./run.sh test installs it)");
        var server = new RedisServer(FreePort());
        bool up = DaemonProcess.WaitUntil(() =>
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, server.Port); return true; }
            catch (SocketException) { return false; }
        }, TimeSpan.FromSeconds(20));
        Assert.That(up, Is.True, "redis-server did not start");
        return server;
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

    private static void Submit(TempDir inputs, string home)
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
            "--grammar", grammar, "--generations", "40", "--seed", "9", "--islands", "4", "--population", "30", "--threads", "1");
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
