using System.Collections.Immutable;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Search;

/// <summary>One island population and its own random generator (so islands vary in parallel, independent of scheduling).</summary>
public sealed record Island(ImmutableArray<Individual> Members, RngState Rng);

/// <summary>
/// The whole state of a search as an immutable value: everything <see cref="Evolution.Step"/> reads, so that a state
/// saved with <c>SearchStateCodec</c> and restored continues bit-identically.
/// </summary>
/// <param name="Generation">Completed generations.</param>
/// <param name="Islands">The island populations with their generators.</param>
/// <param name="HallOfFame">Best member per complexity so far.</param>
/// <param name="Master">The generator for search-wide draws (migration, fitness seeds).</param>
/// <param name="Evaluations">Candidate evaluations requested so far (memo hits included, so the count is deterministic).</param>
/// <param name="NextBirth">The next birth stamp to hand out.</param>
/// <param name="SettingsHash">Digest of the settings the search started with.</param>
/// <param name="GrammarHash">Content hash of the grammar the search started with.</param>
public sealed record SearchState(
    int Generation,
    ImmutableArray<Island> Islands,
    HallOfFame HallOfFame,
    RngState Master,
    long Evaluations,
    long NextBirth,
    string SettingsHash,
    string GrammarHash)
{
    /// <summary>The lowest loss in the hall of fame (+inf when empty).</summary>
    public double BestLoss => HallOfFame.MostAccurate()?.Loss ?? double.PositiveInfinity;
}
