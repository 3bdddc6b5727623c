using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using Polly;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// A fitness whose evaluation batches run under a resilience pipeline (timeout per attempt, a few attempts): the
/// edge where a rollout may hang in native code or fail transiently. The engine calling it stays unwrapped.
/// </summary>
/// <remarks>
/// A hang that ignores its cancellation token cannot be interrupted, only abandoned: each attempt runs on a pool
/// thread and the caller stops waiting when the timeout fires. Values are identical to the inner fitness whenever
/// an attempt succeeds, so guarding never changes a search's result.
/// </remarks>
public sealed class GuardedFitness(IFitness inner, ResiliencePipeline pipeline) : IFitness
{
    /// <summary>The fitness guarded.</summary>
    public IFitness Inner => inner;

    public int ObjectiveCount => inner.ObjectiveCount;
    public double BaselineLoss => inner.BaselineLoss;
    public bool IsDeterministic => inner.IsDeterministic;

    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        var batch = candidates.ToArray();
        var results = new double[objectives.Length];
        pipeline.Execute(token =>
        {
            var attempt = new double[results.Length];
            Task.Run(() => inner.Evaluate(batch, attempt, request, token), token).Wait(token);
            attempt.CopyTo(results, 0);
        }, ct);
        results.CopyTo(objectives);
    }
}
