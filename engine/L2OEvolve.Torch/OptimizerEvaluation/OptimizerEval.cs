using System.Globalization;
using L2OEvolve.Engine.Progress;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Plots;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>
/// A comparison of optimizers on one optimizee over several seeds, as the <c>eval</c> verb (and <c>teacher eval</c>)
/// asks for it; the defaults are the verb's.
/// </summary>
/// <param name="Optimizee">Optimizee family spec (<c>mlp-fashion</c>, <c>rosenbrock:dim=10</c>, ...).</param>
/// <param name="Optimizers">Optimizer specs resolved by <see cref="OptimizerRegistry.Standard"/>.</param>
/// <param name="Steps">Training steps per run.</param>
/// <param name="Seeds">Evaluation seeds (problem instances).</param>
/// <param name="SeedBase">First evaluation seed.</param>
/// <param name="TuneLr">Tune each tunable optimizer's learning rate first, on separate tuning seeds.</param>
/// <param name="TuneSeeds">Tuning seeds (1000000, 1000001, ...).</param>
/// <param name="TuneSteps">Steps per tuning run (null: <paramref name="Steps"/>).</param>
/// <param name="LrMin">Smallest rate of a fixed tuning grid (with <paramref name="LrMax"/>; null: a grid around each optimizer's own rate).</param>
/// <param name="LrMax">Largest rate of a fixed tuning grid.</param>
/// <param name="LrPoints">Grid points, log-spaced.</param>
/// <param name="LrDecades">Span of the default grid in decades.</param>
/// <param name="Device">cpu, cuda or cuda:N.</param>
/// <param name="Threads">libtorch intra-op threads (0: libtorch's default).</param>
/// <param name="Workers">Training runs at once (results do not depend on it).</param>
/// <param name="DataDir">MNIST-format IDX folder (null: Debian's Fashion-MNIST).</param>
/// <param name="Batch">Minibatch size.</param>
/// <param name="Init">Parameter initialisation (null: N(0, 0.01²)).</param>
/// <param name="Out">Output folder: losses.csv, runs.csv, summary.md, loss.png.</param>
public sealed record EvalRequest(
    string Optimizee, IReadOnlyList<string> Optimizers, string Out, int Steps = 1000, int Seeds = 10, long SeedBase = 0, bool TuneLr = false,
    int TuneSeeds = 3, int? TuneSteps = null, double? LrMin = null, double? LrMax = null, int LrPoints = 17, double LrDecades = 2.0,
    string Device = "cpu", int Threads = 1, int Workers = 1, string? DataDir = null, int Batch = 128, string? Init = null);

