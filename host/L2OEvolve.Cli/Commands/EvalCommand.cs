using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Progress;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Evaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Plots;
using TorchSharp;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>eval</c>: trains an optimizee with several optimizers over several seeds and writes losses.csv, runs.csv,
/// summary.md and loss.png into <c>--out</c>, printing the summary. With <c>--tune-lr</c> each tunable optimizer's
/// learning rate is first chosen on separate tuning seeds.
/// </summary>
public static class EvalCommand
{
    private static OptimizerRegistry Registry => OptimizerRegistry.Standard;

    private sealed record Args(
        string Optimizee, string[] Optimizers, int Steps, int Seeds, long SeedBase, bool TuneLr, int TuneSeeds, int? TuneSteps,
        double? LrMin, double? LrMax, int LrPoints, double LrDecades, string Device, int Threads, int Workers, string? DataDir, int Batch, string? Init, string Out);

    public static Command Create()
    {
        var optimizee = new Option<string>("--optimizee") { Description = "Optimizee family: " + string.Join(", ", OptimizeeRegistry.Names) + " (settings after ':', e.g. rosenbrock:dim=10).", Required = true };
        var optimizer = new Option<string[]>("--optimizer") { Description = "Optimizer to compare (repeatable): sgd, momentum, nesterov, adam, torch-adam with settings like adam:lr=0.01, or a rule file.", Required = true, AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.OneOrMore };
        var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => 1000 };
        var seeds = new Option<int>("--seeds") { Description = "Number of evaluation seeds (problem instances).", DefaultValueFactory = _ => 10 };
        var seedBase = new Option<long>("--seed-base") { Description = "First evaluation seed.", DefaultValueFactory = _ => 0 };
        var tuneLr = new Option<bool>("--tune-lr") { Description = "Tune each optimizer's learning rate on a log grid first (on separate tuning seeds)." };
        var tuneSeeds = new Option<int>("--tune-seeds") { Description = "Tuning seeds (1000000, 1000001, ...).", DefaultValueFactory = _ => 3 };
        var tuneSteps = new Option<int?>("--tune-steps") { Description = "Steps per tuning run (default: --steps)." };
        var lrMin = new Option<double?>("--lr-min") { Description = "Smallest learning rate of the tuning grid (with --lr-max; default: --lr-decades around each optimizer's own rate, grown past an edge that holds the best)." };
        var lrMax = new Option<double?>("--lr-max") { Description = "Largest learning rate of the tuning grid (with --lr-min)." };
        var lrPoints = new Option<int>("--lr-points") { Description = "Grid points, log-spaced.", DefaultValueFactory = _ => 17 };
        var lrDecades = new Option<double>("--lr-decades") { Description = "Span of the default grid in decades, centred on each optimizer's own rate (a rule's is its lr, 1 as written).", DefaultValueFactory = _ => 2.0 };
        var workers = new Option<int>("--workers") { Description = "Training runs at once, each on its own thread (results do not depend on it).", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0: libtorch's default).", DefaultValueFactory = _ => 1 };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Folder with MNIST-format IDX files (default: {Torch.Data.MnistData.DebianFashionMnistDir})." };
        var batch = new Option<int>("--batch") { Description = "Minibatch size.", DefaultValueFactory = _ => 128 };
        var init = new Option<string?>("--init") { Description = "Parameter init: normal:STD (default normal:0.01), zeros, fan-in." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };

        var cmd = new Command("eval", "Compare optimizers on an optimizee over several seeds: CSV losses, a summary table and loss plots.");
        foreach (var o in new Option[] { optimizee, optimizer, steps, seeds, seedBase, tuneLr, tuneSeeds, tuneSteps, lrMin, lrMax, lrPoints, lrDecades, device, threads, workers, dataDir, batch, init, output })
            cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            var args = new Args(parse.GetValue(optimizee)!, parse.GetValue(optimizer)!, parse.GetValue(steps), parse.GetValue(seeds),
                parse.GetValue(seedBase), parse.GetValue(tuneLr), parse.GetValue(tuneSeeds), parse.GetValue(tuneSteps),
                parse.GetValue(lrMin), parse.GetValue(lrMax), parse.GetValue(lrPoints), parse.GetValue(lrDecades), parse.GetValue(device)!, parse.GetValue(threads), parse.GetValue(workers),
                parse.GetValue(dataDir), parse.GetValue(batch), parse.GetValue(init), parse.GetValue(output)!);
            return Task.FromResult(Run(args, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, ct));
        });
        return cmd;
    }

    private static int Run(Args a, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        try
        {
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
            var progress = new ProgressLine(stderr);
            var notes = new List<string>();

            var entries = new List<OptimizerEntry>();
            foreach (var spec in a.Optimizers)
            {
                var label = Unique(spec, entries);
                if (a.TuneLr && LrTuner.IsTunable(spec, Registry, device))
                {
                    var tuneSeeds = Enumerable.Range(0, a.TuneSeeds).Select(i => LrTuningSettings.DefaultSeeds[0] + i).ToArray();
                    var settings = a.LrMin is { } lo && a.LrMax is { } hi
                        ? new LrTuningSettings(lo, hi, a.LrPoints, a.TuneSteps ?? a.Steps, tuneSeeds, Workers: a.Workers)
                        : LrTuningSettings.Around(LrTuner.DefaultLr(spec), a.LrDecades, a.LrPoints, a.TuneSteps ?? a.Steps, tuneSeeds, workers: a.Workers);
                    var tuned = LrTuner.Tune(family, device, Registry, spec, settings, evalSeeds, progress, ct);
                    progress.Done();
                    string lr = tuned.BestLr.ToString("G3", CultureInfo.InvariantCulture);
                    stderr.WriteLine($"eval: {spec}: tuned lr = {lr}  (" +
                        string.Join(", ", tuned.Scores.Select(s => $"{s.Lr.ToString("G3", CultureInfo.InvariantCulture)}→{s.Score.ToString("G4", CultureInfo.InvariantCulture)}")) + ")");
                    notes.Add($"{label}: lr tuned on seeds {string.Join(", ", settings.Seeds)} ({settings.Steps} steps, {tuned.Scores.Count} rates " +
                        $"{tuned.Scores[0].Lr.ToString("G3", CultureInfo.InvariantCulture)}..{tuned.Scores[^1].Lr.ToString("G3", CultureInfo.InvariantCulture)}): " +
                        string.Join(", ", tuned.Scores.Select(s => $"{s.Lr.ToString("G3", CultureInfo.InvariantCulture)} → {s.Score.ToString("G4", CultureInfo.InvariantCulture)}")) + $"; chosen {lr}" +
                        (tuned.Choices[^1].AtEdge ? " (at the edge of the grid: the best rate may lie beyond; widen it with --lr-min/--lr-max)." : "."));
                    entries.Add(new OptimizerEntry(label, Registry.Resolve(tuned.TunedSpec, device), $"lr-tuned: lr={lr}"));
                }
                else
                {
                    if (a.TuneLr) notes.Add($"{label}: not tuned (it has no step size to tune: a teacher runs as trained).");
                    entries.Add(new OptimizerEntry(label, Registry.Resolve(spec, device)));
                }
            }

            var runs = Harness.Run(family, device, entries, new EvalSettings(a.Steps, evalSeeds, Workers: a.Workers), progress, ct);
            progress.Done();
            var summaries = EvalSummary.Summarize(runs, entries);
            string dataNote = family is MlpFamily m ? $" on {m.Data.Source}" : family is SmallCnnFamily c ? $" on {c.Data.Source}" : "";
            string title = $"{a.Optimizee}{dataNote}: {a.Steps} steps × {a.Seeds} seeds (seeds {evalSeeds[0]}..{evalSeeds[^1]})";
            var md = EvalReportWriter.Write(a.Out, title, runs, summaries, notes);
            LossPlot.Save(Path.Combine(a.Out, "loss.png"), $"{a.Optimizee}: training loss, mean ± std over {a.Seeds} seeds", EvalSummary.Curves(runs));
            stdout.WriteLine(md);
            stdout.WriteLine($"wrote {Path.Combine(a.Out, "losses.csv")}, runs.csv, summary.md, loss.png");
            return 0;
        }
        catch (Exception e) when (e is InputException or ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"eval: error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("eval: cancelled");
            return 130;
        }
    }

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
    private sealed class ProgressLine(TextWriter stderr) : IProgress<EvalProgress>
    {
        private readonly Lock _lock = new();
        private ProgressDisplay? _display;

        // Parallel workers (--workers) report from their own threads.
        public void Report(EvalProgress p)
        {
            lock (_lock) Show(p);
        }

        private void Show(EvalProgress p)
        {
            _display ??= ProgressDisplay.Start("eval", stderr, TimeSpan.FromSeconds(10));
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
