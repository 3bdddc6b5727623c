using System.Globalization;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>The grid and budget of a learning-rate search. Tuning seeds must not overlap the evaluation seeds.</summary>
/// <param name="MinLr">Smallest rate of the initial grid.</param>
/// <param name="MaxLr">Largest rate of the initial grid.</param>
/// <param name="Points">Rates, spaced evenly in log10 between the two (17 over two decades gives 8 per decade).</param>
/// <param name="Steps">Training steps per tuning run: the longest horizon tuned for.</param>
/// <param name="Seeds">Optimizee seeds used for tuning.</param>
/// <param name="Horizons">Horizons (≤ <paramref name="Steps"/>) to choose a rate for, each from the first steps of the
/// same runs; null: <paramref name="Steps"/> alone.</param>
/// <param name="MaxExtensions">Times the grid may grow past an edge that holds a horizon's best rate, by half its
/// span each time, so that the chosen rate ends up interior.</param>
/// <param name="Workers">Runs trained at once (see <see cref="EvalSettings.Workers"/>).</param>
public sealed record LrTuningSettings(double MinLr, double MaxLr, int Points, int Steps, IReadOnlyList<long> Seeds,
    IReadOnlyList<int>? Horizons = null, int MaxExtensions = 0, int Workers = 1)
{
    /// <summary>The default tuning seeds: far from the evaluation seeds 0, 1, 2, ...</summary>
    public static IReadOnlyList<long> DefaultSeeds { get; } = [1_000_000, 1_000_001, 1_000_002];

    /// <summary>
    /// A grid of <paramref name="points"/> rates spanning <paramref name="decades"/> decades centred (in log10) on
    /// <paramref name="center"/>, allowed to grow past its edges up to 3 times.
    /// </summary>
    public static LrTuningSettings Around(double center, double decades, int points, int steps, IReadOnlyList<long> seeds,
        IReadOnlyList<int>? horizons = null, int workers = 1)
    {
        if (!(center > 0) || !double.IsFinite(center)) throw new ArgumentException($"lr grid: the centre must be a positive number, got {center}");
        if (!(decades > 0)) throw new ArgumentException($"lr grid: the span must be positive, got {decades} decades");
        double half = Math.Pow(10, decades / 2);
        return new LrTuningSettings(center / half, center * half, points, steps, seeds, horizons, MaxExtensions: 3, workers);
    }

    /// <summary>The horizons tuned for, ascending.</summary>
    public IReadOnlyList<int> EffectiveHorizons => Horizons is { Count: > 0 } h ? [.. h.Distinct().Order()] : [Steps];

    /// <summary>The learning rates of the grid, ascending.</summary>
    public IReadOnlyList<double> Grid()
    {
        if (!(MinLr > 0) || !(MaxLr >= MinLr)) throw new ArgumentException($"lr grid: need 0 < min ≤ max, got {MinLr}..{MaxLr}");
        if (Points < 1) throw new ArgumentException($"lr grid: need at least 1 point, got {Points}");
        if (Points == 1) return [MinLr];
        double a = Math.Log10(MinLr), b = Math.Log10(MaxLr);
        return Enumerable.Range(0, Points).Select(i => Math.Pow(10, a + (b - a) * i / (Points - 1))).ToArray();
    }
}

/// <summary>The rate chosen for one horizon, with every grid point's score there.</summary>
/// <param name="Steps">The horizon.</param>
/// <param name="BestLr">The rate with the lowest score.</param>
/// <param name="AtEdge">True when the best rate is still an end of the (grown) grid: the optimum may lie beyond it.</param>
/// <param name="Scores">(rate, score) for every rate tried, ascending by rate; +∞ = diverged.</param>
public sealed record LrChoice(int Steps, double BestLr, bool AtEdge, IReadOnlyList<(double Lr, double Score)> Scores);

/// <summary>The outcome of tuning one optimizer: the chosen rate, the spec that uses it, and every grid point's score.</summary>
/// <param name="Spec">The spec tuned.</param>
/// <param name="BestLr">The rate chosen at the longest horizon (<see cref="LrTuningSettings.Steps"/>).</param>
/// <param name="TunedSpec"><paramref name="Spec"/> with that rate.</param>
/// <param name="Scores">Scores at the longest horizon.</param>
/// <param name="Choices">One choice per horizon, ascending.</param>
public sealed record LrTuningResult(string Spec, double BestLr, string TunedSpec, IReadOnlyList<(double Lr, double Score)> Scores, IReadOnlyList<LrChoice> Choices)
{
    /// <summary>The choice for horizon <paramref name="steps"/>.</summary>
    public LrChoice At(int steps) => Choices.FirstOrDefault(c => c.Steps == steps)
        ?? throw new ArgumentException($"no learning rate was tuned for {steps} steps (tuned: {string.Join(", ", Choices.Select(c => c.Steps))})");
}

