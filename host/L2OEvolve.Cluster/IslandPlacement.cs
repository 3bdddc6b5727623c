using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace L2OEvolve.Cluster;

/// <summary>Places island i of a job on the (i mod n)-th of the n compatible silos in address order, so islands spread evenly.</summary>
[Serializable, GenerateSerializer, Immutable]
public sealed class IslandPlacement : PlacementStrategy
{
    /// <summary>The silo island <paramref name="index"/> belongs on among <paramref name="silos"/> (null when there is none).</summary>
    public static SiloAddress? Home(int index, IEnumerable<SiloAddress> silos)
    {
        var ordered = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        return ordered.Length == 0 ? null : ordered[index % ordered.Length];
    }

    /// <summary>The island index in a key <c>JOB/ISLAND</c>.</summary>
    public static int IndexOf(string key) => int.Parse(key[(key.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The job name in a key <c>JOB/ISLAND</c>.</summary>
    public static string JobOf(string key) => key[..key.LastIndexOf('/')];

    /// <summary>The grain key of island <paramref name="index"/> of <paramref name="job"/>.</summary>
    public static string Key(string job, int index) => $"{job}/{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>Marks a grain class as placed by <see cref="IslandPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class IslandPlacementAttribute() : PlacementAttribute(new IslandPlacement());

/// <summary>Chooses the silo of a new island activation by <see cref="IslandPlacement.Home"/>.</summary>
public sealed class IslandPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        int index = IslandPlacement.IndexOf(target.GrainIdentity.Key.ToString()!);
        return Task.FromResult(IslandPlacement.Home(index, silos) ?? context.LocalSilo);
    }
}
