using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace L2OEvolve.Cluster;

/// <summary>Silo configuration of cluster mode: the lockstep grains, and membership in a Redis-backed cluster.</summary>
public static partial class SiloSetup
{
    /// <summary>Registers the island placement; grain calls may take as long as a generation of rollouts.</summary>
    public static ISiloBuilder AddLockstepSearch(this ISiloBuilder silo, TimeSpan callTimeout)
    {
        silo.AddPlacementDirector<IslandPlacement, IslandPlacementDirector>();
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = callTimeout);
        return silo;
    }

    /// <summary>Membership through Redis, this silo's endpoints and ids from <paramref name="config"/>.</summary>
    public static ISiloBuilder UseClusterConfig(this ISiloBuilder silo, ClusterConfig config)
    {
        silo.UseRedisClustering(config.Redis);
        silo.Configure<ClusterOptions>(o => { o.ClusterId = config.ClusterId; o.ServiceId = config.ServiceId; });
        silo.ConfigureEndpoints(config.AdvertisedAddress, config.SiloPort, config.GatewayPort, listenOnAnyHostAddress: false);
        return silo;
    }

    /// <summary>
    /// Claims the cluster for this build's <see cref="ClusterSchema.Version"/> in Redis, or returns why not: a cluster
    /// whose silos speak another version is refused before this silo joins. The claim expires unless a silo renews it
    /// (<see cref="SchemaLease"/>), so a cluster that is fully redeployed with a new build may change version.
    /// </summary>
    public static async Task<string?> ClaimSchemaAsync(ClusterConfig config, TimeSpan lease)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(config.Redis);
        return await ClaimSchemaAsync(redis.GetDatabase(), config, lease);
    }

    internal static async Task<string?> ClaimSchemaAsync(IDatabase db, ClusterConfig config, TimeSpan lease)
    {
        var key = SchemaKey(config);
        string mine = ClusterSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (await db.StringSetAsync(key, mine, lease, When.NotExists)) return null;
        string? theirs = await db.StringGetAsync(key);
        if (theirs is null) return await db.StringSetAsync(key, mine, lease, When.NotExists) ? null : "the cluster's job schema version changed while joining";
        if (theirs != mine)
            return $"cluster '{config.ClusterId}' (service '{config.ServiceId}') runs job schema version " +
                   $"{(int.TryParse(theirs, out int v) ? ClusterSchema.Describe(v) : theirs)}; this build speaks {ClusterSchema.Describe(ClusterSchema.Version)}: refusing to join";
        await db.KeyExpireAsync(key, lease);
        return null;
    }

    private static RedisKey SchemaKey(ClusterConfig c) => $"l2oevolve/{c.ServiceId}/{c.ClusterId}/schema";

    /// <summary>
    /// Renews this silo's schema claim every third of <paramref name="lease"/> while it runs. While the store is
    /// unreachable it says so in the log and retries with exponential back-off (the silo itself keeps running on
    /// Orleans' last membership view).
    /// </summary>
    public sealed partial class SchemaLease(ClusterConfig config, TimeSpan lease, ILogger<SchemaLease> log) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var options = ConfigurationOptions.Parse(config.Redis);
            options.AbortOnConnectFail = false; // connect in the background; a store that is away now may be back later
            using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            var db = redis.GetDatabase();
            var retry = TimeSpan.FromSeconds(1);
            bool away = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = lease / 3;
                try
                {
                    if (await ClaimSchemaAsync(db, config, lease) is { } refusal) LogRefused(refusal);
                    if (away) LogStoreBack();
                    (away, retry) = (false, TimeSpan.FromSeconds(1));
                }
                catch (RedisException e)
                {
                    LogStoreAway(retry.TotalSeconds, e.Message.Split('\n')[0]);
                    (away, wait) = (true, retry);
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, (lease / 3).Ticks));
                }
                try { await Task.Delay(wait, stoppingToken); }
                catch (OperationCanceledException) { }
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "membership store unreachable; retrying in {Seconds:F0} s (running jobs go on; checkpoints are in the home): {Error}")]
        private partial void LogStoreAway(double seconds, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "membership store reachable again")]
        private partial void LogStoreBack();

        [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}")]
        private partial void LogRefused(string refusal);
    }

    /// <summary>Registers the schema lease as a hosted service.</summary>
    public static IServiceCollection AddSchemaLease(this IServiceCollection services, ClusterConfig config, TimeSpan lease) =>
        services.AddHostedService(sp => new SchemaLease(config, lease, sp.GetRequiredService<ILogger<SchemaLease>>()));
}
