using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rollouts;

/// <summary>Which rollout figure a <see cref="RolloutFitness"/> minimises.</summary>
public enum RolloutObjective
{
    /// <summary>Training loss averaged over all steps (rewards fast progress; the paper's meta-loss is a sum of losses).</summary>
    MeanLoss,
    /// <summary>Training loss at the last step.</summary>
    FinalLoss,
}

/// <summary>
/// The search's fitness from population rollouts: each batch of candidate rules is trained on the same seeded
/// optimizee instances (<see cref="PopulationRollout"/>), in chunks of at most <see cref="MaxPopulation"/>; a
/// candidate's score does not depend on the chunk it lands in.
/// A rule that does not compile (an unknown feature) or diverges scores +inf. Deterministic (the seeds are part of the
/// settings), so the search may memoise scores by expression.
/// </summary>
public sealed class RolloutFitness : IFitness
{
    private readonly IOptimizeeFamily _family;
    private readonly RolloutSettings _settings;
    private readonly Device _device;
    private readonly RolloutObjective _objective;
    private double? _baseline;

    /// <summary>Creates the fitness; <paramref name="maxPopulation"/> bounds the copies trained at once (memory).</summary>
    public RolloutFitness(IOptimizeeFamily family, RolloutSettings settings, Device? device = null,
        RolloutObjective objective = RolloutObjective.MeanLoss, int maxPopulation = 64)
    {
        if (maxPopulation < 1) throw new ArgumentOutOfRangeException(nameof(maxPopulation), maxPopulation, "must be at least 1");
        (_family, _settings, _device, _objective, MaxPopulation) = (family, settings, device ?? CPU, objective, maxPopulation);
    }

    /// <summary>Most candidates trained in one population.</summary>
    public int MaxPopulation { get; }

    /// <inheritdoc/>
    public int ObjectiveCount => 1;

    /// <summary>The objective of the rule that never moves the parameters (the zero update): training without training.</summary>
    public double BaselineLoss => _baseline ??= Score(PopulationRollout.Run([new Expr.Const(0)], _family, _settings, _device)[0]);

    /// <inheritdoc/>
    public bool IsDeterministic => true;

    /// <inheritdoc/>
    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        var programs = new List<(int Index, RuleProgram Program)>(candidates.Length);
        for (int i = 0; i < candidates.Length; i++)
        {
            objectives[i] = double.PositiveInfinity;
            try { programs.Add((i, RuleProgram.Compile(candidates[i], _settings.Features))); }
            catch (ArgumentException) { /* not a rule this runtime can run: +inf */ }
        }
        for (int start = 0; start < programs.Count; start += MaxPopulation)
        {
            var chunk = programs.Skip(start).Take(MaxPopulation).ToArray();
            var results = PopulationRollout.Run(chunk.Select(c => c.Program).ToArray(), _family, _settings, _device, ct: ct);
            for (int j = 0; j < chunk.Length; j++) objectives[chunk[j].Index] = Score(results[j]);
        }
    }

    private double Score(RolloutResult r) =>
        r.Diverged ? double.PositiveInfinity
        : _objective == RolloutObjective.FinalLoss ? r.FinalLoss
        : r.MeanLoss;
}
