using System.Security.Cryptography;
using System.Text;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Search;

/// <summary>How the islands are shaped and seeded.</summary>
/// <param name="Islands">Number of island populations.</param>
/// <param name="Size">Members per island.</param>
/// <param name="OffspringPerGeneration">Children each island breeds per generation (they replace as many members).</param>
/// <param name="InitialMaxSize">Largest node count of the random initial trees.</param>
public sealed record PopulationSettings(int Islands = 8, int Size = 64, int OffspringPerGeneration = 16, int InitialMaxSize = 8);

/// <summary>Tournament selection with SR.jl's probabilistic winner and adaptive parsimony.</summary>
/// <remarks>The defaults are gentler than SR.jl's (15, 0.982): with far fewer evaluations per run, a greedier tournament collapsed small populations onto one lineage in our tests.</remarks>
/// <param name="TournamentSize">Members sampled per tournament.</param>
/// <param name="TournamentProbability">Chance the best sampled member wins; otherwise the next best is tried with the same chance.</param>
/// <param name="AdaptiveParsimonyScaling">Cost is multiplied by exp(scaling · frequency of the member's complexity); 0 turns it off.</param>
public sealed record SelectionSettings(int TournamentSize = 6, double TournamentProbability = 0.7, double AdaptiveParsimonyScaling = 20.0);

/// <summary>How children are made.</summary>
/// <param name="Weights">Relative weights of the mutations.</param>
/// <param name="CrossoverProbability">Chance a child comes from subtree crossover instead of a mutation.</param>
/// <param name="Temperature">Scale of constant jitter.</param>
/// <param name="MaxAttempts">Tries to produce a child within the grammar before the parent is copied.</param>
public sealed record VariationSettings(MutationWeights Weights, double CrossoverProbability = 0.05, double Temperature = 1.0, int MaxAttempts = 10)
{
    /// <summary>Default weights and rates.</summary>
    public VariationSettings() : this(new MutationWeights()) { }
}

/// <summary>Migration between islands and from the hall of fame (SR.jl's fraction_replaced and fraction_replaced_hof).</summary>
/// <param name="Interval">Generations between migrations (0 = never).</param>
/// <param name="Fraction">Share of each island replaced by members of the other islands.</param>
/// <param name="HallOfFameFraction">Share of each island replaced by hall-of-fame members.</param>
public sealed record MigrationSettings(int Interval = 10, double Fraction = 0.05, double HallOfFameFraction = 0.05);

/// <summary>When constants get tuned (tuning costs many evaluations, so it is rationed per generation).</summary>
/// <param name="OptimizeProbability">Chance any child with constants is drawn for tuning.</param>
/// <param name="OptimizePromising">Also consider every child that beats the hall of fame at its complexity.</param>
/// <param name="MaxPerGeneration">At most this many children are tuned per generation: promising ones first (lowest loss), then drawn ones.</param>
public sealed record ConstantSettings(double OptimizeProbability = 0.05, bool OptimizePromising = true, int MaxPerGeneration = 4);

/// <summary>How children re-enter a population.</summary>
public enum ReinsertionKind
{
    /// <summary>Regularised evolution: children replace the oldest members (SR.jl, Real et al. 2019).</summary>
    ReplaceOldest,
    /// <summary>Generational with elitism: the best members survive, the worst are replaced by the children.</summary>
    ReplaceWorst,
}

/// <summary>Every tunable of a search, in small records. Comparable field by field with <see cref="Compatibility.Check"/>.</summary>
public sealed record SearchSettings(
    ulong Seed,
    PopulationSettings Population,
    SelectionSettings Selection,
    VariationSettings Variation,
    MigrationSettings Migration,
    ConstantSettings Constants,
    ReinsertionKind Reinsertion = ReinsertionKind.ReplaceOldest)
{
    /// <summary>Defaults with the given seed.</summary>
    public static SearchSettings Default(ulong seed = 0) =>
        new(seed, new PopulationSettings(), new SelectionSettings(), new VariationSettings(), new MigrationSettings(), new ConstantSettings());

    /// <summary>A stable hex digest of every field (records print every member, and doubles print round-trip exact).</summary>
    public string ContentHash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToString())))[..16];
}
