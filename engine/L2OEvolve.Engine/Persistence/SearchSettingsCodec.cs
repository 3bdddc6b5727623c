using L2OEvolve.Engine.Search;
using L2OEvolve.Engine.Variation;
using MessagePack;

namespace L2OEvolve.Engine.Persistence;

/// <summary>Serialised <see cref="SearchSettings"/>, flat; mutation weights are keyed by name so new kinds do not shift old files.</summary>
[MessagePackObject]
public sealed class SearchSettingsDto
{
    [Key(0)] public int SchemaVersion { get; set; }
    [Key(1)] public ulong Seed { get; set; }
    [Key(2)] public int Islands { get; set; }
    [Key(3)] public int PopulationSize { get; set; }
    [Key(4)] public int OffspringPerGeneration { get; set; }
    [Key(5)] public int InitialMaxSize { get; set; }
    [Key(6)] public int TournamentSize { get; set; }
    [Key(7)] public double TournamentProbability { get; set; }
    [Key(8)] public double AdaptiveParsimonyScaling { get; set; }
    [Key(9)] public Dictionary<string, double> MutationWeights { get; set; } = [];
    [Key(10)] public double CrossoverProbability { get; set; }
    [Key(11)] public double Temperature { get; set; }
    [Key(12)] public int MaxAttempts { get; set; }
    [Key(13)] public int MigrationInterval { get; set; }
    [Key(14)] public double MigrationFraction { get; set; }
    [Key(15)] public double HallOfFameFraction { get; set; }
    [Key(16)] public double OptimizeProbability { get; set; }
    [Key(17)] public bool OptimizePromising { get; set; }
    [Key(18)] public string Reinsertion { get; set; } = "";
    [Key(19)] public int MaxTunedPerGeneration { get; set; }
}

/// <summary>MessagePack codec for <see cref="SearchSettings"/> (the daemon stores them beside the state to check compatibility on resume).</summary>
public static class SearchSettingsCodec
{
    /// <summary>The layout version written by this build.</summary>
    public const int SchemaVersion = 1;

    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>The settings as MessagePack bytes.</summary>
    public static byte[] Serialize(SearchSettings s) => MessagePackSerializer.Serialize(new SearchSettingsDto
    {
        SchemaVersion = SchemaVersion,
        Seed = s.Seed,
        Islands = s.Population.Islands,
        PopulationSize = s.Population.Size,
        OffspringPerGeneration = s.Population.OffspringPerGeneration,
        InitialMaxSize = s.Population.InitialMaxSize,
        TournamentSize = s.Selection.TournamentSize,
        TournamentProbability = s.Selection.TournamentProbability,
        AdaptiveParsimonyScaling = s.Selection.AdaptiveParsimonyScaling,
        MutationWeights = Enum.GetValues<MutationKind>().ToDictionary(k => k.ToString(), k => s.Variation.Weights[k]),
        CrossoverProbability = s.Variation.CrossoverProbability,
        Temperature = s.Variation.Temperature,
        MaxAttempts = s.Variation.MaxAttempts,
        MigrationInterval = s.Migration.Interval,
        MigrationFraction = s.Migration.Fraction,
        HallOfFameFraction = s.Migration.HallOfFameFraction,
        OptimizeProbability = s.Constants.OptimizeProbability,
        OptimizePromising = s.Constants.OptimizePromising,
        Reinsertion = s.Reinsertion.ToString(),
        MaxTunedPerGeneration = s.Constants.MaxPerGeneration,
    }, Options);

    /// <summary>The settings in <paramref name="bytes"/>; missing weights take their defaults, unknown names are an error.</summary>
    public static SearchSettings Deserialize(ReadOnlyMemory<byte> bytes)
    {
        SearchSettingsDto d;
        try { d = MessagePackSerializer.Deserialize<SearchSettingsDto>(bytes, Options); }
        catch (MessagePackSerializationException ex) { throw new FormatException($"search settings: not valid MessagePack ({ex.Message})", ex); }
        if (d.SchemaVersion != SchemaVersion) throw new FormatException($"search settings: schema version {d.SchemaVersion}, this build reads {SchemaVersion}");
        var defaults = new MutationWeights();
        double W(MutationKind k) => d.MutationWeights.TryGetValue(k.ToString(), out var w) ? w : defaults[k];
        foreach (var name in d.MutationWeights.Keys)
            if (!Enum.TryParse<MutationKind>(name, out _)) throw new FormatException($"search settings: unknown mutation kind '{name}'");
        var weights = new MutationWeights(W(MutationKind.MutateConstant), W(MutationKind.MutateOperator), W(MutationKind.MutateFeature),
            W(MutationKind.SwapOperands), W(MutationKind.InsertNode), W(MutationKind.DeleteNode), W(MutationKind.ReplaceSubtree),
            W(MutationKind.Hoist), W(MutationKind.Simplify), W(MutationKind.DoNothing));
        if (!Enum.TryParse<ReinsertionKind>(d.Reinsertion, out var reinsertion)) throw new FormatException($"search settings: unknown reinsertion '{d.Reinsertion}'");
        return new SearchSettings(d.Seed,
            new PopulationSettings(d.Islands, d.PopulationSize, d.OffspringPerGeneration, d.InitialMaxSize),
            new SelectionSettings(d.TournamentSize, d.TournamentProbability, d.AdaptiveParsimonyScaling),
            new VariationSettings(weights, d.CrossoverProbability, d.Temperature, d.MaxAttempts),
            new MigrationSettings(d.MigrationInterval, d.MigrationFraction, d.HallOfFameFraction),
            new ConstantSettings(d.OptimizeProbability, d.OptimizePromising, d.MaxTunedPerGeneration),
            reinsertion);
    }
}
