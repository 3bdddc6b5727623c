
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Cli.Web;

/// <summary>One job as the page's job list shows it.</summary>
/// <param name="EvaluationsPerSecond">Over the recent samples of this daemon session, else the job's mean rate.</param>
/// <param name="Eta">Time to the nearest budget limit ("-" without one), as <c>status</c> prints it.</param>
/// <param name="CheckpointTime">When the newest checkpoint file was written.</param>
public sealed record JobSummary(string Name, string State, long Generation, long Evaluations, double EvaluationsPerSecond,
    double? BestLoss, string Eta, double ElapsedSeconds, long? CheckpointGeneration, DateTimeOffset? CheckpointTime,
    string? Message, DateTimeOffset Updated);

/// <summary>The best loss at one moment of a job's run, on the job's own clock (which carries on across resumes).</summary>
public readonly record struct LossSample(double ElapsedSeconds, long Generation, long Evaluations, double BestLoss);

/// <summary>
/// Samples the status files of a home and keeps, per job, the best loss over time (the status file holds only the
/// present). Kept in memory for the daemon's session, thinned so a job running for days stays a few hundred points.
/// </summary>
/// <remarks>
/// <code>
/// sample: for each job: status = read status.json
///         if its generation differs from the last sample's: append (elapsed, generation, evaluations, best loss)
///         if the history exceeds the cap: keep every second point (the newest is always kept)
/// </code>
/// </remarks>
public sealed class JobWatcher(JobHome home)
{
    /// <summary>Points kept per job before thinning.</summary>
    public const int HistoryCap = 512;

    /// <summary>The span of job time the evaluation rate is measured over.</summary>
    private const double RateWindowSeconds = 30;

    private readonly Dictionary<string, List<LossSample>> _history = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The home watched.</summary>
    public JobHome Home => home;

    /// <summary>Reads every job's status once and records a point for each job whose generation moved.</summary>
    public void Sample()
    {
        foreach (var name in home.JobNames()) Record(name, home.ReadStatus(name));
    }

    /// <summary>Records one observed status of job <paramref name="name"/> (a sample of <see cref="Sample"/>).</summary>
    public void Record(string name, JobStatus status)
    {
        if (status.Front.Length == 0) return;
        var point = new LossSample(status.ElapsedSeconds, status.Generation, status.Evaluations, status.Front.Min(p => p.Loss));
        lock (_gate)
        {
            if (!_history.TryGetValue(name, out var list)) _history[name] = list = [];
            if (list.Count > 0 && list[^1].Generation == point.Generation) return;
            // A job restarted from an older checkpoint repeats generations; its curve restarts there.
            if (list.Count > 0 && point.Generation < list[^1].Generation) list.RemoveAll(p => p.Generation >= point.Generation);
            list.Add(point);
            if (list.Count > HistoryCap) Thin(list);
        }
    }

    private static void Thin(List<LossSample> list)
    {
        var newest = list[^1];
        var kept = list.Where((_, i) => i % 2 == 0).ToList();
        if (kept[^1] != newest) kept.Add(newest);
        list.Clear();
        list.AddRange(kept);
    }

    /// <summary>The recorded best loss over time of job <paramref name="name"/>, oldest first.</summary>
    public IReadOnlyList<LossSample> History(string name)
    {
        lock (_gate) return _history.TryGetValue(name, out var list) ? [.. list] : [];
    }

    /// <summary>The job list row of job <paramref name="name"/> from its current status.</summary>
    public JobSummary Summary(string name, bool daemonRunning = true)
    {
        var s = home.ReadStatus(name);
        var (spec, faults) = home.ReadSpec(name);
        string state = faults.Count > 0 && !s.IsTerminal ? "malformed"
            : s.State == JobState.Running && !daemonRunning ? "interrupted" : s.State.ToString().ToLowerInvariant();
        return new JobSummary(name, state, s.Generation, s.Evaluations, Rate(name, s), s.Front.Length == 0 ? null : s.Front.Min(p => p.Loss),
            spec is null ? "-" : JobProgress.Eta(spec.Budget, s), s.ElapsedSeconds, s.CheckpointGeneration, NewestCheckpointTime(name),
            s.Message, s.Updated);
    }

    /// <summary>Evaluations per second over the last <see cref="RateWindowSeconds"/> of job time, else the mean.</summary>
    private double Rate(string name, JobStatus s)
    {
        var history = History(name);
        var recent = history.LastOrDefault(p => s.ElapsedSeconds - p.ElapsedSeconds >= RateWindowSeconds);
        if (history.Count >= 2 && recent == default) recent = history[0];
        if (recent != default && s.ElapsedSeconds > recent.ElapsedSeconds && s.Evaluations >= recent.Evaluations)
            return (s.Evaluations - recent.Evaluations) / (s.ElapsedSeconds - recent.ElapsedSeconds);
        return s.ElapsedSeconds > 0 ? s.Evaluations / s.ElapsedSeconds : 0;
    }

    private DateTimeOffset? NewestCheckpointTime(string name)
    {
        var dir = new DirectoryInfo(home.CheckpointDirectory(name));
        if (!dir.Exists) return null;
        var newest = dir.EnumerateFiles("*.l2ock").MaxBy(f => f.LastWriteTimeUtc);
        return newest is null ? null : new DateTimeOffset(newest.LastWriteTimeUtc, TimeSpan.Zero);
    }
}
