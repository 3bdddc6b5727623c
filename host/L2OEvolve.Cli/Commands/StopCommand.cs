using System.CommandLine;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>stop --home DIR NAME</c>: asks the daemon to checkpoint job NAME and stop it.</summary>
public static class StopCommand
{
    public static Command Create()
    {
        var home = JobCommandHelpers.HomeOption();
        var name = new Argument<string>("name") { Description = "The job to stop." };
        var cmd = new Command("stop", "Stop a job: the daemon checkpoints it at the end of the current generation.") { home, name };
        cmd.SetAction(parse => CommandErrors.Guard(() =>
        {
            var h = JobCommandHelpers.OpenHome(parse.GetValue(home)!);
            string job = parse.GetValue(name)!;
            JobCommandHelpers.RequireJob(h, job);
            Console.WriteLine(JobControl.Stop(h, job).Message);
            return 0;
        }));
        return cmd;
    }
}
