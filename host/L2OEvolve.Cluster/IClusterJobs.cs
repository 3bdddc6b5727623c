using L2OEvolve.Engine.Search;

namespace L2OEvolve.Cluster;

/// <summary>One generation from one state: <see cref="Evolution.Step"/> in one process, <see cref="LockstepStepper"/> on a cluster.</summary>
public delegate SearchState GenerationStep(SearchState state, SearchContext context, CancellationToken ct);

/// <summary>
/// What a silo needs from the host about jobs: this project knows islands and barriers, the host knows job files,
/// checkpoints and status. Every silo of a cluster gets its own instance, all reading the same job home.
/// </summary>
public interface IClusterJobs
{
    /// <summary>The search context of <paramref name="job"/>, built from its inputs as the single-process daemon builds it (cached per silo).</summary>
    SearchContext Context(string job);

    /// <summary>True when <paramref name="job"/> is neither finished, failed nor stopped.</summary>
    bool IsRunnable(string job);

    /// <summary>
    /// Runs <paramref name="job"/> as the single-process daemon runs it (resume from the newest checkpoint, budgets,
    /// checkpoints at barriers, status, result), with every generation made by <paramref name="step"/>, until it ends or <paramref name="ct"/> fires.
    /// </summary>
    Task RunAsync(string job, GenerationStep step, CancellationToken ct);

    /// <summary>Records where the coordinator of <paramref name="job"/> runs and where each island ran its last generation (silo addresses).</summary>
    void ReportPlacement(string job, string coordinatorSilo, IReadOnlyList<string> islandSilos);
}
