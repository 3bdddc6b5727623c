using System.Collections.Immutable;
using System.Diagnostics;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Search;

/// <summary>The search loop as pure steps from one immutable <see cref="SearchState"/> to the next.</summary>
/// <remarks>
/// <code>
/// Step(state):
///   costs   ← per island: loss/baseline + parsimony·complexity, scaled by adaptive parsimony (shares over all islands)
///   children← per island, in parallel, with the island's own RNG: Variation.Breed (tournament → mutate or cross)
///   scores  ← Fitness on the flattened batch (memoised by expression, duplicates evaluated once), written by index;
///             a per-candidate fitness (ICandidateFitness) instead scores each child right after breeding it, in the same parallel pass
///   tune    ← constants of children drawn for tuning or beating the hall of fame at their complexity; rescored
///   islands ← Reinsertion(children) per island;  hall of fame ← update with all children in batch order
///   islands ← Migration every few generations, with the master RNG
/// </code>
/// Every random draw comes from a generator stored in the state and every parallel result is written by index, so
/// the same seed gives the same states for any thread count, and a restored state continues exactly.
/// </remarks>
public static class Evolution
{
    /// <summary>
    /// The initial state: island i draws ramped random trees with a generator forked from the seed (stream i+1);
    /// warm-start expressions take the first slots, dealt round-robin over the islands.
    /// </summary>
    public static SearchState Initialize(SearchContext ctx, IEnumerable<Expr> warmStart, CancellationToken ct = default)
    {
        var settings = ctx.Settings;
        int islands = Math.Max(1, settings.Population.Islands), size = Math.Max(2, settings.Population.Size);
        var master = new Rng(settings.Seed);
        var trees = new Expr[islands * size];
        var rngs = new RngState[islands];
        var warm = warmStart.Take(trees.Length).ToArray();
        for (int k = 0; k < warm.Length; k++) trees[(k % islands) * size + k / islands] = warm[k];
        for (int i = 0; i < islands; i++)
        {
            var rng = master.Fork((ulong)i + 1);
            for (int j = 0; j < size; j++)
            {
                // A million members take a while to grow; a time budget or shutdown must not wait for all of them.
                if ((j & 1023) == 0) ct.ThrowIfCancellationRequested();
                trees[i * size + j] ??= TreeGenerator.Ramped(ref rng, ctx.Grammar, settings.Population.InitialMaxSize);
            }
            rngs[i] = rng.State;
        }

        var scores = Score(ctx, trees, FitnessSeed(master, 0), 0, ct);
        var all = new Individual[trees.Length];
        for (int k = 0; k < trees.Length; k++) all[k] = Make(ctx, trees[k], scores[k], k);
        var built = ImmutableArray.CreateBuilder<Island>(islands);
        for (int i = 0; i < islands; i++) built.Add(new Island([.. all.AsSpan(i * size, size)], rngs[i]));
        return new SearchState(0, built.MoveToImmutable(), HallOfFame.Empty.Update(all), master.State,
            trees.Length, trees.Length, settings.ContentHash(), ctx.Grammar.ContentHash);
    }