/// <summary>
/// Runs an <see cref="EvalRequest"/>: each optimizer (lr-tuned first when asked) trains the optimizee on every seed;
/// the losses, a summary and a loss plot are written into the output folder.
/// </summary>
public static class OptimizerEval
{
    /// <summary>
    /// Runs the comparison and returns what the verb prints: the summary table, then the files written. Progress goes
    /// to <paramref name="log"/> through <paramref name="display"/> (default: plain lines every 10 s). Bad settings
    /// throw <see cref="ArgumentException"/> naming the option.
    /// </summary>
    public static string Run(EvalRequest a, TextWriter log, CancellationToken ct, Func<TextWriter, IProgressDisplay>? display = null)
    {
        var stderr = log;
        if (a.Seeds < 1) throw new ArgumentException($"--seeds must be at least 1, got {a.Seeds}");
        if (a.Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {a.Batch}");
        if (a.Threads < 0) throw new ArgumentException($"--threads must be 0 (libtorch's default) or more, got {a.Threads}");
        if (a.TuneLr && a.TuneSeeds < 1) throw new ArgumentException($"--tune-seeds must be at least 1, got {a.TuneSeeds}");
        if (a.Workers < 1) throw new ArgumentException($"--workers must be at least 1, got {a.Workers}");
        if ((a.LrMin is null) != (a.LrMax is null)) throw new ArgumentException("--lr-min and --lr-max go together (or neither, for a grid around each optimizer's own rate)");
        if (!(a.LrDecades > 0)) throw new ArgumentException($"--lr-decades must be positive, got {a.LrDecades}");
        // Before any training: an unwritable --out should not surface only after an hour of runs.
        Directory.CreateDirectory(a.Out);
        TorchSetup.SetThreads(a.Threads);
        var device = TorchSetup.ParseDevice(a.Device);
        var options = new OptimizeeOptions(DataDir: a.DataDir, BatchSize: a.Batch, Init: a.Init is null ? null : ParameterInit.Parse(a.Init));
        var family = OptimizeeRegistry.Family(a.Optimizee, options);
        var evalSeeds = EvalSettings.Range(a.Seeds, a.SeedBase);
        var progress = new ProgressLine(stderr, display ?? (w => new PlainProgressDisplay(w, TimeSpan.FromSeconds(10))));
        var notes = new List<string>();

        var entries = new List<OptimizerEntry>();
        foreach (var spec in a.Optimizers)
        {
            var label = Unique(spec, entries);
            if (a.TuneLr && LrTuner.IsTunable(spec, OptimizerRegistry.Standard, device))
            {
                var tuneSeeds = Enumerable.Range(0, a.TuneSeeds).Select(i => LrTuningSettings.DefaultSeeds[0] + i).ToArray();
                var settings = a.LrMin is { } lo && a.LrMax is { } hi
                    ? new LrTuningSettings(lo, hi, a.LrPoints, a.TuneSteps ?? a.Steps, tuneSeeds, Workers: a.Workers)
                    : LrTuningSettings.Around(LrTuner.DefaultLr(spec), a.LrDecades, a.LrPoints, a.TuneSteps ?? a.Steps, tuneSeeds, workers: a.Workers);
                var tuned = LrTuner.Tune(family, device, OptimizerRegistry.Standard, spec, settings, evalSeeds, progress, ct);
                progress.Done();
                string lr = tuned.BestLr.ToString("G3", CultureInfo.InvariantCulture);
                stderr.WriteLine($"eval: {spec}: tuned lr = {lr}  (" +
                    string.Join(", ", tuned.Scores.Select(s => $"{s.Lr.ToString("G3", CultureInfo.InvariantCulture)}→{s.Score.ToString("G4", CultureInfo.InvariantCulture)}")) + ")");
                notes.Add($"{label}: lr tuned on seeds {string.Join(", ", settings.Seeds)} ({settings.Steps} steps, {tuned.Scores.Count} rates " +
                    $"{tuned.Scores[0].Lr.ToString("G3", CultureInfo.InvariantCulture)}..{tuned.Scores[^1].Lr.ToString("G3", CultureInfo.InvariantCulture)}): " +
                    string.Join(", ", tuned.Scores.Select(s => $"{s.Lr.ToString("G3", CultureInfo.InvariantCulture)} → {s.Score.ToString("G4", CultureInfo.InvariantCulture)}")) + $"; chosen {lr}" +
                    (tuned.Choices[^1].AtEdge ? " (at the edge of the grid: the best rate may lie beyond; widen it with --lr-min/--lr-max)." : "."));
                entries.Add(new OptimizerEntry(label, OptimizerRegistry.Standard.Resolve(tuned.TunedSpec, device), $"lr-tuned: lr={lr}"));
            }
            else
            {
                if (a.TuneLr) notes.Add($"{label}: not tuned (it has no step size to tune: a teacher runs as trained).");
                entries.Add(new OptimizerEntry(label, OptimizerRegistry.Standard.Resolve(spec, device)));
            }
        }

        var runs = Harness.Run(family, device, entries, new EvalSettings(a.Steps, evalSeeds, Workers: a.Workers), progress, ct);
        progress.Done();
        var summaries = EvalSummary.Summarize(runs, entries);
        string dataNote = family is MlpFamily m ? $" on {m.Data.Source}" : family is SmallCnnFamily c ? $" on {c.Data.Source}" : "";
        string title = $"{a.Optimizee}{dataNote}: {a.Steps} steps × {a.Seeds} seeds (seeds {evalSeeds[0]}..{evalSeeds[^1]})";
        var md = EvalReportWriter.Write(a.Out, title, runs, summaries, notes);
        LossPlot.Save(Path.Combine(a.Out, "loss.png"), $"{a.Optimizee}: training loss, mean ± std over {a.Seeds} seeds", EvalSummary.Curves(runs));
        return md + Environment.NewLine + $"wrote {Path.Combine(a.Out, "losses.csv")}, runs.csv, summary.md, loss.png";
    }

    // The label of an optimizer listed twice gets a suffix, so both columns of the report stay apart.
    private static string Unique(string spec, List<OptimizerEntry> existing)
    {
        string label = spec;
        for (int k = 2; existing.Any(e => e.Label == label); k++) label = $"{spec} #{k}";
        return label;
    }

    /// <summary>
    /// A progress line with an ETA: live on a terminal, a line every 10 s (and at the end of each run) otherwise; one
    /// display per phase, so the lines printed between phases stand on their own.
    /// </summary>
    private sealed class ProgressLine(TextWriter stderr, Func<TextWriter, IProgressDisplay> start) : IProgress<EvalProgress>
    {
        private readonly Lock _lock = new();
        private IProgressDisplay? _display;

        // Parallel workers (--workers) report from their own threads.
        public void Report(EvalProgress p)
        {
            lock (_lock) Show(p);
        }

        private void Show(EvalProgress p)
        {
            _display ??= start(stderr);
            string eta = p.Eta is { } e ? $"ETA {Fmt(e)}" : "ETA ?";
            string line = $"{p.Phase}: {p.Optimizer} seed {p.Seed}  {p.StepsDone}/{p.StepsTotal} steps ({100.0 * p.StepsDone / p.StepsTotal:F0}%)  elapsed {Fmt(p.Elapsed)}  {eta}";
            _display.Report(p.StepsDone, p.StepsTotal, line, p.StepsDone < p.StepsTotal ? PlainLine.Throttled : PlainLine.Always);
        }

        /// <summary>Ends the phase's display.</summary>
        public void Done()
        {
            lock (_lock)
            {
                _display?.Dispose();
                _display = null;
            }
        }

        private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");
    }
}
