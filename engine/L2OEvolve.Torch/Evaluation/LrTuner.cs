using System.Globalization;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Evaluation;

/// <summary>The grid and budget of a learning-rate search. Tuning seeds must not overlap the evaluation seeds.</summary>
/// <param name="MinLr">Smallest rate tried.</param>
/// <param name="MaxLr">Largest rate tried.</param>
/// <param name="Points">Rates, spaced evenly in log10 between the two (9 over 1e-4..1 gives half-decades).</param>
/// <param name="Steps">Training steps per tuning run.</param>
/// <param name="Seeds">Optimizee seeds used for tuning.</param>
public sealed record LrTuningSettings(double MinLr, double MaxLr, int Points, int Steps, IReadOnlyList<long> Seeds)
{
    /// <summary>The default tuning seeds: far from the evaluation seeds 0, 1, 2, ...</summary>
    public static IReadOnlyList<long> DefaultSeeds { get; } = [1_000_000, 1_000_001, 1_000_002];

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

/// <summary>The outcome of tuning one optimizer: the chosen rate, the spec that uses it, and every grid point's score.</summary>
public sealed record LrTuningResult(string Spec, double BestLr, string TunedSpec, IReadOnlyList<(double Lr, double Score)> Scores);

/// <summary>
/// "lr-tuned SGD / momentum / Adam": a log-spaced grid search on the optimizee's training objective, with seeds of
/// its own. Score of a rate = mean over tuning seeds of the mean training loss over the last 10% of steps (+∞ when
/// any run diverges); the lowest score wins. Works for any spec whose resolver accepts an <c>lr=</c> setting.
/// </summary>
public static class LrTuner
{
    /// <summary>The spec with its learning rate set to <paramref name="lr"/> (case of a file-path name kept).</summary>
    public static string WithLr(string spec, double lr) =>
        NamedSpec.Parse(spec).With("lr", lr.ToString("G4", CultureInfo.InvariantCulture)).ToString();

    /// <summary>True when <paramref name="spec"/> resolves with an <c>lr=</c> setting, i.e. it can be tuned.</summary>
    public static bool IsTunable(string spec, OptimizerRegistry registry, Device device)
    {
        try { return registry.TryResolve(WithLr(spec, 1e-3), device) is not null; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Tunes <paramref name="spec"/>'s learning rate on <paramref name="family"/>.</summary>
    public static LrTuningResult Tune(
        IOptimizeeFamily family, Device device, OptimizerRegistry registry, string spec, LrTuningSettings settings,
        IReadOnlyCollection<long> evaluationSeeds, IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        var overlap = settings.Seeds.Intersect(evaluationSeeds).ToArray();
        if (overlap.Length > 0)
            throw new ArgumentException($"lr tuning seeds overlap the evaluation seeds ({string.Join(", ", overlap)}): tuning must not see the test problems");
        var grid = settings.Grid();
        var entries = grid.Select(lr => new OptimizerEntry(WithLr(spec, lr), registry.Resolve(WithLr(spec, lr), device))).ToArray();
        var runs = Harness.Run(family, device, entries, new EvalSettings(settings.Steps, settings.Seeds), progress, ct, phase: $"tune {spec}");
        int tail = Math.Max(1, settings.Steps / 10);
        var scores = grid.Select((lr, i) =>
        {
            var mine = runs.Where(r => r.Optimizer == entries[i].Label).ToArray();
            double score = mine.Any(r => r.Diverged)
                ? double.PositiveInfinity
                : mine.Average(r => r.TrainLoss.Skip(settings.Steps - tail).Average(x => (double)x));
            return (lr, score);
        }).ToArray();
        // Ties (including every rate diverging) go to the smaller rate, the safer choice.
        var best = scores.OrderBy(s => double.IsNaN(s.score) ? double.PositiveInfinity : s.score).ThenBy(s => s.lr).First();
        return new LrTuningResult(spec, best.lr, WithLr(spec, best.lr), scores);
    }
}
