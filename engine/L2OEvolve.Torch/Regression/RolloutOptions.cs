using System.Collections.Immutable;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Funnel;

namespace L2OEvolve.Torch.Regression;

/// <summary>
/// The funnel-fitness options of a symbolic-regression run (<c>sr --rollout-*</c>, an sr job's <c>settings.rollout*</c>):
/// one place that reads and checks them and builds the <see cref="FunnelFitness"/>, so a job searches exactly as <c>sr</c> does.
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

    /// <summary>The steps of rollout stage <paramref name="stage"/>.</summary>
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
        SearchContext.Create(settings, grammar, Enabled ? Fitness(selecting) : (IFitness)selecting, selecting, Simplify.Apply, threads);

    /// <summary>
    /// The hall of fame as reported: without the funnel, simplified, pruned and rescored on every row
    /// (<see cref="HallOfFameReport.Rescore"/>); with it, as searched, since rescoring would rerun the rollouts.
    /// </summary>
    public HallOfFame Report(HallOfFame h, MseFitness full, Grammar grammar) => Enabled ? h : HallOfFameReport.Rescore(h, full, grammar);

    /// <summary>
    /// The names these options take among a job's <c>settings</c>, by field; lists (one value per stage) are separated
    /// by ';', since optimizee specs use ','.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SettingNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["optimizee"] = "rolloutOptimizee", ["steps"] = "rolloutSteps", ["seeds"] = "rolloutSeeds", ["scale"] = "rolloutScale", ["imitationPass"] = "imitationPass",
    };

    /// <summary>True when <paramref name="name"/> is one of <see cref="SettingNames"/>.</summary>
    public static bool IsSetting(string name) => SettingNames.Values.Contains(name);

    /// <summary>
    /// The options a job's <paramref name="settings"/> ask for (<see cref="None"/> without <c>rolloutOptimizee</c>); a
    /// value of the wrong form throws <see cref="FormatException"/> reading <c>settings.NAME: 'VALUE': expected ...</c>.
    /// </summary>
    public static RolloutOptions FromSettings(IReadOnlyDictionary<string, string> settings)
    {
        string? Get(string field) => settings.TryGetValue(SettingNames[field], out var v) ? v : null;
        static string[] List(string v) => v.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        T Parse<T>(string field, T fallback, Func<string, (bool, T)> parse, string expected)
        {
            if (Get(field) is not { } text) return fallback;
            var (ok, value) = parse(text);
            return ok ? value : throw new FormatException($"settings.{SettingNames[field]}: '{text}': expected {expected}");
        }
        var defaults = None;
        return new RolloutOptions(
            [.. Get("optimizee") is { } o ? List(o) : []],
            Parse<ImmutableArray<int>>("steps", [], t =>
            {
                var parts = List(t);
                var values = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : (int?)null).ToList();
                return (values.All(v => v is not null), [.. values.Select(v => v ?? 0)]);
            }, "integers separated by ';'"),
            Parse("seeds", defaults.Seeds, t => (int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i), i), "an integer"),
            Parse("scale", defaults.Scale, t => (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d), d), "a number"),
            Parse("imitationPass", defaults.ImitationPass, t => (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d), d), "a number"));
    }

    /// <summary>
    /// These options as job settings (the inverse of <see cref="FromSettings"/>, with every value written out): what a
    /// job's fingerprint records, since the funnel's settings shape every score.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> AsSettings() =>
    [
        new(SettingNames["optimizee"], string.Join(";", Optimizees)),
        new(SettingNames["steps"], string.Join(";", Optimizees.Select((_, i) => StepsOf(i).ToString(CultureInfo.InvariantCulture)))),
        new(SettingNames["seeds"], Seeds.ToString(CultureInfo.InvariantCulture)),
        new(SettingNames["scale"], Scale.ToString("R", CultureInfo.InvariantCulture)),
        new(SettingNames["imitationPass"], ImitationPass.ToString("R", CultureInfo.InvariantCulture)),
    ];
}
