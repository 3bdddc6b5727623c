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
        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("--time: 'soon' is not a duration")
            .And.Contain("--setting: 'novalue' is not KEY=VALUE")
            .And.Contain("--name: '../x' is not a valid job name")
            .And.Contain("--data: file not found")
            .And.Contain("--grammar: file not found")
            .And.Contain("--generations: must be positive (got -2)"));
        Assert.That(Directory.Exists(Path.Combine(dir.Path, "jobs")), Is.False, "nothing is written for a rejected job");
    }
}
