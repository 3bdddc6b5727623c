using System.CommandLine;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine;

namespace L2OEvolve.Cli.Commands;

/// <summary>What the job verbs (submit, status, stop, result) share: the --home option and opening a home.</summary>
internal static class JobCommandHelpers
{
    public static Option<string> HomeOption() =>
        new("--home") { Description = "The daemon's home directory.", Required = true };

    /// <summary>
    /// The home at <paramref name="path"/>; <paramref name="create"/> allows one that does not exist yet (submit makes
    /// it). A path naming a file, or a missing home to read from, is bad input naming the path.
    /// </summary>
    public static JobHome OpenHome(string path, bool create = false)
    {
        if (File.Exists(path)) throw new InputException("a file, not a directory", path, "--home");
        if (!create && !Directory.Exists(path))
            throw new InputException("no such directory (submit or daemon makes a home)", path, "--home");
        return new(path, PhysicalFileSystem.Instance, Resilience.Io(3, TimeSpan.FromMilliseconds(100)));
    }

    /// <summary>Checks that job <paramref name="name"/> exists; bad input naming the known jobs otherwise.</summary>
    public static void RequireJob(JobHome home, string name)
    {
        if (JobSpec.NameFault(name) is { } fault) throw new InputException(fault);
        if (!File.Exists(home.SpecPath(name)))
            throw new InputException($"no job '{name}' in {home.Root} (known: {string.Join(", ", home.JobNames().DefaultIfEmpty("none"))})");
    }
}
