namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// The seam between the daemon and a search: an immutable snapshot that steps one generation at a time,
/// reports progress and serialises itself. The daemon owns scheduling, budgets, checkpoints and faults; the
/// search behind this interface owns everything about evolution.
/// </summary>
public interface ISearchJob
{
    /// <summary>Generations completed.</summary>
    long Generation { get; }

    /// <summary>Fitness evaluations spent.</summary>
    long Evaluations { get; }

    /// <summary>True when the search itself has finished (e.g. a target loss was reached); budgets are the daemon's.</summary>
    bool IsConverged { get; }

    /// <summary>The best loss found at each complexity, ascending by complexity.</summary>
    IReadOnlyList<FrontPoint> Front { get; }

    /// <summary>Runs one generation and returns the next snapshot; this one is unchanged (so a failed step can be retried).</summary>
    ISearchJob Step(CancellationToken cancellationToken);

    /// <summary>The complete search state as bytes, from which <see cref="IPreparedJob.Resume"/> continues bit for bit.</summary>
    byte[] SaveState();

    /// <summary>The hall of fame as <c>sr</c> reports it (may cost some evaluations, so the daemon calls it sparingly).</summary>
    JobReport Report();

    /// <summary>
    /// Counts of work this process did for the search (e.g. <c>cacheHits</c>, <c>rollouts</c>), for progress displays and
    /// metrics; not part of the state, so they start again at zero each time the daemon (re)starts the job.
    /// </summary>
    IReadOnlyDictionary<string, long> Counters => System.Collections.Immutable.ImmutableDictionary<string, long>.Empty;
}

/// <summary>A job's hall of fame for people: <paramref name="Csv"/> as <c>sr</c> writes <c>hall_of_fame.csv</c>, <paramref name="Text"/> as it prints it.</summary>
public sealed record JobReport(string Csv, string Text);

/// <summary>The best rule found at one complexity.</summary>
/// <param name="Scores">For funnel jobs, the parts of <paramref name="Loss"/>: the imitation loss, then the rollout score of each stage; null otherwise.</param>
public readonly record struct FrontPoint(int Complexity, double Loss, string Equation, IReadOnlyList<double>? Scores = null);

/// <summary>Builds the searches of one job kind (e.g. <c>sr</c>) from job specs.</summary>
public interface ISearchJobFactory
{
    /// <summary>The <c>kind</c> value in job files this factory serves.</summary>
    string Kind { get; }

    /// <summary>Checks the kind-specific parts of a spec (settings names and values); empty when it is valid.</summary>
    IReadOnlyList<JobFault> Validate(JobSpec spec);

    /// <summary>Loads the job's inputs (data, grammar); throws <see cref="JobInputException"/> naming the file and fault.</summary>
    IPreparedJob Prepare(JobSpec spec);
}

/// <summary>A job whose inputs are loaded: it can start fresh or resume from saved state.</summary>
public interface IPreparedJob
{
    /// <summary>
    /// The settings and input-content hashes that must not change across a resume, field by field
    /// (budgets and thread counts are not among them: they change no result bit).
    /// </summary>
    IReadOnlyDictionary<string, string> Fingerprint { get; }

    /// <summary>
    /// The fields of a checkpoint's <paramref name="saved"/> fingerprint that forbid resuming under the current one;
    /// by default every field that differs (a kind may accept some changes, e.g. mutation weights).
    /// </summary>
    IReadOnlyList<string> IncompatibleFields(IReadOnlyDictionary<string, string> saved) => Fingerprints.Changed(saved, Fingerprint);

    /// <summary>
    /// A fresh search from the job's seed: its initial population built and scored. Cancelling gives up on it (the
    /// daemon cancels at shutdown and when the job's time budget runs out there) with an <see cref="OperationCanceledException"/>.
    /// </summary>
    ISearchJob Start(CancellationToken cancellationToken = default);

    /// <summary>What <see cref="Start"/> builds, for messages (e.g. "the initial population of 2 × 32 members").</summary>
    string InitialPopulation => "the initial population";

    /// <summary>The search continued from <see cref="ISearchJob.SaveState"/> bytes.</summary>
    ISearchJob Resume(byte[] state);
}

/// <summary>One problem with a job file or option: which file, which field, what is wrong.</summary>
public sealed record JobFault(string File, string Field, string Fault)
{
    public override string ToString() => $"{File}: field '{Field}': {Fault}";
}

/// <summary>A job's input (data or grammar file) could not be loaded.</summary>
public sealed class JobInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A checkpoint cannot be resumed because settings or inputs changed; lists the fields.</summary>
public sealed class JobIncompatibleException(IReadOnlyList<string> changedFields)
    : Exception("settings changed incompatibly since the checkpoint: " + string.Join(", ", changedFields))
{
    /// <summary>The fields whose values differ.</summary>
    public IReadOnlyList<string> ChangedFields { get; } = changedFields;
}

/// <summary>Field-by-field comparison of job fingerprints.</summary>
public static class Fingerprints
{
    /// <summary>The names of the fields that differ, were added or were removed, in ordinal order.</summary>
    public static IReadOnlyList<string> Changed(IReadOnlyDictionary<string, string> saved, IReadOnlyDictionary<string, string> current) =>
        saved.Keys.Union(current.Keys)
            .Where(k => !saved.TryGetValue(k, out var a) || !current.TryGetValue(k, out var b) || a != b)
            .Order(StringComparer.Ordinal)
            .ToList();
}
