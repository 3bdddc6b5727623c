using System.Collections.Concurrent;
using L2OEvolve.Cluster;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Cluster.Tests;

/// <summary>A small symbolic-regression job: the production MSE fitness and constant tuner on synthetic rows.</summary>
internal static class SmallJob
{
    public static Grammar Grammar { get; } = new(
        "cluster-test",
        ["x0", "x1"],
        [new OpSpec(Op.Add), new OpSpec(Op.Sub), new OpSpec(Op.Mul), new OpSpec(Op.Div), new OpSpec(Op.Cos), new OpSpec(Op.Exp)],
        new ConstantSpec(-2, 2, 1, 0.3),
        StatefulSpec.None,
        15,
        8,
        [],
        0.001,
        "cluster-test-hash");

    /// <summary>A fresh context (its own fitness memo, as each silo has) for a search with <paramref name="islands"/> islands.</summary>
    public static SearchContext Context(int islands, int threads = 1)
    {
        const int rows = 64;
        var x0 = new float[rows];
        var x1 = new float[rows];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            x0[i] = (float)Math.Sin(0.37 * i);
            x1[i] = (float)(0.05 * i - 1);
            y[i] = (float)(1.5 * x0[i] * x1[i] + Math.Cos(x0[i]));
        }
        var fitness = MseFitness.Rows(["x0", "x1"], [x0, x1], y);
        var settings = SearchSettings.Default(7) with
        {
            Population = new PopulationSettings(Islands: islands, Size: 20, OffspringPerGeneration: 5, InitialMaxSize: 6),
            Migration = new MigrationSettings(Interval: 2),
        };
        return SearchContext.Create(settings, Grammar, fitness, fitness, Simplify.Apply, threads);
    }
}

/// <summary>
/// The host side of a test cluster: every silo gets its own instance (own contexts, as separate machines have), all
/// sharing one <see cref="Home"/> that stands for the daemon home on a shared file system.
/// </summary>
internal sealed class TestJobs(TestJobs.Home home, string silo) : IClusterJobs
{
    /// <summary>What the silos share: the jobs to run and their outcomes.</summary>
    public sealed class Home
    {
        public required int Islands { get; init; }
        public required int Generations { get; init; }
        /// <summary>Called after each generation the coordinator completes (the test's view of progress).</summary>
        public Action<SearchState>? AfterGeneration { get; set; }
        public TaskCompletionSource<SearchState> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentDictionary<string, IReadOnlyList<string>> Placements { get; } = new();
        public ConcurrentBag<string> Placed { get; } = [];
        /// <summary>The silo whose coordinator ran the loop last.</summary>
        public string? CoordinatorSilo { get; set; }
    }

    private readonly ConcurrentDictionary<string, SearchContext> _contexts = new();

    public SearchContext Context(string job) => _contexts.GetOrAdd(job, _ => SmallJob.Context(home.Islands));

    public bool IsRunnable(string job) => !home.Result.Task.IsCompleted;

    public Task RunAsync(string job, GenerationStep step, CancellationToken ct) => Task.Run(() =>
    {
        try
        {
            home.CoordinatorSilo = silo;
            var ctx = Context(job);
            var state = Evolution.Initialize(ctx, []);
            while (state.Generation < home.Generations)
            {
                state = step(state, ctx, ct);
                home.AfterGeneration?.Invoke(state);
            }
            home.Result.TrySetResult(state);
        }
        catch (Exception e) { home.Result.TrySetException(e); }
    }, CancellationToken.None);

    public void ReportPlacement(string job, string coordinatorSilo, IReadOnlyList<string> islandSilos)
    {
        home.Placements[job] = islandSilos;
        foreach (var s in islandSilos) home.Placed.Add(s);
    }
}
