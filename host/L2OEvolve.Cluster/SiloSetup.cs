using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace L2OEvolve.Cluster;

/// <summary>Silo configuration of cluster mode: the lockstep grains, and membership in a Redis-backed cluster.</summary>
public static class SiloSetup
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

    /// <summary>Renews this silo's schema claim every third of <paramref name="lease"/> while it runs.</summary>
    public sealed class SchemaLease(ClusterConfig config, TimeSpan lease) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(config.Redis);
            var db = redis.GetDatabase();
            while (!stoppingToken.IsCancellationRequested)
            {
                try { await ClaimSchemaAsync(db, config, lease); }
                catch (RedisException) { } // the store is away; membership reports it, and the next round renews
                try { await Task.Delay(lease / 3, stoppingToken); }
                catch (OperationCanceledException) { }
            }
        }
    }

    /// <summary>Registers the schema lease as a hosted service.</summary>
    public static IServiceCollection AddSchemaLease(this IServiceCollection services, ClusterConfig config, TimeSpan lease) =>
        services.AddHostedService(_ => new SchemaLease(config, lease));
}
