using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Torch.Tests.Daemon;

namespace L2OEvolve.Torch.Tests.Web;

/// <summary>
/// <c>daemon --http</c> as a real process: its page loaded by Debian's headless chromium (installed by
/// <c>./run.sh test</c>), and its refusals of a busy port and bad options.
/// </summary>
[NonParallelizable]
public class DaemonHttpProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public void Page_InHeadlessChromium_ShowsTheJobRowAndTheParetoPlot()
    {
        string chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new AssertionException("chromium is not installed (./run.sh test installs Debian's chromium)");
        using var dir = new TempDir();
        DaemonProcessTests.Inputs(dir);
        string home = dir.File("home");
        var (code, stdout, stderr) = DaemonProcess.Run("submit", "--home", home, "--name", "web", "--data", dir.File("data.csv"),
            "--grammar", dir.File("grammar.json"), "--generations", "20", "--seed", "3", "--islands", "2", "--population", "30", "--threads", "1");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        int port = FreePort();
        var jobs = new JobHome(home, PhysicalFileSystem.Instance, Resilience.Io(3, TimeSpan.FromMilliseconds(20)));

        using var daemon = DaemonProcess.Start("daemon", "--home", home, "--poll", "100ms", "--status-interval", "50ms",
            "--http", port.ToString(CultureInfo.InvariantCulture));
        Assert.That(DaemonProcess.WaitUntil(() => daemon.Output.Contains("page: http://127.0.0.1:") && jobs.ReadStatus("web").State == JobState.Finished, Patience),
            Is.True, daemon.Output);
        Assert.That(daemon.Output, Does.Contain($"{ControlTokenFile(home)}, owner-only"));

        string url = $"http://127.0.0.1:{port}/";
        string dom = Chromium(chromium, dir, url, "--dump-dom");
        string screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "browser", "daemon-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        Chromium(chromium, dir, url, $"--screenshot={screenshot}", "--window-size=1100,1000");

        Assert.Multiple(() =>
        {
            Assert.That(dom, Does.Contain("id=\"job-row-web\""), "the job row");
            Assert.That(dom, Does.Contain("finished"), "its state");
            Assert.That(dom, Does.Match("<svg[^>]*id=\"pareto-plot\"[^>]*>.*<circle[^>]*class=\"front-point\""), "the Pareto plot with its points");
            Assert.That(dom, Does.Contain("<math"), "the hall of fame in rendered math");
            Assert.That(new FileInfo(screenshot).Length, Is.GreaterThan(1000), "the screenshot");
        });
        TestContext.AddTestAttachment(screenshot, "the daemon's page in headless chromium");

        daemon.Terminate();
        Assert.That(daemon.WaitForExit(Patience), Is.True, daemon.Output);
    }

    [Test]
    public void Http_PortAlreadyInUse_IsOneErrorLineAndExitCode1()
    {
        using var dir = new TempDir();
        var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        try
        {
            int port = ((IPEndPoint)busy.LocalEndpoint).Port;
            var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.File("home"), "--http", port.ToString(CultureInfo.InvariantCulture));

            Assert.That(code, Is.EqualTo(1), stderr);
            Assert.That(stderr, Does.StartWith($"error: --http {port}: cannot listen on 127.0.0.1:"));
            Assert.That(DaemonLock.IsHeld(dir.File("home")), Is.False);
        }
        finally { busy.Stop(); }
    }

    [Test]
    public void Http_BadPortOrAddress_AreRefusedNamingTheOption()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = DaemonProcess.Run("daemon", "--home", dir.File("home"), "--http", "70000", "--http-bind", "localhost:80");

        Assert.That(code, Is.EqualTo(DaemonHost.ExitInvalidOptions));
        Assert.That(stderr, Does.Contain("--http: must be a port 1..65535 (got 70000)").And.Contain("--http-bind: 'localhost:80' is not an IP address"));
    }

    private static string ControlTokenFile(string home) => Path.Combine(home, L2OEvolve.Cli.Web.ControlToken.FileName);

    /// <summary>A port nothing listens on now (the daemon binds it a moment later).</summary>
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>One headless chromium run with a fresh profile and no network of its own beyond the page; returns its stdout.</summary>
    private static string Chromium(string binary, TempDir dir, string url, params string[] mode)
    {
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={Directory.CreateDirectory(Path.Combine(dir.Path, "chromium-" + Guid.NewGuid().ToString("N"))).FullName}" })
            info.ArgumentList.Add(a);
        foreach (var a in mode) info.ArgumentList.Add(a);
        info.ArgumentList.Add(url);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Patience))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"chromium {string.Join(' ', mode)} did not finish: {errors.Result}");
        }
        Assert.That(p.ExitCode, Is.EqualTo(0), errors.Result);
        return output.Result;
    }
}
