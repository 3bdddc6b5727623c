using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// Scores a batch of candidate rules (the search's only view of the problem). Batched so that an expensive fitness
/// (TorchSharp rollouts) can vectorise across candidates or run a funnel: a cheap score for all, rollouts for the best.
/// </summary>
/// <remarks>
/// Contract: never throw for a bad candidate (a non-finite or failing rule scores +inf); write results by index only,
/// so the outcome does not depend on how the work was scheduled; objective 0 is the loss selection minimises.
/// </remarks>
public interface IFitness
{
    /// <summary>How many objectives each candidate gets (≥ 1); objective 0 is the loss.</summary>
    int ObjectiveCount { get; }

    /// <summary>The loss of the trivial rule (for MSE: the target's variance); costs are loss / baseline + parsimony·complexity.</summary>
    double BaselineLoss { get; }

    /// <summary>True when the score depends only on the expression (then the search memoises it by expression).</summary>
    bool IsDeterministic { get; }

    /// <summary>
    /// Scores <paramref name="candidates"/>, writing candidate i's objectives to
    /// <c>objectives[i*ObjectiveCount .. (i+1)*ObjectiveCount)</c>.
    /// </summary>
    void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct);
}

/// <summary>
/// A deterministic fitness that can score one candidate on the calling thread, its score depending on that candidate
/// alone (no batch-wide ranking, no seed). The search then scores each child where it breeds it, without a batch.
/// </summary>
/// <remarks>Must be thread-safe, and <see cref="IFitness.Evaluate"/> must give the same numbers for the same candidates.</remarks>
public interface ICandidateFitness : IFitness
{
    /// <summary>Writes the objectives of <paramref name="candidate"/> (never throws for a bad candidate: +inf).</summary>
    void EvaluateOne(Expr candidate, Span<double> objectives);
}

/// <summary>Per-batch facts a fitness may use: a degree of parallelism, and a seed for stochastic fitnesses (rollouts) so reruns agree.</summary>
public sealed record FitnessRequest(int Threads, ulong Seed, int Generation);

/// <summary>Improves a rule's constants (e.g. Levenberg–Marquardt); must be deterministic and never throw for a bad rule.</summary>
public interface IConstantTuner
{
    /// <summary>The rule with tuned constants (or <paramref name="tree"/> itself when nothing improved).</summary>
    Expr Tune(Expr tree, CancellationToken ct);
}
