using System.Diagnostics.Metrics;

namespace L2OEvolve.Cli.Daemon;

/// <summary>
/// The daemon's own counters for events that leave no trace in a job's status (retries at the fault edges),
/// published through <see cref="System.Diagnostics.Metrics"/> so any exporter can read them.
/// </summary>
public static class DaemonMeter
{
    /// <summary>The meter's name, for listeners.</summary>
    public const string Name = "L2OEvolve.Daemon";

    private static readonly Meter Meter = new(Name);

    /// <summary>Batches of fitness evaluations retried after a failure or timeout.</summary>
    public static readonly Counter<long> EvaluationRetries =
        Meter.CreateCounter<long>("l2oevolve.evaluation.retries", description: "Batches of fitness evaluations retried after a failure or timeout.");

    /// <summary>File operations retried after a transient I/O failure.</summary>
    public static readonly Counter<long> IoRetries =
        Meter.CreateCounter<long>("l2oevolve.io.retries", description: "File operations retried after a transient I/O failure.");
}
