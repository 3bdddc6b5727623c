using System.CommandLine;
using L2OEvolve.Torch.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// The data, grammar, budget and seed options that <c>sr</c> and <c>submit</c> share, declared once so the two verbs
/// cannot drift apart (a job is "the same options as sr").
/// </summary>
internal sealed class SearchOptions
{
    public Option<string> Data { get; } = new("--data") { Description = "Dataset: .csv with a header, .npy (+ sidecar naming columns), or a trajectory .npy", Required = true };
    public Option<string?> Target { get; } = new("--target") { Description = "Target column (default: the last column)" };
    public Option<string?> Features { get; } = new("--features") { Description = "Comma-separated feature columns (default: all but the target)" };
    public Option<string> Grammar { get; } = new("--grammar") { Description = "Grammar file (grammars/*.json)", Required = true };
    public Option<long?> Evaluations { get; } = new("--evaluations") { Description = "Stop after this many candidate evaluations" };
    public Option<double?> TargetLoss { get; } = new("--target-loss") { Description = "Stop once the best loss is at or below this" };
    public Option<double?> TargetR2 { get; } = new("--target-r2") { Description = "Stop once the best R2 is at or above this" };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Random seed (same seed, same result for any --threads)", DefaultValueFactory = _ => 0UL };
    public Option<int?> Islands { get; } = new("--islands") { Description = "Island populations (default 8)" };
    public Option<int?> Population { get; } = new("--population") { Description = "Members per island (default 64)" };
    public Option<string[]> WarmStart { get; } = new("--warm-start") { Description = "An equation to seed the populations with (repeatable)", AllowMultipleArgumentsPerToken = false };
    public Option<int?> BatchRows { get; } = new("--batch-rows") { Description = "Select on a fixed strided subset of this many rows (0 = all; default 2000); the hall of fame is rescored on all rows" };
    public Option<bool> DropNonFinite { get; } = new("--drop-nonfinite") { Description = "Drop rows with NaN/Inf instead of failing" };
    public Option<string[]> RolloutOptimizee { get; } = new("--rollout-optimizee") { Description = "Funnel fitness: roll candidates that imitate well out on this optimizee (repeat for a second, longer stage)", AllowMultipleArgumentsPerToken = false };
    public Option<int[]> RolloutSteps { get; } = new("--rollout-steps") { Description = "Steps per rollout stage (one value per --rollout-optimizee; default 50)", AllowMultipleArgumentsPerToken = false };
    public Option<int?> RolloutSeeds { get; } = new("--rollout-seeds") { Description = "Seeds per rollout stage (default 3)" };
    public Option<double?> RolloutScale { get; } = new("--rollout-scale") { Description = "Rollouts apply scale · rule (default 0.01: the target is a teacher's raw output)" };
    public Option<double?> ImitationPass { get; } = new("--imitation-pass") { Description = "Only candidates with 1 − R² at most this get rollouts (default 0.7)" };

    /// <summary>The funnel options as given, with <see cref="RolloutOptions.None"/>'s defaults for those left out.</summary>
    public RolloutOptions Rollouts(ParseResult parse) => new(
        [.. parse.GetValue(RolloutOptimizee) ?? []], [.. parse.GetValue(RolloutSteps) ?? []],
        parse.GetValue(RolloutSeeds) ?? RolloutOptions.None.Seeds, parse.GetValue(RolloutScale) ?? RolloutOptions.None.Scale,
        parse.GetValue(ImitationPass) ?? RolloutOptions.None.ImitationPass);

    /// <summary>Every shared option, for a command's option list.</summary>
    public IEnumerable<Option> All() =>
        [Data, Target, Features, Grammar, Evaluations, TargetLoss, TargetR2, Seed, Islands, Population, WarmStart, BatchRows, DropNonFinite,
         RolloutOptimizee, RolloutSteps, RolloutSeeds, RolloutScale, ImitationPass];
}
