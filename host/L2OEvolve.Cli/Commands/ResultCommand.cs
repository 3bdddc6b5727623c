using System.CommandLine;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>result --home DIR NAME</c>: prints the job's hall of fame as <c>sr</c> prints it.</summary>
public static class ResultCommand
{
    public static Command Create()
    {
        var home = JobCommandHelpers.HomeOption();
        var name = new Argument<string>("name") { Description = "The job." };
        var cmd = new Command("result", "Print a job's hall of fame (as of its newest checkpoint while it runs).") { home, name };
        cmd.SetAction(parse => CommandErrors.Guard(() =>
        {
            var h = JobCommandHelpers.OpenHome(parse.GetValue(home)!);
            string job = parse.GetValue(name)!;
            JobCommandHelpers.RequireJob(h, job);
            var status = h.ReadStatus(job);
            if (!File.Exists(h.ResultPath(job)))
            {
                Console.Error.WriteLine($"error: job '{job}' has no result yet (state {status.State.ToString().ToLowerInvariant()}, generation {status.Generation}" +
                    (status.Message is { } why ? $": {why})" : ")"));
                return 1;
            }
            if (status.State != Jobs.JobState.Finished)
                Console.Error.WriteLine($"note: job '{job}' is {status.State.ToString().ToLowerInvariant()}; this is its latest reported hall of fame (refreshed at checkpoints, at most every 30 s)");
            Console.Write(File.ReadAllText(h.ResultPath(job)));
            return 0;
        }));
        return cmd;
    }
}
