using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Clustering.Redis;
using Orleans.Configuration;
using Orleans.Runtime;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace L2OEvolve.Cluster;

/// <summary>
/// This project's own conversations with the membership store (Redis): the job-schema claim before a silo joins,
/// its renewal while the silo runs, and the watch for a store that lost the cluster. Orleans talks to the store
/// separately (its membership table) and retries those calls itself; every call here goes through
/// <see cref="Retry"/>, which backs off exponentially and logs each failed attempt.
/// </summary>
public static partial class MembershipStore
{
    /// <summary>The key holding the job schema version a cluster runs.</summary>
    public static RedisKey SchemaKey(ClusterConfig c) => $"l2oevolve/{c.ServiceId}/{c.ClusterId}/schema";

    /// <summary>
    /// The key of the cluster's membership table (Orleans' Redis provider's own name for it). It disappears when the
    /// store loses its data (flushed, or restarted without persistence).
    /// </summary>
    public static RedisKey TableKey(ClusterConfig c) =>
        RedisClusteringOptions.DefaultCreateRedisKey(new ClusterOptions { ServiceId = c.ServiceId, ClusterId = c.ClusterId });

    /// <summary>
    /// Retries a store call that failed because the store is unreachable or slow (connection errors, timeouts), up to
    /// <paramref name="attempts"/> tries in all, waiting <paramref name="firstDelay"/> doubled each time up to
    /// <paramref name="maxDelay"/>; every failed try is logged with its number, the wait and the error.
    /// </summary>
    public static ResiliencePipeline Retry(ILogger log, int attempts, TimeSpan firstDelay, TimeSpan maxDelay, Action? onRetry = null) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutException>(),
            MaxRetryAttempts = Math.Max(0, attempts - 1),
            Delay = firstDelay,
            MaxDelay = maxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            OnRetry = a =>
            {
                onRetry?.Invoke();
                LogUnreachable(log, a.AttemptNumber + 1, attempts == int.MaxValue ? "" : $" of {attempts}", a.RetryDelay.TotalSeconds,
                    a.Outcome.Exception?.Message.Split('\n')[0] ?? "");
                return ValueTask.CompletedTask;
            },
        }).Build();

    /// <summary>
    /// Claims the cluster for this build's <see cref="ClusterSchema.Version"/>, or returns why not: a cluster whose
    /// silos speak another version is refused before this silo joins. The claim expires unless a silo renews it
    /// (<see cref="SchemaLease"/>), so a cluster that is fully redeployed with a new build may change version.
    /// Throws <see cref="RedisException"/> or <see cref="TimeoutException"/> once <paramref name="retry"/> gives up.
    /// </summary>
    public static async Task<string?> ClaimSchemaAsync(ClusterConfig config, TimeSpan lease, ResiliencePipeline retry, CancellationToken ct = default) =>
        await retry.ExecuteAsync(async _ =>
        {
            var options = ConfigurationOptions.Parse(config.Redis);
            options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            return await ClaimSchemaAsync(redis.GetDatabase(), config, lease);
        }, ct);

    internal static async Task<string?> ClaimSchemaAsync(IDatabase db, ClusterConfig config, TimeSpan lease)
    {
        var key = SchemaKey(config);
        string mine = ClusterSchema.Version.ToString(CultureInfo.InvariantCulture);
        if (await db.StringSetAsync(key, mine, lease, When.NotExists)) return null;
        string? theirs = await db.StringGetAsync(key);
        if (theirs is null) return await db.StringSetAsync(key, mine, lease, When.NotExists) ? null : "the cluster's job schema version changed while joining";
        if (theirs != mine)
            return $"cluster '{config.ClusterId}' (service '{config.ServiceId}') runs job schema version " +
                   $"{(int.TryParse(theirs, out int v) ? ClusterSchema.Describe(v) : theirs)}; this build speaks {ClusterSchema.Describe(ClusterSchema.Version)}: refusing to join";
        await db.KeyExpireAsync(key, lease);
        return null;
    }

    /// <summary>
    /// While the silo runs: renews its schema claim and checks that the store still holds this silo's row of the
    /// membership table, every <paramref name="every"/>. While the store is unreachable each try is logged and retried
    /// with back-off (the silo keeps running on Orleans' last membership view). When the row that was there is gone
    /// (the store lost its data, whether or not another silo has recreated the table since), the watch recreates the
    /// table if it is missing, so that this silo can record its own leaving, runs <paramref name="lost"/> once, and
    /// ends: Orleans does not write a lost row again, so this silo is no longer a member and must join anew.
    /// </summary>
    public sealed partial class SchemaLease(ClusterConfig config, TimeSpan lease, TimeSpan every, Action lost, ILocalSiloDetails silo,
        IMembershipTable table, ILogger<SchemaLease> log) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var options = ConfigurationOptions.Parse(config.Redis);
            options.AbortOnConnectFail = false; // connect in the background; a store that is away now may be back later
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            var db = redis.GetDatabase();
            int failures = 0;
            var retry = Retry(log, int.MaxValue, TimeSpan.FromSeconds(1), every, () => failures++);
            RedisValue row = silo.SiloAddress.ToString();
            bool rowSeen = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                string? refusal;
                bool member;
                try
                {
                    (refusal, member) = await retry.ExecuteAsync(async _ => (await ClaimSchemaAsync(db, config, lease), await db.HashExistsAsync(TableKey(config), row)), stoppingToken);
                }
                catch (OperationCanceledException) { break; }
                if (failures > 0) LogBack(failures);
                failures = 0;
                if (refusal is not null) LogRefused(refusal);
                if (member) rowSeen = true;
                else if (rowSeen)
                {
                    LogLost(config.ClusterId, row.ToString(), TableKey(config).ToString());
                    // Without a table, Orleans' graceful stop retries writing this silo's status until it times out.
                    try { await retry.ExecuteAsync(async ct => await table.InitializeMembershipTableAsync(tryInitTableVersion: true, ct), stoppingToken); }
                    catch (OperationCanceledException) { }
                    lost();
                    return;
                }
                try { await Task.Delay(every, stoppingToken); }
                catch (OperationCanceledException) { }
            }
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "membership store reachable again after {Failures} failed attempt(s)")]
        private partial void LogBack(int failures);

        [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}")]
        private partial void LogRefused(string refusal);

        [LoggerMessage(Level = LogLevel.Error, Message = "the membership store lost cluster '{Cluster}': this silo's row {Row} of {Key} is gone (the store was flushed or restarted without persistence)")]
        private partial void LogLost(string cluster, string row, string key);
    }

    /// <summary>Registers the schema lease and store watch as a hosted service.</summary>
    public static IServiceCollection AddSchemaLease(this IServiceCollection services, ClusterConfig config, TimeSpan lease, TimeSpan every, Action lost) =>
        services.AddHostedService(sp => new SchemaLease(config, lease, every, lost, sp.GetRequiredService<ILocalSiloDetails>(), sp.GetRequiredService<IMembershipTable>(),
            sp.GetRequiredService<ILogger<SchemaLease>>()));

    [LoggerMessage(Level = LogLevel.Warning, Message = "membership store unreachable (attempt {Attempt}{OfAll}); retrying in {Seconds:F1} s (running jobs go on; checkpoints are in the home): {Error}")]
    private static partial void LogUnreachable(ILogger log, int attempt, string ofAll, double seconds, string error);
}
