using System.CommandLine;
using System.Globalization;
using System.Text;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>status --home DIR [NAME]</c>: a table of jobs, or one job in detail.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var home = JobCommandHelpers.HomeOption();
        var name = new Argument<string?>("name") { Description = "Show this job in detail.", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("status", "Show the state and progress of the jobs in a daemon's home.") { home, name };
        cmd.SetAction(parse => CommandErrors.Guard(() =>
        {
            var h = JobCommandHelpers.OpenHome(parse.GetValue(home)!);
            var cluster = ClusterHome.ReadView(h);
            bool daemonRunning = DaemonLock.IsHeld(h.Root) || ClusterHome.IsLive(cluster);
            if (parse.GetValue(name) is { } job)
            {
                JobCommandHelpers.RequireJob(h, job);
                Console.Write(Detail(h, job, daemonRunning));
                Console.Write(Islands(h, job));
                return 0;
            }
            Console.Write(Table(h, daemonRunning));
            Console.Write(Silos(cluster));
            return 0;
        }));
        return cmd;
    }

    /// <summary>One row per job: state, generation, evaluations, best loss at a few complexities, elapsed, ETA.</summary>
    public static string Table(JobHome home, bool daemonRunning)
    {
        var rows = new List<string[]> { new[] { "NAME", "STATE", "GEN", "EVALS", "BEST LOSS (complexity:loss)", "ELAPSED", "ETA" } };
        foreach (var name in home.JobNames())
        {
            var s = JobProgress.Current(home, name);
            var (spec, faults) = home.ReadSpec(name);
            // A malformed job file is failed by the daemon when it meets it; say so before that happens.
            string state = faults.Count > 0 && !s.IsTerminal ? "malformed" : StateText(s, daemonRunning);
            rows.Add([name, state, s.Generation.ToString(CultureInfo.InvariantCulture),
                s.Evaluations.ToString(CultureInfo.InvariantCulture), FewComplexities(s.Front), Durations.Format(s.ElapsedSeconds),
                spec is null ? "-" : JobProgress.Eta(spec.Budget, s)]);
        }
        var sb = new StringBuilder();
        if (!daemonRunning) sb.AppendLine($"(no daemon is running on {home.Root})");
        if (rows.Count == 1) { sb.AppendLine("no jobs"); return sb.ToString(); }
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var r in rows)
            sb.AppendLine(string.Join("  ", r.Select((cell, c) => c == r.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>One job: its spec, progress, full front and any message (failure reason, skipped checkpoints).</summary>
    public static string Detail(JobHome home, string name, bool daemonRunning)
    {
        var s = JobProgress.Current(home, name);
        var (spec, faults) = home.ReadSpec(name);
        var sb = new StringBuilder();
        sb.AppendLine($"job:         {name}");
        sb.AppendLine($"state:       {StateText(s, daemonRunning)}");
        if (spec is not null)
        {
            sb.AppendLine($"kind:        {spec.Kind}");
            sb.AppendLine($"data:        {spec.Data}{(spec.Target is null ? "" : $" (target {spec.Target})")}");
            sb.AppendLine($"grammar:     {spec.Grammar}");
            sb.AppendLine($"seed:        {spec.Seed}");
            sb.AppendLine($"budget:      {BudgetText(spec.Budget)}");
        }
        foreach (var f in faults) sb.AppendLine($"fault:       {f}");
        sb.AppendLine($"generation:  {s.Generation}");
        sb.AppendLine($"evaluations: {s.Evaluations}");
        sb.AppendLine($"elapsed:     {Durations.Format(s.ElapsedSeconds)}");
        if (spec is not null) sb.AppendLine($"eta:         {JobProgress.Eta(spec.Budget, s)}");
        sb.AppendLine($"checkpoint:  {(s.CheckpointGeneration is { } g ? $"generation {g}" : "none")}");
        if (s.Timings is { Generations: > 0 } t)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"timing:      {t.SecondsPerGeneration * 1e3:F1} ms/generation, {t.SecondsPerCheckpoint * 1e3:F1} ms/checkpoint ({t.Checkpoints} written, {t.CheckpointBytes} bytes each) in this session"));
        if (s.Message is not null) sb.AppendLine($"message:     {s.Message}");
        if (s.Front.Length > 0)
        {
            sb.AppendLine("best loss by complexity:");
            foreach (var p in s.Front)
                sb.AppendLine($"  {p.Complexity,4}  {p.Loss.ToString("G6", CultureInfo.InvariantCulture),-12}  {p.Equation}");
        }
        return sb.ToString();
    }

    /// <summary>The cluster's silos as last recorded in the home (empty for a home never run by a cluster).</summary>
    public static string Silos(ClusterHome.View? view)
    {
        if (view is null) return "";
        var sb = new StringBuilder();
        string age = Durations.Format((DateTimeOffset.UtcNow - view.Updated).TotalSeconds);
        sb.AppendLine($"cluster {view.ClusterId}{(ClusterHome.IsLive(view) ? "" : " (not running)")}, seen {age} ago: {view.Silos.Count(s => s.Status == "active")} active silo(s)");
        foreach (var s in view.Silos) sb.AppendLine($"  {s.Address,-32} {s.Status,-10} {s.Name}");
        return sb.ToString();
    }

    /// <summary>Where a job's coordinator and each of its islands ran its last generation on a cluster (empty if it never ran on one).</summary>
    public static string Islands(JobHome home, string name)
    {
        if (ClusterHome.ReadPlacement(home, name) is not { } placement) return "";
        var sb = new StringBuilder($"coordinator: {placement.Coordinator}\nislands (silo of the last generation):\n");
        for (int i = 0; i < placement.Islands.Length; i++) sb.AppendLine($"  {i,4}  {placement.Islands[i]}");
        return sb.ToString();
    }

    private static string StateText(JobStatus s, bool daemonRunning) =>
        s.State == JobState.Running && !daemonRunning ? "interrupted" : s.State.ToString().ToLowerInvariant();

    /// <summary>The loss at up to four complexities spread over the front (simplest, most accurate, two between).</summary>
    private static string FewComplexities(IReadOnlyList<FrontPoint> front)
    {
        if (front.Count == 0) return "-";
        var picks = new SortedSet<int> { 0, front.Count - 1, front.Count / 3, 2 * front.Count / 3 };
        return string.Join(" ", picks.Select(i => $"{front[i].Complexity}:{front[i].Loss.ToString("0.###e+0", CultureInfo.InvariantCulture)}"));
    }

    private static string BudgetText(JobBudget b)
    {
        var parts = new List<string>();
        if (b.Generations is { } g) parts.Add($"{g} generations");
        if (b.Seconds is { } s) parts.Add(Durations.Format(s));
        if (b.Evaluations is { } n) parts.Add($"{n} evaluations");
        if (b.TargetLoss is { } l) parts.Add($"loss <= {l.ToString("G6", CultureInfo.InvariantCulture)}");
        if (b.TargetR2 is { } r2) parts.Add($"R2 >= {r2.ToString("G6", CultureInfo.InvariantCulture)}");
        return parts.Count == 0 ? "none (runs until stopped)" : string.Join(", ", parts);
    }
}
