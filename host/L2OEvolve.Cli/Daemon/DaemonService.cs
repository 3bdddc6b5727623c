using L2OEvolve.Cli.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L2OEvolve.Cli.Daemon;

/// <summary>
/// The daemon's scheduler: scans the home for runnable jobs, runs up to <see cref="DaemonOptions.Workers"/> at a
/// time, and on shutdown waits for each running job to write its final checkpoint.
/// </summary>
public sealed partial class DaemonService(IOptions<DaemonOptions> options, JobHome home, JobRunner runner,
    IHostApplicationLifetime lifetime, ILogger<DaemonService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var running = new Dictionary<string, Task>(StringComparer.Ordinal);
        LogStarted(home.Root, o.Workers);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var (name, task) in running.Where(r => r.Value.IsCompleted).ToList())
            {
                if (task.Exception is { } e) LogRunnerCrashed(name, e.GetBaseException().Message);
                running.Remove(name);
            }

            bool anyWaiting = false;
            foreach (var name in RunnableJobs())
            {
                if (running.ContainsKey(name)) continue;
                if (File.Exists(home.StopPath(name)))
                {
                    home.WriteStatus(name, home.ReadStatus(name) with { State = JobState.Stopped, Message = "stopped on request", Updated = DateTimeOffset.UtcNow });
                    continue;
                }
                if (running.Count >= o.Workers) { anyWaiting = true; break; }
                LogStarting(name);
                running[name] = Task.Run(() => runner.RunAsync(name, stoppingToken), CancellationToken.None);
            }

            if (o.ExitWhenIdle && running.Count == 0 && !anyWaiting && !RunnableJobs().Any())
            {
                LogIdle();
                lifetime.StopApplication();
                break;
            }
            try { await Task.Delay(o.PollInterval, stoppingToken); }
            catch (OperationCanceledException) { }
        }
        // Each runner sees the cancelled token between generations and saves before returning.
        await Task.WhenAll(running.Values.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        LogStopped();
    }

    private IEnumerable<string> RunnableJobs() => RunnableJobs(home, runner.IsParked);

    /// <summary>Jobs that are not finished, failed, stopped or parked by this process, oldest submission first.</summary>
    internal static IEnumerable<string> RunnableJobs(JobHome home, Func<string, bool>? isParked = null) =>
        home.JobNames()
            .Where(n => !home.ReadStatus(n).IsTerminal && !(isParked?.Invoke(n) ?? false))
            .OrderBy(n => File.GetLastWriteTimeUtc(home.SpecPath(n)))
            .ThenBy(n => n, StringComparer.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "daemon started on {Home} with {Workers} worker(s)")]
    private partial void LogStarted(string home, int workers);

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job}: starting")]
    private partial void LogStarting(string job);

    [LoggerMessage(Level = LogLevel.Error, Message = "job {Job}: runner crashed: {Error}")]
    private partial void LogRunnerCrashed(string job, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "no jobs left to run; exiting")]
    private partial void LogIdle();

    [LoggerMessage(Level = LogLevel.Information, Message = "daemon stopped; every running job saved its state")]
    private partial void LogStopped();
}
