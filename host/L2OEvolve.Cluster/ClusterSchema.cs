using L2OEvolve.Engine.Persistence;

namespace L2OEvolve.Cluster;

/// <summary>
/// The job schema version a silo speaks: the search-state layout and the lockstep protocol (grain messages). Silos of
/// different versions would exchange states they cannot read or step them differently, so they never share a cluster.
/// </summary>
public static class ClusterSchema
{
    /// <summary>Bumped whenever a grain message or the order of a generation's phases changes.</summary>
    public const int Protocol = 1;

    /// <summary>The version this build speaks (state layout × 100 + protocol).</summary>
    public static int Version => SearchStateCodec.SchemaVersion * 100 + Protocol;

    /// <summary>The version for people: state layout and protocol.</summary>
    public static string Describe(int version) => $"{version} (search state {version / 100}, protocol {version % 100})";

    /// <summary>Refuses a message of another version (a silo of another build slipped into the cluster).</summary>
    public static void Check(int version)
    {
        if (version != Version)
            throw new InvalidOperationException($"job schema version {Describe(version)} in a message; this silo speaks {Describe(Version)}");
    }
}
