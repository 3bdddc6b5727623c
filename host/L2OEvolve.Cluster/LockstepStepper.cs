using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;
using Microsoft.Extensions.Logging;
using Orleans;
using Polly;
using Polly.Retry;

namespace L2OEvolve.Cluster;

/// <summary>
/// One generation of a job with its islands spread over the cluster, giving exactly the state <see cref="Evolution.Step"/>
/// gives in one process.
/// </summary>
/// <remarks>
/// <code>
/// plan     ← Evolution.Plan(state)                        (frequencies, fitness seeds: read from the barrier state)
/// broods   ← every island grain i, at once: BreedIsland(island i, plan) with its own generator, then Score
/// chosen   ← ChooseForTuning over all children in island order   (here, so the cap and ranking span every island)
/// tuned    ← every island grain with chosen children: TuneChosen on its own children
/// state'   ← Evolution.Barrier: reinsertion, hall of fame in batch order, migration in island order (master generator)
/// </code>
/// Each island call is a pure function of its request. A call that fails because a silo died is retried with
/// back-off; the island reactivates on a surviving silo and recomputes the same reply from the same barrier state.
/// </remarks>
public sealed partial class LockstepStepper
{
    private readonly string _job, _silo;
    private readonly IGrainFactory _grains;
    private readonly IClusterJobs _jobs;
    private readonly ILogger _log;
    private readonly ResiliencePipeline _retry;
    private string[] _placement = [];

    /// <summary>
    /// A stepper for <paramref name="job"/> whose coordinator runs on <paramref name="silo"/>; an island call is tried up
    /// to <paramref name="attempts"/> times, waiting up to <paramref name="maxDelay"/> between tries.
    /// </summary>
    public LockstepStepper(string job, string silo, IGrainFactory grains, IClusterJobs jobs, ILogger log, int attempts = 30, TimeSpan? maxDelay = null)
    {
        (_job, _silo, _grains, _jobs, _log) = (job, silo, grains, jobs, log);
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, attempts - 1),
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(250),
            MaxDelay = maxDelay ?? TimeSpan.FromSeconds(10),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            OnRetry = a =>
            {
                LogIslandRetry(_job, a.AttemptNumber + 1, a.RetryDelay.TotalSeconds, a.Outcome.Exception?.GetBaseException().Message ?? "");
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>The silo each island ran its last generation on.</summary>
    public IReadOnlyList<string> Placement => _placement;

    /// <summary>The <see cref="GenerationStep"/> of this job (blocks; the daemon calls it off its loop thread).</summary>
    public SearchState Step(SearchState state, SearchContext ctx, CancellationToken ct) => StepAsync(state, ctx, ct).GetAwaiter().GetResult();

    /// <summary>One generation in lockstep; throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> fires (the state before it stays valid).</summary>
    public async Task<SearchState> StepAsync(SearchState state, SearchContext ctx, CancellationToken ct)
    {
        var plan = Evolution.Plan(state, ctx);
        var keys = plan.Frequency.Keys.Order().ToArray();
        var breeds = await Task.WhenAll(state.Islands.Select((island, i) => Call(i, g => g.Breed(Wire.Write(new BreedRequest
        {
            SchemaVersion = ClusterSchema.Version,
            Island = SearchStateCodec.ToDto(island),
            Generation = plan.Generation,
            PerIsland = plan.PerIsland,
            FrequencyKeys = keys,
            FrequencyValues = [.. keys.Select(k => plan.Frequency[k])],
            ScoreSeed = plan.ScoreSeed,
            TuneSeed = plan.TuneSeed,
        })), ct)));
        var replies = breeds.Select(Wire.Read<BreedReply>).ToArray();
        foreach (var r in replies)
            if (r.Trees.Length != plan.PerIsland) throw new InvalidOperationException($"an island returned {r.Trees.Length} children, expected {plan.PerIsland}");

        var trees = replies.SelectMany(r => r.Trees.Select(ExprEncoding.Decode)).ToArray();
        var scores = replies.SelectMany(r => r.Scores).ToArray();
        var offspring = trees.Select((t, k) => new Offspring(t, replies[k / plan.PerIsland].Tune[k % plan.PerIsland])).ToArray();
        var chosen = Evolution.ChooseForTuning(ctx, state.HallOfFame, offspring, trees, scores);

        var byIsland = chosen.GroupBy(k => k / plan.PerIsland).ToArray();
        var tuned = await Task.WhenAll(byIsland.Select(g => Call(g.Key, grain => grain.Tune(Wire.Write(new TuneRequest
        {
            SchemaVersion = ClusterSchema.Version,
            Trees = replies[g.Key].Trees,
            Scores = replies[g.Key].Scores,
            Chosen = [.. g.Select(k => k % plan.PerIsland)],
            Seed = plan.TuneSeed,
            Generation = plan.Generation,
        })), ct)));
        for (int j = 0; j < byIsland.Length; j++)
        {
            var reply = Wire.Read<TuneReply>(tuned[j]);
            int first = byIsland[j].Key * plan.PerIsland;
            for (int k = 0; k < plan.PerIsland; k++)
            {
                trees[first + k] = ExprEncoding.Decode(reply.Trees[k]);
                scores[first + k] = reply.Scores[k];
            }
        }

        var placement = replies.Select(r => r.Silo).ToArray();
        if (!placement.SequenceEqual(_placement))
        {
            _placement = placement;
            _jobs.ReportPlacement(_job, _silo, placement);
        }
        var rngs = replies.Select(r => SearchStateCodec.State(r.Rng)).ToArray();
        ct.ThrowIfCancellationRequested();
        return Evolution.Barrier(state, plan, ctx, rngs, trees, scores, trees.Length + chosen.Count);
    }

    private async Task<byte[]> Call(int island, Func<IIslandGrain, Task<byte[]>> call, CancellationToken ct) =>
        await _retry.ExecuteAsync(async token =>
        {
            token.ThrowIfCancellationRequested();
            return await call(_grains.GetGrain<IIslandGrain>(IslandPlacement.Key(_job, island))).WaitAsync(token);
        }, ct);

    [LoggerMessage(Level = LogLevel.Warning, Message = "job {Job}: an island call failed; retry {Attempt} in {Seconds:F1} s: {Error}")]
    private partial void LogIslandRetry(string job, int attempt, double seconds, string error);
}
