using L2OEvolve.Engine.Persistence;
using MessagePack;

namespace L2OEvolve.Cluster;

/// <summary>What an island needs to breed one generation: its members and generator at the barrier, and the generation's shared plan.</summary>
[MessagePackObject]
public sealed class BreedRequest
{
    [Key(0)] public int SchemaVersion { get; set; }
    [Key(1)] public IslandDto Island { get; set; } = new();
    [Key(2)] public int Generation { get; set; }
    [Key(3)] public int PerIsland { get; set; }
    [Key(4)] public int[] FrequencyKeys { get; set; } = [];
    [Key(5)] public double[] FrequencyValues { get; set; } = [];
    [Key(6)] public ulong ScoreSeed { get; set; }
    [Key(7)] public ulong TuneSeed { get; set; }
}

/// <summary>An island's children in breeding order (trees, tune draws, objectives), its generator after breeding, and where it ran.</summary>
[MessagePackObject]
public sealed class BreedReply
{
    [Key(0)] public ExprDto[] Trees { get; set; } = [];
    [Key(1)] public bool[] Tune { get; set; } = [];
    [Key(2)] public double[][] Scores { get; set; } = [];
    [Key(3)] public ulong[] Rng { get; set; } = [];
    [Key(4)] public string Silo { get; set; } = "";
}

/// <summary>An island's children with their scores, and which of them (island-local indices) the coordinator chose to tune.</summary>
[MessagePackObject]
public sealed class TuneRequest
{
    [Key(0)] public int SchemaVersion { get; set; }
    [Key(1)] public ExprDto[] Trees { get; set; } = [];
    [Key(2)] public double[][] Scores { get; set; } = [];
    [Key(3)] public int[] Chosen { get; set; } = [];
    [Key(4)] public ulong Seed { get; set; }
    [Key(5)] public int Generation { get; set; }
}

/// <summary>The island's children after tuning (a tuned tree replaces its original only where it scored lower).</summary>
[MessagePackObject]
public sealed class TuneReply
{
    [Key(0)] public ExprDto[] Trees { get; set; } = [];
    [Key(1)] public double[][] Scores { get; set; } = [];
}

/// <summary>The MessagePack options of every grain message (doubles stay float64, so nothing is rounded in transit).</summary>
public static class Wire
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>The message as bytes.</summary>
    public static byte[] Write<T>(T message) => MessagePackSerializer.Serialize(message, Options);

    /// <summary>The message in <paramref name="bytes"/>.</summary>
    public static T Read<T>(byte[] bytes) => MessagePackSerializer.Deserialize<T>(bytes, Options);
}
