using System.Diagnostics;
using System.Text;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>
/// The real CLI run as a separate process (<c>dotnet host/L2OEvolve.Cli/bin/CONFIG/net10.0/l2oevolve.dll</c>), so
/// tests can kill -9 it, send it SIGTERM, and start a second one on the same home.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private DaemonProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything the process printed so far (stdout and stderr).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The CLI built next to this test assembly's configuration.</summary>
    public static string CliDll { get; } = FindCli();

    /// <summary>Starts <c>l2oevolve ARGS</c> in the background.</summary>
    public static DaemonProcess Start(params string[] args) => new(Process.Start(Info(args))!);

    /// <summary>Runs <c>l2oevolve ARGS</c> to completion (for submit, status, result, and a refused second daemon).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var p = Process.Start(Info(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException($"l2oevolve {string.Join(' ', args)} did not exit"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void Kill9()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as a service manager sends on stop.</summary>
    public void Terminate() => PosixSignal.Send(_process.Id, PosixSignal.Terminate);

    /// <summary>SIGSTOP: every thread stops, timers included, until <see cref="Thaw"/>; the wall clock runs on.</summary>
    public void Freeze() => PosixSignal.Send(_process.Id, PosixSignal.Stop);

    /// <summary>SIGCONT after <see cref="Freeze"/>: timers that fell due meanwhile fire at once.</summary>
    public void Thaw() => PosixSignal.Send(_process.Id, PosixSignal.Continue);

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // drains the asynchronous output readers
        return true;
    }

    public void Dispose()
    {
        if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); }
        _process.Dispose();
    }

    private static ProcessStartInfo Info(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_TieredPGO"] = "0";
        return info;
    }

    private static string FindCli()
    {
        // tests/L2OEvolve.Torch.Tests/bin/CONFIG/net10.0 → the repository root is four levels up.
        var testDir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        string config = testDir.Parent!.Name;
        for (var d = testDir; d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "host", "L2OEvolve.Cli", "bin", config, "net10.0", "l2oevolve.dll");
            if (File.Exists(candidate)) return candidate;
        }
        // The referenced CLI is also copied next to the tests.
        return Path.Combine(testDir.FullName, "l2oevolve.dll");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }
}
