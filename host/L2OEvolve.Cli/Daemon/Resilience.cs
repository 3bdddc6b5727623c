using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace L2OEvolve.Cli.Daemon;

/// <summary>
/// The daemon's Polly v8 pipelines. They wrap only the edges where the world can fail (file I/O, and the call
/// into a job's generation, whose evaluations may hang or throw); the search engine itself is never wrapped.
/// </summary>
public static class Resilience
{
    /// <summary>
    /// Retries transient I/O failures with exponential back-off. A full disk is retried too (space may be freed);
    /// if it persists the caller keeps its previous files and reports the error.
    /// </summary>
    public static ResiliencePipeline Io(int retries, TimeSpan firstDelay)
    {
        if (retries == 0) return ResiliencePipeline.Empty;
        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<IOException>(e => e is not (FileNotFoundException or DirectoryNotFoundException)),
                MaxRetryAttempts = retries,
                Delay = firstDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                OnRetry = _ => { DaemonMeter.IoRetries.Add(1); return default; },
            })
            .Build();
    }

    /// <summary>
    /// Guards one batch of fitness evaluations (see <see cref="GuardedFitness"/>): a timeout per attempt for
    /// evaluations that hang, and a few attempts in all (evaluation is deterministic, so a retry is exact).
    /// Shutdown cancellation is not retried. After the last attempt the error reaches the job, which fails.
    /// </summary>
    public static ResiliencePipeline Evaluation(TimeSpan timeout, int attempts)
    {
        var builder = new ResiliencePipelineBuilder();
        if (attempts > 1)
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException || e is TimeoutRejectedException),
                MaxRetryAttempts = attempts - 1,
                Delay = TimeSpan.FromMilliseconds(50),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                OnRetry = _ => { DaemonMeter.EvaluationRetries.Add(1); return default; },
            });
        return builder.AddTimeout(timeout).Build();
    }
}
