using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class EvolutionTests
{
    private static (SearchContext Ctx, NaiveMseFitness Fitness) Context(int threads, ulong seed = 42, Func<Dictionary<string, double>, double>? target = null)
    {
        var (x, y) = SearchTestKit.Data(target ?? (r => r["x0"] * r["x1"] + 0.5));
        var fitness = new NaiveMseFitness(x, y);
        var settings = SearchSettings.Default(seed) with
        {
            Population = new PopulationSettings(Islands: 3, Size: 24, OffspringPerGeneration: 8, InitialMaxSize: 6),
            Migration = new MigrationSettings(Interval: 3),
        };
        return (SearchContext.Create(settings, SearchTestKit.Arithmetic(), fitness, new GreedyTuner(fitness), threads: threads), fitness);
    }

    private static SearchState RunFor(SearchContext ctx, int generations, SearchState? from = null) =>
        Evolution.Run(from ?? Evolution.Initialize(ctx, []), ctx, new GenerationTermination(generations));

    [Test]
    public void Run_SameSeedDifferentThreadCounts_GiveTheSameHallOfFameAndPopulations()
    {
        var one = RunFor(Context(1).Ctx, 12);
        var two = RunFor(Context(2).Ctx, 12);
        var four = RunFor(Context(4).Ctx, 12);
        Assert.That(StateComparison.Describe(two.HallOfFame), Is.EqualTo(StateComparison.Describe(one.HallOfFame)));
        Assert.That(StateComparison.Describe(four.HallOfFame), Is.EqualTo(StateComparison.Describe(one.HallOfFame)));
        Assert.That(StateComparison.Members(four), Is.EqualTo(StateComparison.Members(one)));
        Assert.That(SearchStateCodec.Serialize(four), Is.EqualTo(SearchStateCodec.Serialize(one)));
    }

    [Test]
    public void Run_DifferentSeeds_Differ()
    {
        var a = RunFor(Context(1, seed: 1).Ctx, 5);
        var b = RunFor(Context(1, seed: 2).Ctx, 5);
        Assert.That(StateComparison.Members(a), Is.Not.EqualTo(StateComparison.Members(b)));
    }

    [Test]
    public void Resume_SavedMidSearchAndRestoredWithAFreshContext_ContinuesBitIdentically()
    {
        var straight = RunFor(Context(2).Ctx, 14);

        var firstHalf = RunFor(Context(2).Ctx, 7);
        var bytes = SearchStateCodec.Serialize(firstHalf);
        var restored = SearchStateCodec.Deserialize(bytes);
        var resumed = RunFor(Context(1).Ctx, 14, restored); // a new process: empty memo, other thread count

        Assert.That(resumed.Generation, Is.EqualTo(14));
        Assert.That(StateComparison.Describe(resumed.HallOfFame), Is.EqualTo(StateComparison.Describe(straight.HallOfFame)));
        Assert.That(SearchStateCodec.Serialize(resumed), Is.EqualTo(SearchStateCodec.Serialize(straight)));
    }

    [Test]
    public void Run_ProductPlusConstantTarget_FindsTheProductAndFitsTheOffset()
    {
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"] + 0.5);
        var fitness = new NaiveMseFitness(x, y);
        var settings = SearchSettings.Default(3) with { Population = new PopulationSettings(4, 40, 10, 6) };
        var ctx = SearchContext.Create(settings, SearchTestKit.Arithmetic(), fitness, new GreedyTuner(fitness), threads: 2);
        var state = Evolution.Run(Evolution.Initialize(ctx, []), ctx, new OrTermination(new GenerationTermination(300), new TargetLossTermination(1e-4)));
        Assert.That(state.HallOfFame.At(3)?.Loss, Is.EqualTo(0.25).Within(1e-12), "x0*x1 at complexity 3");
        Assert.That(state.BestLoss, Is.LessThan(1e-3), StateComparison.Describe(state.HallOfFame));
    }

    [Test]
    public void Initialize_WarmStart_PutsTheGivenExpressionsIntoTheIslandsAndHallOfFame()
    {
        var ctx = Context(1).Ctx;
        Expr exact = new Expr.Binary(Op.Add, new Expr.Binary(Op.Mul, new Expr.Var("x0"), new Expr.Var("x1")), new Expr.Const(0.5));
        var state = Evolution.Initialize(ctx, [exact]);
        Assert.That(state.Islands[0].Members[0].Tree, Is.EqualTo(exact));
        Assert.That(state.BestLoss, Is.EqualTo(0));
        Assert.That(state.HallOfFame.At(5)!.Tree, Is.EqualTo(exact));
    }

    [Test]
    public void Step_CountsEvaluationsAndKeepsIslandSizes_AndMemoSavesFitnessWork()
    {
        var (ctx, fitness) = Context(1);
        var s0 = Evolution.Initialize(ctx, []);
        var s1 = Evolution.Step(s0, ctx);
        Assert.That(s1.Generation, Is.EqualTo(1));
        Assert.That(s1.Evaluations, Is.GreaterThanOrEqualTo(s0.Evaluations + 3 * 8));
        Assert.That(s1.Islands.Select(i => i.Members.Length), Is.All.EqualTo(24));
        var s = RunFor(ctx, 20, s1);
        Assert.That(ctx.Cache!.Hits, Is.GreaterThan(0), "duplicates are served from the memo");
        Assert.That(s.HallOfFame.Members.Select(m => m.Complexity), Is.Ordered.Ascending.And.Unique);
    }

    [Test]
    public void Step_CancelledToken_ReturnsTheInputState()
    {
        var ctx = Context(1).Ctx;
        var s0 = Evolution.Initialize(ctx, []);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(Evolution.Step(s0, ctx, cts.Token), Is.SameAs(s0));
    }

    [Test]
    public void Step_ReplaceWorstReinsertion_NeverLosesTheBestMember()
    {
        var (ctx, _) = Context(1);
        ctx = SearchContext.Create(ctx.Settings with { Reinsertion = ReinsertionKind.ReplaceWorst, Migration = new MigrationSettings(0) },
            ctx.Grammar, ctx.Fitness, ctx.Tuner, threads: 1);
        var s = Evolution.Initialize(ctx, []);
        double best = s.Islands[0].Members.Min(m => m.Loss);
        for (int g = 0; g < 10; g++)
        {
            s = Evolution.Step(s, ctx);
            double now = s.Islands[0].Members.Min(m => m.Loss);
            Assert.That(now, Is.LessThanOrEqualTo(best));
            best = now;
        }
    }

    [Test]
    public void Run_TimeBudgetEndsDuringAGeneration_AbandonsThatGenerationInsteadOfFinishingIt()
    {
        var (ctx, fitness) = Context(1);
        var s0 = Evolution.Initialize(ctx, []);
        // The first generation's batch waits until the budget cancels it (or a minute, far beyond the budget).
        var slow = new StallingFitness(fitness, TimeSpan.FromMinutes(1));
        var slowCtx = ctx with { Fitness = slow };
        // The budget must outlast the start of the first generation even on a heavily loaded machine (a budget spent
        // before the first batch ends the run without entering it), hence seconds rather than milliseconds.
        var s = Evolution.Run(s0, slowCtx, new OrTermination(new GenerationTermination(5), new TimeTermination(TimeSpan.FromSeconds(3))));
        Assert.That(slow.SawCancellation, Is.True, "the budget reached into the running generation");
        Assert.That(s, Is.SameAs(s0), "the unfinished generation is dropped, not half-applied");
    }

    [Test]
    public void Initialize_AlreadyCancelled_StopsBeforeGrowingOrScoringThePopulation()
    {
        var (ctx, fitness) = Context(1);
        var counting = new StallingFitness(fitness, TimeSpan.Zero);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        // A huge population (a time budget that ran out, a shutdown) must not be grown and hashed before the check.
        Assert.Throws<OperationCanceledException>(() => Evolution.Initialize(ctx with { Fitness = counting }, [], cancelled.Token));
        Assert.That(counting.Calls, Is.Zero, "no batch was scored");
    }

    /// <summary>Scores like the inner fitness, but the first batch blocks until cancelled (then throws as a cancelled fitness does).</summary>
    private sealed class StallingFitness(IFitness inner, TimeSpan limit) : IFitness
    {
        private int _calls;

        public bool SawCancellation { get; private set; }

        /// <summary>Batches asked for.</summary>
        public int Calls => _calls;

        public int ObjectiveCount => inner.ObjectiveCount;

        public double BaselineLoss => inner.BaselineLoss;

        public bool IsDeterministic => inner.IsDeterministic;

        public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
        {
            if (_calls++ == 0)
            {
                SawCancellation = ct.WaitHandle.WaitOne(limit);
                ct.ThrowIfCancellationRequested();
            }
            inner.Evaluate(candidates, objectives, request, ct);
        }
    }

    [Test]
    public void Run_PerCandidateFitness_ScoresAsTheBatchPathDoes_ForAnyThreadCount()
    {
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"] + Math.Cos(r["x2"]), rows: 200);
        var columns = new[] { "x0", "x1", "x2" }.Select(n => x.Select(r => (float)r[n]).ToArray()).ToArray();
        var mse = MseFitness.Rows(["x0", "x1", "x2"], columns, [.. y.Select(v => (float)v)]);
        var settings = SearchSettings.Default(7) with { Population = new PopulationSettings(Islands: 4, Size: 24, OffspringPerGeneration: 6, InitialMaxSize: 6) };
        string RunWith(IFitness fitness, int threads)
        {
            var ctx = SearchContext.Create(settings, SearchTestKit.Arithmetic(), fitness, mse, threads: threads);
            var end = Evolution.Run(Evolution.Initialize(ctx, []), ctx, new GenerationTermination(15));
            return StateComparison.Describe(end.HallOfFame) + "\n" + string.Join("\n", StateComparison.Members(end));
        }
        string perCandidate = RunWith(mse, 1);
        Assert.That(RunWith(mse, 3), Is.EqualTo(perCandidate));
        Assert.That(RunWith(new BatchOnly(mse), 2), Is.EqualTo(perCandidate), "scoring where children are bred changes nothing");
    }

    [Test]
    public void Step_IsItsPublicStagesComposed_ByteForByte()
    {
        // Step fuses the stages for speed (measures children and keeps member costs in the breeding pass); a
        // distributed stepper composes the public ones. Both must make the same states, tuning and migration included.
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"] + Math.Cos(r["x2"]), rows: 200);
        var columns = new[] { "x0", "x1", "x2" }.Select(n => x.Select(r => (float)r[n]).ToArray()).ToArray();
        var mse = MseFitness.Rows(["x0", "x1", "x2"], columns, [.. y.Select(v => (float)v)]);
        var settings = SearchSettings.Default(5) with
        {
            Population = new PopulationSettings(Islands: 3, Size: 20, OffspringPerGeneration: 6, InitialMaxSize: 6),
            Migration = new MigrationSettings(Interval: 2),
            Constants = new ConstantSettings(OptimizeProbability: 0.5, MaxPerGeneration: 3),
        };
        var ctx = SearchContext.Create(settings, SearchTestKit.Arithmetic(), mse, mse, threads: 2);
        var state = Evolution.Initialize(ctx, []);
        int tuned = 0;
        for (int g = 0; g < 25; g++)
        {
            var plan = Evolution.Plan(state, ctx);
            var broods = state.Islands.Select(island => Evolution.BreedIsland(island, plan, ctx)).ToArray();
            var offspring = broods.SelectMany(b => b.Offspring).ToArray();
            var trees = offspring.Select(o => o.Tree).ToArray();
            var scores = Evolution.Score(ctx, trees, plan.ScoreSeed, plan.Generation, CancellationToken.None);
            var chosen = Evolution.ChooseForTuning(ctx, state.HallOfFame, offspring, trees, scores);
            Evolution.TuneChosen(ctx, chosen, trees, scores, plan.TuneSeed, plan.Generation, CancellationToken.None);
            tuned += chosen.Count;
            var composed = Evolution.Barrier(state, plan, ctx, [.. broods.Select(b => b.Rng)], trees, scores, trees.Length + chosen.Count);
            var stepped = Evolution.Step(state, ctx);
            Assert.That(SearchStateCodec.Serialize(stepped), Is.EqualTo(SearchStateCodec.Serialize(composed)), $"generation {g + 1}");
            state = stepped;
        }
        Assert.That(tuned, Is.GreaterThan(10), "the comparison must cover tuned children");
    }

    /// <summary>The same fitness seen only through the batch interface.</summary>
    private sealed class BatchOnly(IFitness inner) : IFitness
    {
        public int ObjectiveCount => inner.ObjectiveCount;

        public double BaselineLoss => inner.BaselineLoss;

        public bool IsDeterministic => inner.IsDeterministic;

        public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct) =>
            inner.Evaluate(candidates, objectives, request, ct);
    }
}
