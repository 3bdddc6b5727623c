namespace L2OEvolve.Cli.Jobs;

/// <summary>The job kinds this build can run (each a thin adapter from <see cref="ISearchJobFactory"/> to a search).</summary>
public static class JobKinds
{
    /// <summary>
    /// Every registered factory; <paramref name="evaluationGuard"/> wraps each job's fitness evaluations (none for submit);
    /// <paramref name="step"/> makes each generation (null: in this process; cluster mode: in lockstep over the silos).
    /// </summary>
    public static IReadOnlyList<ISearchJobFactory> All(Polly.ResiliencePipeline? evaluationGuard = null, L2OEvolve.Cluster.GenerationStep? step = null) =>
        [new SrJobFactory(evaluationGuard, step)];
}
