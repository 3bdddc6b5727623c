using L2OEvolve.Engine;
using System.Text;
using L2OEvolve.Cli.Checkpoints;
using Polly;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// The daemon's home directory layout, shared by the daemon and the <c>submit/status/stop/result</c> verbs:
/// <code>
/// HOME/daemon.lock                    held by the running daemon
/// HOME/jobs/NAME/job.json             the submitted spec
/// HOME/jobs/NAME/status.json          progress, written by the daemon
/// HOME/jobs/NAME/stop                 a stop request, written by `stop`
/// HOME/jobs/NAME/checkpoints/         ckpt-GGGGGGGGGG.l2ock, the newest K
/// HOME/jobs/NAME/hall_of_fame.csv     and result.txt: the latest hall of fame
/// </code>
/// </summary>
public sealed class JobHome(string root, IFileSystem fileSystem, ResiliencePipeline io)
{
    /// <summary>The home directory.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The directory holding one folder per job.</summary>
    public string JobsDirectory => Path.Combine(Root, "jobs");

    public string JobDirectory(string name) => Path.Combine(JobsDirectory, name);
    public string SpecPath(string name) => Path.Combine(JobDirectory(name), "job.json");
    public string StatusPath(string name) => Path.Combine(JobDirectory(name), "status.json");
    public string StopPath(string name) => Path.Combine(JobDirectory(name), "stop");
    public string CheckpointDirectory(string name) => Path.Combine(JobDirectory(name), "checkpoints");
    public string HallOfFameCsvPath(string name) => Path.Combine(JobDirectory(name), "hall_of_fame.csv");
    public string ResultPath(string name) => Path.Combine(JobDirectory(name), "result.txt");

    /// <summary>The names of all jobs (directories holding a job.json), in ordinal order.</summary>
    public IReadOnlyList<string> JobNames() =>
        Directory.Exists(JobsDirectory)
            ? Directory.GetDirectories(JobsDirectory)
                .Where(d => File.Exists(Path.Combine(d, "job.json")))
                .Select(d => Path.GetFileName(d)!)
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    /// <summary>The checkpoint store of one job.</summary>
    public CheckpointStore Checkpoints(string name, int keep) => new(CheckpointDirectory(name), fileSystem, io, keep);

    /// <summary>Reads and validates a job file; faults name the file, field and problem.</summary>
    public (JobSpec? Spec, IReadOnlyList<JobFault> Faults) ReadSpec(string name)
    {
        string path = SpecPath(name);
        string json;
        try { json = io.Execute(() => InputFiles.ReadText(path, InputFiles.JsonBytes, "job file")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [new(path, "(document)", $"cannot be read: {e.Message}")]);
        }
        catch (InputException e) { return (null, [new(path, "(document)", e.Fault)]); }
        return JobSpec.Parse(json, path, expectedName: name);
    }

    /// <summary>The job's last reported status (<see cref="JobStatus.Initial"/> before the daemon has seen it).</summary>
    public JobStatus ReadStatus(string name)
    {
        string path = StatusPath(name);
        try { return File.Exists(path) ? JobStatus.FromJson(io.Execute(() => File.ReadAllText(path))) : JobStatus.Initial; }
        catch (IOException) { return JobStatus.Initial; }
    }

    /// <summary>
    /// Replaces the job's status file atomically. Not flushed to disk: it is rewritten several times a second, and
    /// after a power loss a stale or empty status only makes the daemon resume the job from its checkpoint.
    /// </summary>
    public void WriteStatus(string name, JobStatus status) => WriteAtomically(StatusPath(name), status.ToJson(), durable: false);

    /// <summary>
    /// Replaces a small text file atomically (temporary file, rename), with I/O retries; <paramref name="durable"/>
    /// also flushes it to disk before the rename.
    /// </summary>
    public void WriteAtomically(string path, string text, bool durable = true)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        string temp = path + ".tmp";
        io.Execute(() =>
        {
            fileSystem.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = fileSystem.Create(temp))
            {
                stream.Write(bytes);
                if (durable && stream is FileStream fs) fs.Flush(flushToDisk: true); else stream.Flush();
            }
            fileSystem.Move(temp, path);
            if (durable) fileSystem.SyncDirectory(Path.GetDirectoryName(path)!);
        });
    }
}
