using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

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
}
