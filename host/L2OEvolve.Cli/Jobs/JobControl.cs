namespace L2OEvolve.Cli.Jobs;

/// <summary>What a stop or resume request did: <paramref name="Done"/> false means nothing changed, and <paramref name="Message"/> says why.</summary>
public sealed record ControlOutcome(bool Done, string Message);

/// <summary>
/// Stop and resume requests on a home, shared by the <c>stop</c>/<c>resume</c> verbs and the daemon's HTTP API.
/// The caller has checked that the job exists.
/// </summary>
public static class JobControl
{
    /// <summary>Asks the daemon to checkpoint job <paramref name="name"/> and stop it after the current generation.</summary>
    public static ControlOutcome Stop(JobHome home, string name)
    {
        home.WriteAtomically(home.StopPath(name), DateTimeOffset.UtcNow.ToString("O") + "\n");
        return new(true, $"stop requested for '{name}': the daemon checkpoints and stops it after the current generation");
    }

    /// <summary>
    /// Removes the job's stop request and, if the daemon already stopped it, queues it again; a finished, failed or
    /// running job is left as it is. The stop file goes first: a daemon that sees a queued job beside a stop file
    /// would mark it stopped again.
    /// </summary>
    public static ControlOutcome Resume(JobHome home, string name)
    {
        var status = home.ReadStatus(name);
        bool stopRequested = File.Exists(home.StopPath(name));
        if (status.State is JobState.Finished or JobState.Failed)
            return new(false, $"job '{name}' is {status.State.ToString().ToLowerInvariant()}, not stopped; only a stopped job can be resumed" +
                (status.Message is { } m ? $" ({m})" : ""));
        if (status.State != JobState.Stopped && !stopRequested)
            return new(false, $"job '{name}' is {status.State.ToString().ToLowerInvariant()}, not stopped; nothing to resume");

        if (stopRequested) File.Delete(home.StopPath(name));
        if (status.State != JobState.Stopped) return new(true, $"stop request for '{name}' withdrawn: it keeps running");
        home.WriteStatus(name, status with { State = JobState.Queued, Message = "resumed on request", Updated = DateTimeOffset.UtcNow });
        return new(true, $"resumed '{name}': the daemon carries it on from its checkpoint at generation {status.CheckpointGeneration?.ToString() ?? "0 (none yet)"}");
    }
}
