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
    /// Resumes job <paramref name="name"/> (see <see cref="JobControl.Resume"/>) and returns the exit code
    /// (an unknown job throws <see cref="L2OEvolve.Engine.InputException"/>).
    /// </summary>
    public static int Resume(JobHome home, string name)
    {
        JobCommandHelpers.RequireJob(home, name);
        var outcome = JobControl.Resume(home, name);
        if (!outcome.Done) return CommandErrors.Fail(outcome.Message);
        Console.WriteLine(outcome.Message);
        return 0;
    }
}
