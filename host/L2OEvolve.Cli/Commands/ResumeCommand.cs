using System.CommandLine;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>resume --home DIR NAME</c>: clears a stop so the daemon carries the job on from its last checkpoint.</summary>
public static class ResumeCommand
{
    public static Command Create()
    {
        var home = JobCommandHelpers.HomeOption();
        var name = new Argument<string>("name") { Description = "The stopped job." };
        var cmd = new Command("resume", "Resume a stopped job: the daemon carries it on from its last checkpoint.") { home, name };
        cmd.SetAction(parse => CommandErrors.Guard(() => Resume(JobCommandHelpers.OpenHome(parse.GetValue(home)!), parse.GetValue(name)!)));
        return cmd;
    }

    /// <summary>
    /// Removes the job's stop request and, if the daemon already stopped it, queues it again; returns the exit code
    /// (an unknown job throws <see cref="L2OEvolve.Engine.InputException"/>).
    /// The stop file goes first: a daemon that sees a queued job beside a stop file would mark it stopped again.
    /// </summary>
    public static int Resume(JobHome home, string name)
    {
        JobCommandHelpers.RequireJob(home, name);
        var status = home.ReadStatus(name);
        bool stopRequested = File.Exists(home.StopPath(name));
        if (status.State is JobState.Finished or JobState.Failed)
            return CommandErrors.Fail($"job '{name}' is {status.State.ToString().ToLowerInvariant()}, not stopped; only a stopped job can be resumed" +
                (status.Message is { } m ? $" ({m})" : ""));
        if (status.State != JobState.Stopped && !stopRequested)
            return CommandErrors.Fail($"job '{name}' is {status.State.ToString().ToLowerInvariant()}, not stopped; nothing to resume");

        if (stopRequested) File.Delete(home.StopPath(name));
        if (status.State == JobState.Stopped)
        {
            home.WriteStatus(name, status with { State = JobState.Queued, Message = "resumed on request", Updated = DateTimeOffset.UtcNow });
            Console.WriteLine($"resumed '{name}': the daemon carries it on from its checkpoint at generation {status.CheckpointGeneration?.ToString() ?? "0 (none yet)"}");
        }
        else Console.WriteLine($"stop request for '{name}' withdrawn: it keeps running");
        return 0;
    }
}
