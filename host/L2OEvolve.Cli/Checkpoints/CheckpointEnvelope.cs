using MessagePack;

namespace L2OEvolve.Cli.Checkpoints;

/// <summary>
/// What one checkpoint holds: the daemon's bookkeeping around the job's own state bytes (the search engine's
/// MessagePack codec output, opaque here). Integer keys keep the encoding stable when members are renamed.
/// </summary>
[MessagePackObject]
public sealed class CheckpointEnvelope
{
    /// <summary>The job's name.</summary>
    [Key(0)] public string JobName { get; init; } = "";

    /// <summary>The job kind (which factory can restore <see cref="State"/>).</summary>
    [Key(1)] public string JobKind { get; init; } = "";

    /// <summary>Generations completed when the checkpoint was taken.</summary>
    [Key(2)] public long Generation { get; init; }

    /// <summary>Fitness evaluations spent so far.</summary>
    [Key(3)] public long Evaluations { get; init; }

    /// <summary>Seconds the job has run in total, summed over daemon sessions.</summary>
    [Key(4)] public double ElapsedSeconds { get; init; }

    /// <summary>When the checkpoint was written (UTC ticks); informational only.</summary>
    [Key(5)] public long WrittenUtcTicks { get; init; }

    /// <summary>
    /// The settings and input-content hashes the state was produced under, field by field, so a resume can name
    /// exactly which ones changed.
    /// </summary>
    [Key(6)] public Dictionary<string, string> Fingerprint { get; init; } = [];

    /// <summary>The job's serialised search state.</summary>
    [Key(7)] public byte[] State { get; init; } = [];

    /// <summary>Encodes this envelope (without the file header).</summary>
    public byte[] ToBytes() => MessagePackSerializer.Serialize(this, MessagePackSerializerOptions.Standard);

    /// <summary>Decodes an envelope from a payload already checked by <see cref="CheckpointFile.Unframe"/>.</summary>
    public static CheckpointEnvelope FromBytes(ReadOnlyMemory<byte> payload) =>
        MessagePackSerializer.Deserialize<CheckpointEnvelope>(payload, MessagePackSerializerOptions.Standard);
}
