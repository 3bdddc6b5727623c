using System.Collections.Immutable;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Pipeline;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// The funnel-fitness options of <c>sr --rollout-*</c> and of sr jobs (<c>settings.rollout*</c>): one place that
/// checks them and builds the <see cref="FunnelFitness"/>, so a job searches exactly as <c>sr</c> does.
/// </summary>
/// <param name="Optimizees">One optimizee spec per rollout stage; empty means plain imitation (no funnel).</param>
/// <param name="Steps">Steps per stage; stages past the end take <see cref="DefaultSteps"/>.</param>
/// <param name="Seeds">Seeds per stage.</param>
/// <param name="Scale">Rollouts apply <c>Scale · rule</c>.</param>
/// <param name="ImitationPass">Only candidates with 1 − R² at most this get rollouts.</param>
public sealed record RolloutOptions(ImmutableArray<string> Optimizees, ImmutableArray<int> Steps, int Seeds = 3, double Scale = 0.01, double ImitationPass = 0.7)
{
    /// <summary>Steps of a stage with no <c>--rollout-steps</c> value.</summary>
    public const int DefaultSteps = 50;

    /// <summary>No rollouts: the search scores imitation only.</summary>
    public static RolloutOptions None { get; } = new([], []);

    /// <summary>True when there is at least one rollout stage.</summary>
    public bool Enabled => !Optimizees.IsDefaultOrEmpty;

    public int StepsOf(int stage) => stage < Steps.Length ? Steps[stage] : DefaultSteps;

    /// <summary>
    /// The faults of these options, each as (field, fault) with the field one of <c>optimizee, steps, seeds, scale,
    /// imitationPass</c>, for the caller to name as its option or job-file field. Unknown optimizees are caught here.
    /// </summary>
    public IReadOnlyList<(string Field, string Fault)> Faults()
    {
        var faults = new List<(string, string)>();
        foreach (var name in Optimizees.IsDefault ? [] : Optimizees)
        {
            try { OptimizeeRegistry.Family(name); }
            catch (ArgumentException e) { faults.Add(("optimizee", e.Message)); }
        }
        var steps = Steps.IsDefault ? [] : Steps;
        if (steps.Length > (Optimizees.IsDefault ? 0 : Optimizees.Length))
            faults.Add(("steps", $"{steps.Length} value(s) for {(Optimizees.IsDefault ? 0 : Optimizees.Length)} rollout optimizee(s)"));
        foreach (var s in steps)
            if (s < 1) faults.Add(("steps", $"must be at least 1, got {s}"));
        if (Seeds < 1) faults.Add(("seeds", $"must be at least 1, got {Seeds}"));
        if (!(double.IsFinite(Scale) && Scale != 0)) faults.Add(("scale", $"must be a finite non-zero number, got {Scale.ToString(CultureInfo.InvariantCulture)}"));
        if (!(ImitationPass >= 0) || double.IsInfinity(ImitationPass)) faults.Add(("imitationPass", $"must be a finite number >= 0, got {ImitationPass.ToString(CultureInfo.InvariantCulture)}"));
        return faults;
    }

    /// <summary>
    /// The funnel over <paramref name="selecting"/> (imitation) with one stage per optimizee; stage i rolls out on
    /// the fixed seeds 900000 + 10000·i + k, so every run, and every resumed run, sees the same problems.
    /// </summary>
    public FunnelFitness Fitness(MseFitness selecting) =>
        new(selecting, Optimizees.Select((name, i) => new RolloutStage(OptimizeeRegistry.Family(name), name, StepsOf(i),
                [.. Enumerable.Range(0, Seeds).Select(k => 900_000L + 10_000L * i + k)])),
            new FunnelSettings(Scale: Scale, ImitationPass: ImitationPass));

    /// <summary>The search context of an sr run or job with these options (imitation only when not <see cref="Enabled"/>).</summary>
    public SearchContext Context(SearchSettings settings, Grammar grammar, MseFitness selecting, int threads) =>
        Enabled
            ? SearchContext.Create(settings, grammar, Fitness(selecting), selecting, Simplify.Apply, threads)
            : SrCommand.Context(settings, grammar, selecting, threads);

    /// <summary>
    /// The hall of fame as reported: without the funnel, simplified, pruned and rescored on every row
    /// (<see cref="SrCommand.Report"/>); with it, as searched, since rescoring would rerun the rollouts.
    /// </summary>
    public HallOfFame Report(HallOfFame h, MseFitness full, Grammar grammar) => Enabled ? h : SrCommand.Report(h, full, grammar);
}
