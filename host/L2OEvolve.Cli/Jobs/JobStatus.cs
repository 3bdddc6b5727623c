using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace L2OEvolve.Cli.Jobs;

/// <summary>Where a job is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobState>))]
public enum JobState
{
    /// <summary>Submitted or interrupted; the daemon will (re)start it.</summary>
    Queued,
    /// <summary>A daemon is running it.</summary>
    Running,
    /// <summary>Stopped on request; its checkpoint is kept.</summary>
    Stopped,
    /// <summary>Reached its budget or converged.</summary>
    Finished,
    /// <summary>Cannot run; <see cref="JobStatus.Message"/> says why.</summary>
    Failed,
}

/// <summary>A job's progress as last reported by the daemon (<c>HOME/jobs/NAME/status.json</c>); <see cref="Counters"/> are the job's <see cref="ISearchJob.Counters"/>.</summary>
public sealed record JobStatus(
    JobState State,
    long Generation,
    long Evaluations,
    double ElapsedSeconds,
    ImmutableArray<FrontPoint> Front,
    long? CheckpointGeneration,
    string? Message,
    DateTimeOffset Updated,
    JobTimings? Timings = null,
    IReadOnlyDictionary<string, long>? Counters = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A job nobody has started yet.</summary>
    public static JobStatus Initial { get; } = new(JobState.Queued, 0, 0, 0, [], null, null, DateTimeOffset.UnixEpoch);

    /// <summary>True for states the daemon will not run again.</summary>
    public bool IsTerminal => State is JobState.Stopped or JobState.Finished or JobState.Failed;

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads a status file; a damaged one (e.g. from an older build) reads as <see cref="Initial"/>.</summary>
    public static JobStatus FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<JobStatus>(json, Json) ?? Initial; }
        catch (JsonException) { return Initial; }
    }
}

/// <summary>Where a job's time went in the current daemon session: generations versus checkpoints.</summary>
/// <param name="Generations">Generations stepped.</param>
/// <param name="GenerationSeconds">Time spent in them.</param>
/// <param name="Checkpoints">Checkpoints written.</param>
/// <param name="CheckpointSeconds">Time spent writing them (encode, frame, write, flush to disk, rename, prune).</param>
/// <param name="CheckpointBytes">Size of the newest checkpoint file.</param>
/// <param name="EncodeSeconds">The part of <paramref name="CheckpointSeconds"/> spent encoding the search state (the rest is framing and I/O).</param>
/// <param name="MedianCheckpointSeconds">Median time of the recent checkpoints (the first one also pays for serializer warm-up).</param>
/// <param name="MedianEncodeSeconds">Median encoding time of the recent checkpoints.</param>
public sealed record JobTimings(long Generations, double GenerationSeconds, long Checkpoints, double CheckpointSeconds, long CheckpointBytes,
    double EncodeSeconds = 0, double MedianCheckpointSeconds = 0, double MedianEncodeSeconds = 0)
{
    /// <summary>Mean seconds per generation.</summary>
    public double SecondsPerGeneration => Generations == 0 ? 0 : GenerationSeconds / Generations;

    /// <summary>Mean seconds per checkpoint.</summary>
    public double SecondsPerCheckpoint => Checkpoints == 0 ? 0 : CheckpointSeconds / Checkpoints;

    /// <summary>One checkpoint's time as a share of one generation's.</summary>
    public double CheckpointShareOfGeneration => SecondsPerGeneration == 0 ? 0 : SecondsPerCheckpoint / SecondsPerGeneration;
}
