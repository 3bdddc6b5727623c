namespace L2OEvolve.Engine.Search;

/// <summary>What a termination criterion may look at after each generation.</summary>
public sealed record SearchProgress(int Generation, long Evaluations, double BestLoss, TimeSpan Elapsed);

/// <summary>The termination stage: a small composable predicate (GeneticSharp's terminations, without hidden state).</summary>
public interface ITermination
{
    /// <summary>True when the search should stop.</summary>
    bool IsReached(SearchProgress progress);

    /// <summary>
    /// Elapsed time at which this criterion holds whatever else happens, or null when it does not depend on time
    /// alone. A search stops a generation that is still running at this point, so a slow generation cannot carry a
    /// run far past its time budget.
    /// </summary>
    TimeSpan? Deadline => null;
}

/// <summary>Stops once the wall-clock budget is spent.</summary>
public sealed record TimeTermination(TimeSpan Budget) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => progress.Elapsed >= Budget;

    /// <inheritdoc/>
    public TimeSpan? Deadline => Budget;
}

/// <summary>Stops after a number of generations.</summary>
public sealed record GenerationTermination(int Generations) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => progress.Generation >= Generations;
}

/// <summary>Stops after a number of candidate evaluations (cache hits included, so the count is deterministic).</summary>
public sealed record EvaluationTermination(long Evaluations) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => progress.Evaluations >= Evaluations;
}

/// <summary>Stops once the best loss reaches a target.</summary>
public sealed record TargetLossTermination(double Loss) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => progress.BestLoss <= Loss;
}

/// <summary>Stops when every part says so.</summary>
public sealed record AndTermination(params ITermination[] Parts) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => Parts.All(p => p.IsReached(progress));

    /// <inheritdoc/>
    /// <remarks>Only when every part has a deadline (then the latest); one part that needs more than time keeps the search going.</remarks>
    public TimeSpan? Deadline => Parts.Length > 0 && Parts.All(p => p.Deadline is not null) ? Parts.Max(p => p.Deadline) : null;
}

/// <summary>Stops when any part says so.</summary>
public sealed record OrTermination(params ITermination[] Parts) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => Parts.Any(p => p.IsReached(progress));

    /// <inheritdoc/>
    /// <remarks>The earliest deadline of any part.</remarks>
    public TimeSpan? Deadline => Parts.Select(p => p.Deadline).Where(d => d is not null).Min();
}

/// <summary>
/// <paramref name="Inner"/> for a search that has already spent <paramref name="Spent"/> before its generations began
/// (building and scoring the initial population), so a time budget covers the whole search, not the loop alone.
/// </summary>
public sealed record AfterSpent(ITermination Inner, TimeSpan Spent) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => Inner.IsReached(progress with { Elapsed = progress.Elapsed + Spent });

    /// <inheritdoc/>
    public TimeSpan? Deadline => Inner.Deadline is { } d ? d - Spent : null;
}
