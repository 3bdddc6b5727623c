using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>What an optimizer in a comparison is: the learned teacher, a symbolic rule, or a hand-designed baseline.</summary>
public enum ContenderKind
{
    /// <summary>The LSTM teacher.</summary>
    Teacher,
    /// <summary>A symbolic rule (found by the search, or tuned from one).</summary>
    Rule,
    /// <summary>A hand-designed optimizer (SGD, Adam, Lion, ...).</summary>
    Baseline,
}

/// <summary>One optimizer of a comparison.</summary>
/// <param name="Name">Its name in tables and results (e.g. <c>adam</c>, <c>distilled-1</c>).</param>
/// <param name="Kind">Teacher, rule or baseline.</param>
/// <param name="Spec">The optimizer spec the registry resolves (a built-in name, a rule file, <c>teacher:DIR</c>).</param>
/// <param name="TuneLr">Tune its lr on the tuning seeds, per horizon (every rule and baseline; the teacher runs as trained).</param>
public sealed record Contender(string Name, ContenderKind Kind, string Spec, bool TuneLr);

/// <summary>The protocol of a fair comparison.</summary>
/// <param name="Horizons">Training lengths compared (e.g. 1×, 2×, 5× the search's horizon), ascending.</param>
/// <param name="Seeds">Evaluation seeds (held out: never used by the search, the tuning or lr tuning).</param>
/// <param name="TuneSeeds">lr-tuning seeds, disjoint from <paramref name="Seeds"/>.</param>
/// <param name="LrPoints">Points of every lr grid (log-spaced).</param>
/// <param name="LrDecades">Span of the initial grid in decades, centred on the optimizer's default rate.</param>
/// <param name="Workers">Runs trained at once.</param>
public sealed record ComparisonSettings(IReadOnlyList<int> Horizons, IReadOnlyList<long> Seeds, IReadOnlyList<long> TuneSeeds,
    int LrPoints = 17, double LrDecades = 2.0, int Workers = 1)
{
    /// <summary>Fails on an empty or unordered horizon list, no seeds, or tuning seeds that overlap the evaluation seeds.</summary>
    public void Validate()
    {
        if (Horizons.Count == 0 || Horizons.Any(h => h < 1)) throw new ArgumentException("a comparison needs at least one horizon of 1 step or more");
        if (Seeds.Count == 0) throw new ArgumentException("a comparison needs at least one evaluation seed");
        if (TuneSeeds.Count == 0) throw new ArgumentException("a comparison needs at least one lr-tuning seed");
        var overlap = TuneSeeds.Intersect(Seeds).ToArray();
        if (overlap.Length > 0) throw new ArgumentException($"lr-tuning seeds overlap the evaluation seeds ({string.Join(", ", overlap)})");
        if (LrPoints < 3) throw new ArgumentException($"an lr grid needs at least 3 points, got {LrPoints}");
    }
}

/// <summary>One optimizer at one horizon: the rate it ran with and one run per evaluation seed (seed order).</summary>
/// <param name="Contender">The optimizer.</param>
/// <param name="Lr">The lr it ran with (null: not tuned, run as specified).</param>
/// <param name="Tuning">The lr choice at this horizon (null when not tuned).</param>
/// <param name="Runs">One run per evaluation seed, cut at this horizon.</param>
public sealed record ContenderResult(Contender Contender, double? Lr, LrChoice? Tuning, IReadOnlyList<RunResult> Runs)
{
    /// <summary>Final training loss per seed (mean of the last steps; NaN where the run diverged).</summary>
    public double[] FinalTrainLoss => [.. Runs.Select(r => r.Diverged ? double.NaN : EvalSummary.FinalLoss(r.TrainLoss))];

    /// <summary>Held-out loss per seed (NaN where the run diverged).</summary>
    public double[] EvalLoss => [.. Runs.Select(r => r.Diverged ? double.NaN : r.Evaluation.Loss)];

    /// <summary>Held-out accuracy per seed (NaN where the run diverged or the optimizee has none).</summary>
    public double[] EvalAccuracy => [.. Runs.Select(r => r.Diverged ? double.NaN : r.Evaluation.Accuracy)];
}

/// <summary>Every optimizer at one horizon.</summary>
public sealed record HorizonResult(int Steps, IReadOnlyList<ContenderResult> Results)
{
    /// <summary>The result of the optimizer named <paramref name="name"/>, or null.</summary>
    public ContenderResult? Find(string name) => Results.FirstOrDefault(r => r.Contender.Name == name);
}