/// <summary>
/// "lr-tuned SGD / Adam / rule X": a log-spaced grid search on the optimizee's training objective, with seeds of its
/// own. Any spec whose resolver accepts an <c>lr=</c> setting can be tuned: baselines, rule files (where lr multiplies
/// the update), shipped optimizers.
/// </summary>
/// <remarks>
/// <code>
/// runs ← every grid rate on every tuning seed, T = the longest horizon steps (one run answers every horizon h ≤ T)
/// score(lr, h) = mean over seeds of the mean training loss over the last 10% of the first h steps (+∞ if it diverged by h)
/// repeat up to MaxExtensions times: for an end of the grid that holds some horizon's best, add half the span beyond it
/// best(h) = argmin score(·, h), ties to the smaller rate (the safer one)
/// </code>
/// </remarks>
public static class LrTuner
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The spec with its learning rate set to <paramref name="lr"/> (case of a file-path name kept).</summary>
    public static string WithLr(string spec, double lr) =>
        NamedSpec.Parse(spec).With("lr", lr.ToString("G4", Inv)).ToString();

    /// <summary>True when <paramref name="spec"/> resolves with an <c>lr=</c> setting, i.e. it can be tuned.</summary>
    public static bool IsTunable(string spec, OptimizerRegistry registry, Device device)
    {
        try { return registry.TryResolve(WithLr(spec, 1e-3), device) is not null; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>
    /// The rate a spec runs with when none is given: its own <c>lr=</c> setting, a built-in's default, a rule file's
    /// <c>lr</c> (shipped names included), else 1 (a rule as written). The natural centre of a tuning grid.
    /// </summary>
    public static double DefaultLr(string spec)
    {
        var parsed = NamedSpec.Parse(spec);
        if (parsed.Settings.FirstOrDefault(kv => kv.Key == "lr") is { Key: not null } set
            && double.TryParse(set.Value, NumberStyles.Float, Inv, out var given) && given > 0) return given;
        if (BuiltInOptimizers.Catalogue.FirstOrDefault(c => c.Name == parsed.Key) is { Name: not null } builtIn) return builtIn.Defaults["lr"];
        foreach (var path in new[] { parsed.Name, Path.Combine(RuleFile.ShippedDirectory, parsed.Key + RuleFile.Extension) })
            if (path.EndsWith(RuleFile.Extension, StringComparison.OrdinalIgnoreCase) && File.Exists(path)) return RuleFile.Load(path).Lr;
        return 1.0;
    }

    /// <summary>Tunes <paramref name="spec"/>'s learning rate on <paramref name="family"/> for every horizon of <paramref name="settings"/>.</summary>
    public static LrTuningResult Tune(
        IOptimizeeFamily family, Device device, OptimizerRegistry registry, string spec, LrTuningSettings settings,
        IReadOnlyCollection<long> evaluationSeeds, IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        var overlap = settings.Seeds.Intersect(evaluationSeeds).ToArray();
        if (overlap.Length > 0)
            throw new ArgumentException($"lr tuning seeds overlap the evaluation seeds ({string.Join(", ", overlap)}): tuning must not see the test problems");
        var horizons = settings.EffectiveHorizons;
        if (horizons[0] < 1 || horizons[^1] > settings.Steps)
            throw new ArgumentException($"lr tuning horizons must lie in 1..{settings.Steps}, got {string.Join(", ", horizons)}");
        var grid = settings.Grid();
        // log10 spacing of the grid: extensions keep it, so the grid stays evenly spaced as it grows.
        double spacing = grid.Count > 1 ? Math.Log10(grid[1] / grid[0]) : 0.5;
        int grow = Math.Max(1, (settings.Points - 1) / 2);

        var tails = new SortedDictionary<double, double[]>(); // lr → score per horizon
        void Score(IReadOnlyList<double> rates)
        {
            var entries = rates.Select(lr => new OptimizerEntry(WithLr(spec, lr), registry.Resolve(WithLr(spec, lr), device))).ToArray();
            var runs = Harness.Run(family, device, entries, new EvalSettings(settings.Steps, settings.Seeds, Workers: settings.Workers, HeldOut: false), progress, ct, phase: $"tune {spec}");
            for (int i = 0; i < rates.Count; i++)
            {
                var mine = runs.Where(r => r.Optimizer == entries[i].Label).ToArray();
                tails[rates[i]] = [.. horizons.Select(h => ScoreAt(mine, h))];
            }
        }

        Score(grid);
        for (int round = 0; round < settings.MaxExtensions; round++)
        {
            var rates = tails.Keys.ToArray();
            var bestIndex = horizons.Select((_, hi) => BestIndex(rates, hi, tails)).ToArray();
            var added = new List<double>();
            if (bestIndex.Contains(0) && double.IsFinite(tails[rates[0]].Min()))
                added.AddRange(Enumerable.Range(1, grow).Select(k => rates[0] * Math.Pow(10, -k * spacing)));
            if (bestIndex.Contains(rates.Length - 1) && rates.Length > 1)
                added.AddRange(Enumerable.Range(1, grow).Select(k => rates[^1] * Math.Pow(10, k * spacing)));
            if (added.Count == 0) break;
            Score(added);
        }

        var all = tails.Keys.ToArray();
        var choices = horizons.Select((h, hi) =>
        {
            int best = BestIndex(all, hi, tails);
            return new LrChoice(h, all[best], all.Length > 1 && (best == 0 || best == all.Length - 1),
                [.. all.Select(lr => (lr, tails[lr][hi]))]);
        }).ToArray();
        var last = choices[^1];
        return new LrTuningResult(spec, last.BestLr, WithLr(spec, last.BestLr), last.Scores, choices);
    }

    // Mean over seeds of the mean training loss over the last 10% of the first h steps; +∞ when any run diverged by h.
    private static double ScoreAt(IReadOnlyList<RunResult> runs, int h)
    {
        int tail = Math.Max(1, h / 10);
        if (runs.Any(r => r.DivergedAtStep is { } d && d <= h)) return double.PositiveInfinity;
        double score = runs.Average(r => r.TrainLoss.Skip(h - tail).Take(tail).Average(x => (double)x));
        return double.IsNaN(score) ? double.PositiveInfinity : score;
    }

    // Ties (including every rate diverging) go to the smaller rate, the safer choice.
    private static int BestIndex(double[] rates, int horizon, SortedDictionary<double, double[]> tails)
    {
        int best = 0;
        for (int i = 1; i < rates.Length; i++)
            if (tails[rates[i]][horizon] < tails[rates[best]][horizon]) best = i;
        return best;
    }
}
