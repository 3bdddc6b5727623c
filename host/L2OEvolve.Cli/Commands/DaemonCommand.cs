using System.CommandLine;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>daemon --home DIR [--workers N]</c>: runs the jobs in DIR until stopped (SIGTERM/SIGINT); with <c>--cluster FILE</c>
/// this process is one silo of a cluster that runs the jobs of DIR (a home every silo shares).
/// </summary>
public static class DaemonCommand
{
    public static Command Create()
    {
        var home = new Option<string>("--home") { Description = "The daemon's home directory (jobs, checkpoints, results).", Required = true };
        var workers = new Option<int>("--workers") { Description = "Jobs run at the same time.", DefaultValueFactory = _ => 1 };
        var everyGen = new Option<int>("--checkpoint-generations") { Description = "Checkpoint every N generations (0: by time only).", DefaultValueFactory = _ => 10 };
        var everyTime = new Option<string>("--checkpoint-interval") { Description = "Checkpoint at least this often (e.g. 60s, 5m).", DefaultValueFactory = _ => "60s" };
        var keep = new Option<int>("--keep") { Description = "Checkpoints kept per job (>= 2).", DefaultValueFactory = _ => 3 };
        var poll = new Option<string>("--poll") { Description = "How often to look for new jobs and stop requests.", DefaultValueFactory = _ => "1s" };
        var statusEvery = new Option<string>("--status-interval") { Description = "How often a running job's status file is refreshed.", DefaultValueFactory = _ => "1s" };
        var stepTimeout = new Option<string>("--evaluation-timeout") { Description = "A batch of fitness evaluations taking longer counts as hung.", DefaultValueFactory = _ => "10m" };
        var stepAttempts = new Option<int>("--evaluation-attempts") { Description = "Attempts at a failing batch of evaluations before the job is failed.", DefaultValueFactory = _ => 3 };
        var shutdown = new Option<string>("--shutdown-timeout") { Description = "Time allowed for final checkpoints after SIGTERM.", DefaultValueFactory = _ => "30s" };
        var exitIdle = new Option<bool>("--exit-when-idle") { Description = "Exit when no job is left to run." };
        var cluster = new Option<string?>("--cluster") { Description = "Run as one silo of a cluster described by this JSON file (see host/L2OEvolve.Cluster/README.md); --workers does not apply." };
        var http = new Option<int?>("--http") { Description = "Serve the live page, JSON API and /metrics on this port (off by default)." };
        var httpBind = new Option<string>("--http-bind") { Description = "Address the page is served on.", DefaultValueFactory = _ => "127.0.0.1" };

        var cmd = new Command("daemon", "Run the search daemon: resumes and runs the jobs in --home until stopped.")
        {
            home, workers, everyGen, everyTime, keep, poll, statusEvery, stepTimeout, stepAttempts, shutdown, exitIdle, cluster, http, httpBind,
        };
        cmd.SetAction((parse, ct) => CommandErrors.Guard(async () =>
        {
            var faults = new List<string>();
            TimeSpan Duration(Option<string> o)
            {
                string text = parse.GetValue(o)!;
                if (Durations.Parse(text) is { } d) return d;
                faults.Add($"{o.Name}: '{text}' is not a duration (e.g. 500ms, 30s, 5m, 2h)");
                return TimeSpan.Zero;
            }
            var options = new DaemonOptions
            {
                Home = Path.GetFullPath(parse.GetValue(home)!),
                Workers = parse.GetValue(workers),
                CheckpointEveryGenerations = parse.GetValue(everyGen),
                CheckpointInterval = Duration(everyTime),
                KeepCheckpoints = parse.GetValue(keep),
                PollInterval = Duration(poll),
                StatusInterval = Duration(statusEvery),
                EvaluationTimeout = Duration(stepTimeout),
                EvaluationAttempts = parse.GetValue(stepAttempts),
                ShutdownTimeout = Duration(shutdown),
                ExitWhenIdle = parse.GetValue(exitIdle),
                HttpPort = parse.GetValue(http),
                HttpBind = parse.GetValue(httpBind)!,
            };
            if (File.Exists(options.Home)) faults.Add($"--home: {options.Home} is a file, not a directory");
            if (faults.Count > 0)
            {
                // Name the other bad values too (the validator would otherwise report them only on the next try).
                var named = faults.Select(f => f.Split(':')[0]).ToHashSet(StringComparer.Ordinal);
                faults.AddRange((new DaemonOptionsValidator().Validate(null, options).Failures ?? []).Where(f => !named.Contains(f.Split(':')[0])));
                foreach (var f in faults) Console.Error.WriteLine($"error: {f}");
                return DaemonHost.ExitInvalidOptions;
            }
            // The host handles SIGTERM/SIGINT itself (stop, final checkpoints); ct is System.CommandLine's view of the same signals.
            var guard = Resilience.Evaluation(options.EvaluationTimeout, options.EvaluationAttempts);
            if (parse.GetValue(cluster) is { } clusterFile)
                return await ClusterDaemonHost.RunAsync(options, Path.GetFullPath(clusterFile), guard, CancellationToken.None);
            return await DaemonHost.RunAsync(options, JobKinds.All(guard), CancellationToken.None);
        }));
        return cmd;
    }
}
