using System.Text.RegularExpressions;
using L2OEvolve.Cli.Jobs;
using Microsoft.AspNetCore.Http;

namespace L2OEvolve.Cli.Web;

/// <summary>A file of a job offered for download.</summary>
public sealed record JobFile(string Name, long Bytes, DateTimeOffset Modified);

/// <summary>
/// Names from requests, checked so they can only ever reach a job's own directory: a job name must be a valid job
/// name of an existing job, and a file must be one of the plain files listed in that directory (never a path).
/// </summary>
public static partial class JobFiles
{
    /// <summary>Files a job directory holds that are not for people (the daemon's own bookkeeping).</summary>
    private static readonly HashSet<string> Hidden = new(StringComparer.Ordinal) { "stop", "status.json" };

    /// <summary>Null when <paramref name="name"/> is an existing job of <paramref name="home"/>; else the 400 or 404 to answer.</summary>
    public static IResult? Check(JobHome home, string name)
    {
        if (JobSpec.NameFault(name) is { } fault) return Results.BadRequest(new { error = fault });
        return File.Exists(home.SpecPath(name)) && Inside(home.JobsDirectory, home.JobDirectory(name))
            ? null : Results.NotFound(new { error = $"no job '{name}'" });
    }

    /// <summary>The downloadable files of job <paramref name="name"/> (hall of fame, result, job file), newest first.</summary>
    public static IReadOnlyList<JobFile> List(JobHome home, string name)
    {
        var dir = new DirectoryInfo(home.JobDirectory(name));
        if (!dir.Exists) return [];
        return [.. dir.EnumerateFiles()
            .Where(f => PlainName().IsMatch(f.Name) && !Hidden.Contains(f.Name) && !f.Name.EndsWith(".tmp", StringComparison.Ordinal))
            .OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new JobFile(f.Name, f.Length, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))];
    }

    /// <summary>The full path of the listed file <paramref name="file"/> of job <paramref name="name"/>; null for any other name.</summary>
    public static string? Resolve(JobHome home, string name, string file)
    {
        if (!List(home, name).Any(f => f.Name == file)) return null;
        string path = Path.GetFullPath(Path.Combine(home.JobDirectory(name), file));
        return Inside(home.JobDirectory(name), path) ? path : null;
    }

    private static bool Inside(string directory, string path) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex PlainName();
}
