using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Cli.Jobs;

/// <summary>A job's progress as its files tell it: the status brought up to its newest checkpoint, and the time left.</summary>
public static class JobProgress
{
    /// <summary>
    /// The job's status file, brought forward to its newest valid checkpoint when that is further along: a daemon
    /// killed before its first status write, or one on a full disk, leaves a status older than its checkpoints.
    /// </summary>
    public static JobStatus Current(JobHome home, string name)
    {
        var s = home.ReadStatus(name);
        if (s.IsTerminal) return s;
        var (envelope, path, _) = home.Checkpoints(name, keep: int.MaxValue).LoadNewestValid();
        if (envelope is null || envelope.JobName != name || s.CheckpointGeneration >= envelope.Generation) return s;
        string note = $"progress read from checkpoint {Path.GetFileName(path)}: the status file is older";
        var caughtUp = envelope.Generation > s.Generation
            ? s with { Generation = envelope.Generation, Evaluations = envelope.Evaluations, ElapsedSeconds = envelope.ElapsedSeconds }
            : s;
        return caughtUp with { CheckpointGeneration = envelope.Generation, Message = s.Message is null ? note : $"{s.Message}; {note}" };
    }

    /// <summary>Time to the nearest budget limit, extrapolating the job's average rate; "-" without a budget.</summary>
    public static string Eta(JobBudget b, JobStatus s)
    {
        if (s.IsTerminal) return "-";
        var remaining = new List<double>();
        if (b.Seconds is { } limit) remaining.Add(Math.Max(0, limit - s.ElapsedSeconds));
        if (b.Generations is { } g && s.Generation > 0) remaining.Add(s.ElapsedSeconds / s.Generation * Math.Max(0, g - s.Generation));
        if (b.Evaluations is { } n && s.Evaluations > 0) remaining.Add(s.ElapsedSeconds / s.Evaluations * Math.Max(0, n - s.Evaluations));
        return remaining.Count == 0 ? "-" : Durations.Format(remaining.Min());
    }
}
