using System.CommandLine;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Cli.Commands;

/// <summary>What the job verbs (submit, status, stop, result) share: the --home option and opening a home.</summary>
internal static class JobCommandHelpers
{
    public static Option<string> HomeOption() =>
        new("--home") { Description = "The daemon's home directory.", Required = true };

    public static JobHome OpenHome(string path) =>
        new(path, PhysicalFileSystem.Instance, Resilience.Io(3, TimeSpan.FromMilliseconds(100)));

    /// <summary>Checks that job <paramref name="name"/> exists; prints a clear error otherwise.</summary>
    public static bool JobExists(JobHome home, string name)
    {
        if (JobSpec.NameFault(name) is { } fault) { Console.Error.WriteLine($"error: {fault}"); return false; }
        if (File.Exists(home.SpecPath(name))) return true;
        Console.Error.WriteLine($"error: no job '{name}' in {home.Root} (known: {string.Join(", ", home.JobNames().DefaultIfEmpty("none"))})");
        return false;
    }
}