/// <summary>A whole comparison on one optimizee.</summary>
/// <param name="Optimizee">The optimizee spec.</param>
/// <param name="SeenBySearch">True for the search's own optimizee (held-out seeds), false for one the search and tuning never saw.</param>
/// <param name="Horizons">One result per horizon, ascending.</param>
public sealed record OptimizeeComparison(string Optimizee, bool SeenBySearch, IReadOnlyList<HorizonResult> Horizons);

/// <summary>
/// The fair comparison the project's answer rests on: every rule and baseline gets the same lr tuning (a fine log
/// grid centred on its default rate, grown until the best rate is interior, on seeds disjoint from the evaluation
/// seeds, chosen per horizon), then all run on the same held-out seeds.
/// </summary>
/// <remarks>
/// <code>
/// for each contender c that tunes: choice(c, h) ← LrTuner over tuning seeds, one set of runs to the longest horizon
/// spec(c, h) ← c's spec with lr = choice(c, h)           (c's own spec when it does not tune)
/// for each distinct spec s: run it once on every evaluation seed for the longest horizon that uses it,
///     evaluating on the held-out half at each shorter horizon that uses it; read each horizon off that run
/// </code>
/// Reading shorter horizons off a longer run is exact: none of these optimizers has a schedule that depends on the
/// run's length, and every step's minibatch depends on (seed, step) only.
/// </remarks>
public static class Comparison
{
    /// <summary>Compares <paramref name="contenders"/> on <paramref name="family"/> under <paramref name="settings"/>.</summary>
    public static OptimizeeComparison Run(
        string optimizee, bool seenBySearch, IOptimizeeFamily family, Device device, OptimizerRegistry registry,
        IReadOnlyList<Contender> contenders, ComparisonSettings settings, TextWriter? log = null,
        IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        settings.Validate();
        var horizons = settings.Horizons.Distinct().Order().ToArray();
        int longest = horizons[^1];
        var choices = new Dictionary<string, LrTuningResult>();
        foreach (var c in contenders.Where(c => c.TuneLr))
        {
            var lrs = LrTuningSettings.Around(LrTuner.DefaultLr(c.Spec), settings.LrDecades, settings.LrPoints, longest, settings.TuneSeeds,
                horizons, settings.Workers);
            var result = LrTuner.Tune(family, device, registry, c.Spec, lrs, settings.Seeds, progress, ct);
            choices[c.Name] = result;
            log?.WriteLine($"compare: {optimizee}: {c.Name}: lr " + string.Join(", ", result.Choices.Select(ch =>
                $"{ch.BestLr:G3} at {ch.Steps} steps{(ch.AtEdge ? " (edge of the grid)" : "")}")) + $" ({result.Scores.Count} rates tried)");
        }

        // (contender, horizon) → the spec it runs with; runs are shared by every horizon that uses the same spec.
        string SpecAt(Contender c, int h) => choices.TryGetValue(c.Name, out var t) ? LrTuner.WithLr(c.Spec, t.At(h).BestLr) : c.Spec;
        var needs = new Dictionary<string, SortedSet<int>>();
        foreach (var c in contenders)
            foreach (var h in horizons)
                (needs.TryGetValue(SpecAt(c, h), out var set) ? set : needs[SpecAt(c, h)] = []).Add(h);

        var runsBySpec = new Dictionary<string, IReadOnlyList<RunResult>>();
        foreach (var group in needs.GroupBy(kv => kv.Value.Max))
        {
            var specs = group.Select(kv => kv.Key).ToArray();
            var evaluateAt = group.SelectMany(kv => kv.Value).Where(h => h < group.Key).Distinct().Order().ToArray();
            var entries = specs.Select(s => new OptimizerEntry(s, registry.Resolve(s, device))).ToArray();
            var runs = Harness.Run(family, device, entries, new EvalSettings(group.Key, settings.Seeds, evaluateAt, settings.Workers), progress, ct, phase: $"compare {optimizee}");
            foreach (var s in specs) runsBySpec[s] = [.. runs.Where(r => r.Optimizer == s)];
        }

        var results = horizons.Select(h => new HorizonResult(h, [.. contenders.Select(c =>
        {
            var spec = SpecAt(c, h);
            var runs = runsBySpec[spec].Select(r => r.Prefix(h) with { Optimizer = c.Name }).ToArray();
            var choice = choices.TryGetValue(c.Name, out var t) ? t.At(h) : null;
            return new ContenderResult(c, choice?.BestLr, choice, runs);
        })])).ToArray();
        return new OptimizeeComparison(optimizee, seenBySearch, results);
    }
}