    /// <summary>One generation. If <paramref name="ct"/> fires mid-generation the input state is returned unchanged.</summary>
    public static SearchState Step(SearchState state, SearchContext ctx, CancellationToken ct = default)
    {
        try { return StepCore(state, ctx, ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return state; }
    }

    private static SearchState StepCore(SearchState state, SearchContext ctx, CancellationToken ct)
    {
        var plan = Plan(state, ctx);
        int islands = state.Islands.Length, perIsland = plan.PerIsland, n = islands * perIsland;
        var broods = new Brood[islands];
        var memberCosts = new double[islands][];
        // A per-candidate fitness scores each child where it is bred, in the same parallel pass: one hand-off between
        // threads per generation instead of two, and no serial memo pass in between. Scores are pure functions of the
        // tree, so this changes nothing but speed. The pass also measures each child (complexity, tunable numbers) and
        // keeps the members' costs for the barrier, so the serial part of a generation walks no tree twice.
        var single = ctx.Fitness as ICandidateFitness;
        var prescored = single is null ? null : new double[n][];
        var complexity = new int[n];
        var tunable = new int[n];
        var options = new ParallelOptions { MaxDegreeOfParallelism = ctx.Threads, CancellationToken = ct };
        Parallel.For(0, islands, options, i =>
        {
            broods[i] = BreedIsland(state.Islands[i], plan, ctx, out memberCosts[i]);
            var children = broods[i].Offspring;
            for (int j = 0, k = i * perIsland; j < children.Length; j++, k++)
            {
                var tree = children[j].Tree;
                complexity[k] = Trees.Complexity(tree, ctx.Grammar);
                tunable[k] = ctx.Tuner is null ? 0 : Trees.TunableCount(tree);
            }
            if (prescored is not null)
                for (int j = 0, k = i * perIsland; j < children.Length; j++, k++) prescored[k] = ScoreOne(ctx, single!, children[j].Tree);
        });

        var offspring = new Offspring[n];
        for (int i = 0; i < islands; i++) broods[i].Offspring.CopyTo(offspring, i * perIsland);
        var trees = new Expr[n];
        for (int k = 0; k < n; k++) trees[k] = offspring[k].Tree;
        var scores = prescored ?? Score(ctx, trees, plan.ScoreSeed, plan.Generation, ct);
        var chosen = ChooseForTuning(ctx, state.HallOfFame, offspring, scores, complexity, tunable);
        if (chosen.Count > 0)
        {
            var before = new Expr[chosen.Count];
            for (int j = 0; j < chosen.Count; j++) before[j] = trees[chosen[j]];
            TuneChosen(ctx, chosen, trees, scores, plan.TuneSeed, plan.Generation, ct);
            // A tuned tree moves constants only, but its complexity is measured again rather than assumed.
            for (int j = 0; j < chosen.Count; j++)
                if (!ReferenceEquals(before[j], trees[chosen[j]])) complexity[chosen[j]] = Trees.Complexity(trees[chosen[j]], ctx.Grammar);
        }
        var born = new Individual[n];
        for (int k = 0; k < n; k++) born[k] = Make(trees[k], scores[k], complexity[k], state.NextBirth + k);
        var rngs = new RngState[islands];
        for (int i = 0; i < islands; i++) rngs[i] = broods[i].Rng;
        return Barrier(state, plan, ctx, rngs, born, memberCosts, n + chosen.Count);
    }

    /// <summary>What every island of one generation shares, read from the state at the barrier before it.</summary>
    /// <param name="Generation">The generation being made (completed generations + 1).</param>
    /// <param name="PerIsland">Children bred by each island.</param>
    /// <param name="Frequency">Share of all members at each complexity (adaptive parsimony sees every island).</param>
    /// <param name="ScoreSeed">Fitness seed of the children's batch.</param>
    /// <param name="TuneSeed">Fitness seed of the tuned children's batch.</param>
    public sealed record GenerationPlan(int Generation, int PerIsland, IReadOnlyDictionary<int, double> Frequency, ulong ScoreSeed, ulong TuneSeed);

    /// <summary>One island's children in breeding order, and the island's generator after breeding them.</summary>
    public sealed record Brood(ImmutableArray<Offspring> Offspring, RngState Rng);

    /// <summary>The shared facts of the generation after <paramref name="state"/>; draws nothing (the master generator is only forked).</summary>
    public static GenerationPlan Plan(SearchState state, SearchContext ctx)
    {
        var master = new Rng(state.Master);
        int perIsland = Math.Clamp(ctx.Settings.Population.OffspringPerGeneration, 1, state.Islands.Min(i => i.Members.Length));
        return new GenerationPlan(state.Generation + 1, perIsland, Parsimony.Frequencies(state.Islands),
            FitnessSeed(master, state.Generation + 1), FitnessSeed(master, -state.Generation - 1));
    }

    /// <summary>Breeds one island's children with the island's own generator: the part of a generation islands do independently.</summary>
    public static Brood BreedIsland(Island island, GenerationPlan plan, SearchContext ctx) => BreedIsland(island, plan, ctx, out _);

    /// <summary>As <see cref="BreedIsland(Island, GenerationPlan, SearchContext)"/>, also giving the members' costs it selected on.</summary>
    private static Brood BreedIsland(Island island, GenerationPlan plan, SearchContext ctx, out double[] costs)
    {
        costs = IslandCosts(island.Members, plan, ctx);
        var rng = new Rng(island.Rng);
        var children = ImmutableArray.CreateBuilder<Offspring>(plan.PerIsland);
        for (int k = 0; k < plan.PerIsland; k++)
            children.Add(ctx.Variation.Breed(ref rng, island.Members, costs, ctx.Selection, ctx.Grammar));
        return new Brood(children.MoveToImmutable(), rng.State);
    }

    /// <summary>
    /// Closes a generation at the barrier: children (in island order, <see cref="GenerationPlan.PerIsland"/> each) are
    /// reinserted into their islands, the hall of fame takes them in batch order, then islands migrate with the master generator.
    /// </summary>
    public static SearchState Barrier(SearchState state, GenerationPlan plan, SearchContext ctx, IReadOnlyList<RngState> islandRngs,
        IReadOnlyList<Expr> trees, IReadOnlyList<double[]> scores, long evaluations)
    {
        var children = new Individual[trees.Count];
        for (int k = 0; k < trees.Count; k++) children[k] = Make(ctx, trees[k], scores[k], state.NextBirth + k);
        return Barrier(state, plan, ctx, islandRngs, children, null, evaluations);
    }

    /// <summary>The barrier on children already made into individuals (birth stamps from <c>state.NextBirth</c> in batch
    /// order); <paramref name="memberCosts"/>, when given, are each island's member costs under <paramref name="plan"/>.</summary>
    private static SearchState Barrier(SearchState state, GenerationPlan plan, SearchContext ctx, IReadOnlyList<RngState> islandRngs,
        Individual[] children, double[][]? memberCosts, long evaluations)
    {
        int islands = state.Islands.Length, perIsland = plan.PerIsland;
        long nextBirth = state.NextBirth + children.Length;

        var updated = ImmutableArray.CreateBuilder<Island>(islands);
        for (int i = 0; i < islands; i++)
        {
            var mine = new ArraySegment<Individual>(children, i * perIsland, perIsland);
            var members = ctx.Reinsertion.Reinsert(state.Islands[i].Members, memberCosts?[i] ?? IslandCosts(state.Islands[i].Members, plan, ctx),
                mine, IslandCosts(mine, plan, ctx));
            updated.Add(new Island(members, islandRngs[i]));
        }
        var hallOfFame = state.HallOfFame.Update(children);
        var master = new Rng(state.Master);
        var migrated = ctx.Migration.Migrate(ref master, updated.MoveToImmutable(), hallOfFame, state.Generation, ref nextBirth);
        return state with
        {
            Generation = plan.Generation,
            Islands = migrated,
            HallOfFame = hallOfFame,
            Master = master.State,
            Evaluations = state.Evaluations + evaluations,
            NextBirth = nextBirth,
        };
    }

    private static double[] IslandCosts(IReadOnlyList<Individual> members, GenerationPlan plan, SearchContext ctx) =>
        Parsimony.Costs(members, ctx.Fitness.BaselineLoss, ctx.Grammar.Parsimony, ctx.Settings.Selection.AdaptiveParsimonyScaling, plan.Frequency);

    /// <summary>
    /// Runs generations until <paramref name="termination"/> holds or <paramref name="ct"/> fires, calling
    /// <paramref name="onGeneration"/> after each. Generation counts are absolute (a resumed search keeps counting).
    /// </summary>
    /// <remarks>
    /// When the termination has a <see cref="ITermination.Deadline"/>, a generation still running at that time is
    /// abandoned (the state before it is returned), so a huge population cannot overrun a time budget by a whole
    /// generation. Budgets that are not time-based never cut a generation, so they stay deterministic.
    /// </remarks>
    public static SearchState Run(SearchState state, SearchContext ctx, ITermination termination,
        Action<SearchState, SearchProgress>? onGeneration = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (termination.Deadline is { } deadline && deadline <= MaxTimer) budget.CancelAfter(deadline < TimeSpan.Zero ? TimeSpan.Zero : deadline);
        while (!budget.IsCancellationRequested)
        {
            if (termination.IsReached(new SearchProgress(state.Generation, state.Evaluations, state.BestLoss, clock.Elapsed))) break;
            var next = Step(state, ctx, budget.Token);
            if (ReferenceEquals(next, state)) break;
            state = next;
            onGeneration?.Invoke(state, new SearchProgress(state.Generation, state.Evaluations, state.BestLoss, clock.Elapsed));
        }
        return state;
    }

    // CancelAfter takes at most about 49.7 days; a longer budget is left to the check between generations.
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// Batch indices of the children whose constants are tuned: those beating the hall of fame at their complexity
    /// (best first), then those drawn for it, at most <c>Constants.MaxPerGeneration</c>. Pure: any process choosing from
    /// the same batch chooses the same.
    /// </summary>
    public static IReadOnlyList<int> ChooseForTuning(SearchContext ctx, HallOfFame hallOfFame, IReadOnlyList<Offspring> offspring,
        IReadOnlyList<Expr> trees, IReadOnlyList<double[]> scores)
    {
        if (ctx.Tuner is null) return [];
        var complexity = new int[trees.Count];
        var tunable = new int[trees.Count];
        for (int k = 0; k < trees.Count; k++)
        {
            // Measured only where the choice reads it, as the choice itself would.
            if (!double.IsFinite(scores[k][0]) || (tunable[k] = Trees.TunableCount(trees[k])) == 0) continue;
            if (ctx.Settings.Constants.OptimizePromising) complexity[k] = Trees.Complexity(trees[k], ctx.Grammar);
        }
        return ChooseForTuning(ctx, hallOfFame, offspring, scores, complexity, tunable);
    }

    /// <summary>As the public overload, given each child's complexity and number of tunable numbers.</summary>
    private static IReadOnlyList<int> ChooseForTuning(SearchContext ctx, HallOfFame hallOfFame, IReadOnlyList<Offspring> offspring,
        IReadOnlyList<double[]> scores, int[] complexity, int[] tunable)
    {
        if (ctx.Tuner is null) return [];
        var promising = new List<int>();
        var drawn = new List<int>();
        for (int k = 0; k < scores.Count; k++)
        {
            if (!double.IsFinite(scores[k][0]) || tunable[k] == 0) continue;
            bool beatsHallOfFame = ctx.Settings.Constants.OptimizePromising
                && scores[k][0] < (hallOfFame.At(complexity[k])?.Loss ?? double.PositiveInfinity);
            if (beatsHallOfFame) promising.Add(k);
            else if (offspring[k].Tune) drawn.Add(k);
        }
        // Ties in loss fall back to batch order, so the choice is the same for any thread count.
        return promising.OrderBy(k => scores[k][0]).ThenBy(k => k).Concat(drawn)
            .Take(Math.Max(0, ctx.Settings.Constants.MaxPerGeneration)).ToList();
    }

    /// <summary>
    /// Tunes the constants of the <paramref name="chosen"/> trees and rescores them with the fitness itself (so every
    /// Individual's loss is the fitness's verdict); a tuned tree replaces its original in place only if it scores lower.
    /// </summary>
    public static void TuneChosen(SearchContext ctx, IReadOnlyList<int> chosen, Expr[] trees, double[][] scores, ulong seed, int generation, CancellationToken ct)
    {
        if (ctx.Tuner is null || chosen.Count == 0) return;
        var tuned = new Expr[chosen.Count];
        var single = ctx.Fitness as ICandidateFitness;
        var rescoredHere = single is null ? null : new double[chosen.Count][];
        Parallel.For(0, chosen.Count, new ParallelOptions { MaxDegreeOfParallelism = ctx.Threads, CancellationToken = ct }, j =>
        {
            tuned[j] = ctx.Tuner.Tune(trees[chosen[j]], ct);
            if (rescoredHere is not null) rescoredHere[j] = ScoreOne(ctx, single!, tuned[j]);
        });
        var rescored = rescoredHere ?? Score(ctx, tuned, seed, generation, ct);
        for (int j = 0; j < chosen.Count; j++)
        {
            int k = chosen[j];
            if (rescored[j][0] < scores[k][0]) { trees[k] = tuned[j]; scores[k] = rescored[j]; }
        }
    }

    /// <summary>Objectives of each tree: memo hits first, then one fitness batch of the distinct misses, written by index.</summary>
    public static double[][] Score(SearchContext ctx, Expr[] trees, ulong seed, int generation, CancellationToken ct)
    {
        int m = Math.Max(1, ctx.Fitness.ObjectiveCount);
        var result = new double[trees.Length][];
        var pending = new List<Expr>();
        var pendingHash = new List<ulong>();
        var slot = new int[trees.Length];
        bool deterministic = ctx.Fitness.IsDeterministic;
        // Duplicates in a batch are found by structural hash and confirmed by equality (a collision is just scored twice).
        var firstSeen = deterministic ? new Dictionary<ulong, int>(trees.Length) : null;
        for (int k = 0; k < trees.Length; k++)
        {
            // An initial population may hold a million trees; an ordinary generation's batch goes on to the fitness,
            // which owns how it answers a cancellation.
            if (k > 0 && (k & 4095) == 0) ct.ThrowIfCancellationRequested();
            ulong hash = deterministic || ctx.Cache is not null ? StructuralHash.Of(trees[k]) : 0;
            if (ctx.Cache is not null && ctx.Cache.TryGet(hash, trees[k], out var known)) { result[k] = known; slot[k] = -1; continue; }
            if (firstSeen is not null && firstSeen.TryGetValue(hash, out int same) && pending[same].Equals(trees[k])) { slot[k] = same; continue; }
            slot[k] = pending.Count;
            firstSeen?.TryAdd(hash, pending.Count);
            pending.Add(trees[k]);
            pendingHash.Add(hash);
        }
        if (pending.Count > 0)
        {
            var flat = new double[pending.Count * m];
            ctx.Fitness.Evaluate(pending.ToArray(), flat, new FitnessRequest(ctx.Threads, seed, generation), ct);
            ct.ThrowIfCancellationRequested();
            var fresh = new double[pending.Count][];
            for (int p = 0; p < pending.Count; p++)
            {
                fresh[p] = flat.AsSpan(p * m, m).ToArray();
                for (int o = 0; o < m; o++) if (double.IsNaN(fresh[p][o])) fresh[p][o] = double.PositiveInfinity;
                ctx.Cache?.Add(pendingHash[p], pending[p], fresh[p]);
            }
            for (int k = 0; k < trees.Length; k++) if (slot[k] >= 0) result[k] = fresh[slot[k]];
        }
        return result;
    }

    /// <summary>The objectives of one tree from the memo, or computed on this thread by a per-candidate fitness and memoised.</summary>
    private static double[] ScoreOne(SearchContext ctx, ICandidateFitness fitness, Expr tree)
    {
        ulong hash = ctx.Cache is null ? 0 : StructuralHash.Of(tree);
        if (ctx.Cache is not null && ctx.Cache.TryGet(hash, tree, out var known)) return known;
        var objectives = new double[Math.Max(1, ctx.Fitness.ObjectiveCount)];
        fitness.EvaluateOne(tree, objectives);
        for (int o = 0; o < objectives.Length; o++) if (double.IsNaN(objectives[o])) objectives[o] = double.PositiveInfinity;
        ctx.Cache?.Add(hash, tree, objectives);
        return objectives;
    }

    private static Individual Make(SearchContext ctx, Expr tree, double[] objectives, long birth) =>
        Make(tree, objectives, Trees.Complexity(tree, ctx.Grammar), birth);

    private static Individual Make(Expr tree, double[] objectives, int complexity, long birth) =>
        new(tree, objectives[0], complexity, birth, [.. objectives]);

    private static ulong FitnessSeed(Rng master, long salt) => master.Fork(0xF17_0000UL ^ (ulong)salt).NextUInt64();
}
