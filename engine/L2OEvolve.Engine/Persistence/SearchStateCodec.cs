using System.Collections.Immutable;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;
using MessagePack;

namespace L2OEvolve.Engine.Persistence;

/// <summary>Serialised <see cref="Individual"/>.</summary>
[MessagePackObject]
public sealed class IndividualDto
{
    [Key(0)] public ExprDto Tree { get; set; } = new();
    [Key(1)] public double Loss { get; set; }
    [Key(2)] public int Complexity { get; set; }
    [Key(3)] public long Birth { get; set; }
    [Key(4)] public double[] Objectives { get; set; } = [];
}

/// <summary>Serialised <see cref="Island"/>.</summary>
[MessagePackObject]
public sealed class IslandDto
{
    [Key(0)] public IndividualDto[] Members { get; set; } = [];
    [Key(1)] public ulong[] Rng { get; set; } = [];
}

/// <summary>Serialised <see cref="SearchState"/>; <see cref="SchemaVersion"/> guards against reading a newer or older layout.</summary>
[MessagePackObject]
public sealed class SearchStateDto
{
    [Key(0)] public int SchemaVersion { get; set; }
    [Key(1)] public int Generation { get; set; }
    [Key(2)] public IslandDto[] Islands { get; set; } = [];
    [Key(3)] public IndividualDto[] HallOfFame { get; set; } = [];
    [Key(4)] public ulong[] Master { get; set; } = [];
    [Key(5)] public long Evaluations { get; set; }
    [Key(6)] public long NextBirth { get; set; }
    [Key(7)] public string SettingsHash { get; set; } = "";
    [Key(8)] public string GrammarHash { get; set; } = "";
}

/// <summary>MessagePack codec for <see cref="SearchState"/>: bytes that restore a state which continues bit-identically.</summary>
/// <remarks>Doubles are stored as float64 and RNG states as their four words, so nothing is rounded on the way.</remarks>
public static class SearchStateCodec
{
    /// <summary>The layout version written by this build.</summary>
    public const int SchemaVersion = 1;

    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>The state as MessagePack bytes.</summary>
    public static byte[] Serialize(SearchState state) => MessagePackSerializer.Serialize(ToDto(state), Options);

    /// <summary>The state in <paramref name="bytes"/>; a wrong schema version or malformed content gets a <see cref="FormatException"/>.</summary>
    public static SearchState Deserialize(ReadOnlyMemory<byte> bytes)
    {
        SearchStateDto dto;
        try { dto = MessagePackSerializer.Deserialize<SearchStateDto>(bytes, Options); }
        catch (MessagePackSerializationException ex) { throw new FormatException($"search state: not a valid MessagePack state ({ex.Message})", ex); }
        if (dto is null) throw new FormatException("search state: empty (MessagePack nil)");
        if (dto.SchemaVersion != SchemaVersion)
            throw new FormatException($"search state: schema version {dto.SchemaVersion}, this build reads {SchemaVersion}");
        // MessagePack fills what the bytes say: a damaged state that still decodes can hold nils where arrays belong,
        // or counts that do not match; the rebuild meets them as these exceptions, reported as one format error.
        try { return FromDto(dto); }
        catch (Exception ex) when (ex is NullReferenceException or IndexOutOfRangeException or ArgumentException or InvalidOperationException or OverflowException)
        {
            throw new FormatException($"search state: malformed content ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    /// <summary>The DTO of a state.</summary>
    public static SearchStateDto ToDto(SearchState s) => new()
    {
        SchemaVersion = SchemaVersion,
        Generation = s.Generation,
        Islands = s.Islands.Select(ToDto).ToArray(),
        HallOfFame = s.HallOfFame.Members.Select(ToDto).ToArray(),
        Master = Words(s.Master),
        Evaluations = s.Evaluations,
        NextBirth = s.NextBirth,
        SettingsHash = s.SettingsHash,
        GrammarHash = s.GrammarHash,
    };

    /// <summary>The state of a DTO.</summary>
    public static SearchState FromDto(SearchStateDto d) => new(
        d.Generation,
        d.Islands.Select(FromDto).ToImmutableArray(),
        new HallOfFame(d.HallOfFame.Select(FromDto).ToImmutableArray()),
        State(d.Master),
        d.Evaluations,
        d.NextBirth,
        d.SettingsHash,
        d.GrammarHash);

    /// <summary>The DTO of one island (its members and generator), as it is stored inside a state.</summary>
    public static IslandDto ToDto(Island i) => new() { Members = i.Members.Select(ToDto).ToArray(), Rng = Words(i.Rng) };

    /// <summary>The island of a DTO; a malformed generator gets a <see cref="FormatException"/>.</summary>
    public static Island FromDto(IslandDto i) => new(i.Members.Select(FromDto).ToImmutableArray(), State(i.Rng));

    /// <summary>A generator state as its four words.</summary>
    public static ulong[] Words(RngState s) => [s.S0, s.S1, s.S2, s.S3];

    /// <summary>The generator state of four words; any other count gets a <see cref="FormatException"/>.</summary>
    public static RngState State(ulong[] w) =>
        w.Length == 4 ? new RngState(w[0], w[1], w[2], w[3]) : throw new FormatException($"search state: an RNG state has {w.Length} words, expected 4");

    private static IndividualDto ToDto(Individual m) => new()
    {
        Tree = ExprEncoding.Encode(m.Tree),
        Loss = m.Loss,
        Complexity = m.Complexity,
        Birth = m.Birth,
        Objectives = m.Objectives.IsDefault ? [] : [.. m.Objectives],
    };

    private static Individual FromDto(IndividualDto d) =>
        new(ExprEncoding.Decode(d.Tree), d.Loss, d.Complexity, d.Birth, [.. d.Objectives]);
}
