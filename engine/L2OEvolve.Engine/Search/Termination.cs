namespace L2OEvolve.Engine.Search;

/// <summary>What a termination criterion may look at after each generation.</summary>
public sealed record SearchProgress(int Generation, long Evaluations, double BestLoss, TimeSpan Elapsed);

/// <summary>The termination stage: a small composable predicate (GeneticSharp's terminations, without hidden state).</summary>
public interface ITermination
{
    /// <summary>True when the search should stop.</summary>
    bool IsReached(SearchProgress progress);
}

/// <summary>Stops once the wall-clock budget is spent.</summary>
public sealed record TimeTermination(TimeSpan Budget) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => progress.Elapsed >= Budget;
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
}

/// <summary>Stops when any part says so.</summary>
public sealed record OrTermination(params ITermination[] Parts) : ITermination
{
    /// <inheritdoc/>
    public bool IsReached(SearchProgress progress) => Parts.Any(p => p.IsReached(progress));
}
