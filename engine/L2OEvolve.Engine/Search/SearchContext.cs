using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// Everything a search needs besides its state: the grammar, the fitness, the stage strategies and the degree of
/// parallelism. Not serialised; rebuilt from settings and inputs on resume. The memo is a pure cache.
/// </summary>
public sealed record SearchContext(
    SearchSettings Settings,
    Grammar Grammar,
    IFitness Fitness,
    ISelection Selection,
    IVariation Variation,
    IReinsertion Reinsertion,
    IMigration Migration,
    IConstantTuner? Tuner,
    FitnessCache? Cache,
    int Threads)
{
    /// <summary>The standard strategies for <paramref name="settings"/>: tournament selection, mutate-or-cross, the chosen reinsertion, random migration.</summary>
    public static SearchContext Create(SearchSettings settings, Grammar grammar, IFitness fitness, IConstantTuner? tuner = null,
        Func<Expr, Expr>? simplify = null, int threads = 1) =>
        new(settings, grammar, fitness,
            new TournamentSelection(settings.Selection.TournamentSize, settings.Selection.TournamentProbability),
            new MutateOrCross(settings.Variation, settings.Constants.OptimizeProbability, simplify),
            settings.Reinsertion == ReinsertionKind.ReplaceOldest ? new ReplaceOldest() : new ReplaceWorst(),
            new RandomMigration(settings.Migration),
            tuner,
            fitness.IsDeterministic ? new FitnessCache(MemoCapacity(settings), Math.Max(1, fitness.ObjectiveCount), MemoMaxNodes(grammar)) : null,
            Math.Max(1, threads));

    /// <summary>The memo holds about 30 generations of children, within [<see cref="FitnessCache.DefaultCapacity"/>, 2^14].</summary>
    internal static int MemoCapacity(SearchSettings settings)
    {
        long perGeneration = (long)Math.Max(1, settings.Population.Islands) * Math.Max(1, settings.Population.OffspringPerGeneration);
        return (int)Math.Clamp(32 * perGeneration, FitnessCache.DefaultCapacity, 1 << 14);
    }

    /// <summary>The memo's entries are as wide as the grammar's largest tree (an operator weighs at least one), within
    /// [8, 64] nodes: a larger tree is evaluated every time it recurs, which is rare among trees that large.</summary>
    internal static int MemoMaxNodes(Grammar grammar) => Math.Clamp(grammar.MaxSize, 8, 64);
}
