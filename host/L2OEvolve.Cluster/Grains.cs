using Orleans;

namespace L2OEvolve.Cluster;

/// <summary>
/// One island of one job (key <c>JOB/ISLAND</c>). It holds no state between calls: the barrier state travels with each
/// request, so an island lost with its silo is rebuilt anywhere from the coordinator's last barrier.
/// </summary>
public interface IIslandGrain : IGrainWithStringKey
{
    /// <summary>Breeds the island's children with its own generator and scores them (MessagePack <see cref="BreedRequest"/> → <see cref="BreedReply"/>).</summary>
    Task<byte[]> Breed(byte[] request);

    /// <summary>Tunes the chosen children's constants and rescores them (MessagePack <see cref="TuneRequest"/> → <see cref="TuneReply"/>).</summary>
    Task<byte[]> Tune(byte[] request);
}

/// <summary>The coordinator of one job (key: the job's name): runs its barrier loop on whichever silo it lives on.</summary>
public interface IJobCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Starts the job's loop here unless it runs or the job is not runnable; true while it runs. Every silo calls this periodically.</summary>
    Task<bool> Ensure();
}
