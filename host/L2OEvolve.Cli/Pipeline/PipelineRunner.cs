using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using L2OEvolve.Cli.Commands;
using L2OEvolve.Cli.Reports;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Evaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Pipeline;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Teachers;
using L2OEvolve.Torch.Tuning;
using ScottPlot;
using static TorchSharp.torch;

namespace L2OEvolve.Cli.Pipeline;

/// <summary>A rule the search kept, with its funnel scores.</summary>
internal sealed record KeptRule(string Name, Expr Distilled, RuleDefinition Update, int Complexity, double Combined, double ImitationR2, ImmutableArray<double> Rollouts);

/// <summary>What the search produced: the kept rules and the hall of fame (for the Pareto plot).</summary>
internal sealed record EvolveResult(IReadOnlyList<KeptRule> Kept, ImmutableArray<Individual> HallOfFame, int Generations, long Evaluations, long Rollouts, string DataDescription);

/// <summary>
/// The whole mission in one run (issue 6): the phases below, each writing into its own folder of the run directory,
/// then <c>report.md</c>.
/// <code>
/// teacher/  ← meta-train the LSTM teacher (resumes an interrupted run)
/// record/   ← roll it out, record lag rows (features → raw teacher output)
/// evolve/   ← evolve rules: imitation for all, rollouts for those that pass (FunnelFitness), warm-started from SGD/momentum/Adam
/// tune/     ← meta-tune the constants of the kept rules
/// eval/     ← teacher vs distilled vs tuned vs lr-tuned baselines, held-out seeds, and an optimizee never seen
/// report.md
/// </code>
/// </summary>
internal sealed class PipelineRunner(PipelineConfig config, string runDir, TextWriter log, CancellationToken ct)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly Device _device = CPU;
    private readonly OptimizeeOptions _options = new(DataDir: config.DataDir, BatchSize: config.Batch);
    private readonly List<(string Phase, double Seconds)> _timings = [];
    private readonly Stopwatch _total = Stopwatch.StartNew();

    /// <summary>Runs every phase and returns the report's path.</summary>
    public string Run()
    {
        Directory.CreateDirectory(runDir);
        File.WriteAllText(Path.Combine(runDir, "config.json"), config.ToJson());
        TorchSetup.SetThreads(config.Threads);
        var teacherDir = Phase("teacher", TrainTeacher);
        var rows = Phase("record", () => RecordData(teacherDir, Path.Combine(runDir, "record", "rows.npy")));
        var evolved = Phase("evolve", () => Evolve(rows, Path.Combine(runDir, "evolve")));
        var tuned = Phase("tune", () => TuneRules(evolved.Kept));
        var evals = Phase("eval", () => EvaluateAll(teacherDir, evolved.Kept, tuned));
        var report = Path.Combine(runDir, "report.md");
        File.WriteAllText(report, Report(teacherDir, evolved, tuned, evals));
        log.WriteLine($"run: wrote {report} ({Fmt(_total.Elapsed)} in all)");
        return report;
    }

    private T Phase<T>(string name, Func<T> body)
    {
        ct.ThrowIfCancellationRequested();
        log.WriteLine($"run: === {name} === (elapsed {Fmt(_total.Elapsed)})");
        var clock = Stopwatch.StartNew();
        var result = body();
        _timings.Add((name, clock.Elapsed.TotalSeconds));
        return result;
    }

    private string TrainTeacher()
    {
        var t = config.Teacher;
        string dir = Path.Combine(runDir, "teacher");
        var family = OptimizeeRegistry.Family(t.Optimizee, _options);
        MetaTrainer trainer = TeacherStore.HasCheckpoint(dir)
            ? MetaTrainer.Resume(dir, family, _device)
            : MetaTrainer.Start(TeacherConfig.Create(t.Model, t.Features, t.Preprocess, t.Hidden),
                new TrainingOptions(t.Optimizee, t.Epochs, t.Steps, t.Unroll, t.Lr, config.Seed), family, _device, dir);
        using (trainer) trainer.Run(log, null, ct);
        return dir;
    }

    /// <summary>Records distillation rows from the teacher in <paramref name="teacherDir"/> into <paramref name="path"/>.</summary>
    public string RecordData(string teacherDir, string path)
    {
        var r = config.Record;
        var (_, stored) = TeacherStore.ReadConfig(teacherDir);
        using var net = TeacherStore.LoadTeacher(teacherDir, _device);
        var family = OptimizeeRegistry.Family(stored.Optimizee, _options);
        var spec = RecordSpec.FromNames(r.Features, r.Memlen);
        var data = Recorder.Record(net, family, spec, new RecordOptions(r.Samples, r.Steps, r.Coords, config.Seed), _device, log);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var (rows, _) = data.Save(path);
        log.WriteLine($"run: recorded {data.RowCount} rows × {data.RowColumns.Length} columns from {data.Runs} teacher rollouts");
        return rows;
    }

    /// <summary>Evolves rules on the recorded rows under the funnel fitness; writes the hall of fame and the Pareto plot.</summary>
    public EvolveResult Evolve(string rowsPath, string dir)
    {
        var e = config.Evolve;
        Directory.CreateDirectory(dir);
        var problem = RegressionData.Load(rowsPath, null, null, dropNonFinite: true);
        var grammar = GrammarJson.Parse(e.Grammar.GetRawText(), "config $.evolve.grammar", "pipeline").BindFeatures(problem.Features);
        var stages = e.Rollouts.Select((s, i) => new RolloutStage(OptimizeeRegistry.Family(s.Optimizee, _options), s.Optimizee, s.Steps,
            [.. Enumerable.Range(0, s.Seeds).Select(k => 900_000L + 10_000L * i + k)], s.PassBelow)).ToArray();
        var funnel = new FunnelFitness(problem.Fitness, stages, new FunnelSettings(e.Scale, e.ImitationPass, e.ImitationWeight, e.RolloutWeight), device: _device);
        var defaults = SearchSettings.Default(config.Seed);
        var settings = defaults with
        {
            Population = defaults.Population with { Islands = e.Islands, Size = e.Population, OffspringPerGeneration = Math.Max(1, e.Population / 4) },
        };
        var ctx = SearchContext.Create(settings, grammar, funnel, problem.Fitness, Simplify.Apply, 1);
        var warm = FunnelFitness.WarmStarts(problem.Features).Where(w => grammar.Violations(w).Count == 0).ToList();
        ITermination stop = new TimeTermination(SrCommand.ParseDuration(e.Time));
        if (e.Generations is int g) stop = new OrTermination(stop, new GenerationTermination(g));
        log.WriteLine($"run: evolving over {problem.Description}; warm start: {string.Join(", ", warm)}");
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        var state = Evolution.Initialize(ctx, warm, ct);
        state = Evolution.Run(state, ctx, stop, (s, _) =>
        {
            if (clock.Elapsed - last < TimeSpan.FromSeconds(10)) return;
            last = clock.Elapsed;
            var best = s.HallOfFame.MostAccurate();
            log.WriteLine($"run: evolve gen {s.Generation} evals {s.Evaluations} rollouts {funnel.RolloutsRun} best {best?.Loss.ToString("G4", Inv)} {best?.Tree}");
        }, ct);

        var hof = state.HallOfFame.Members;
        var kept = hof.OrderBy(m => m.Loss).Take(e.Keep).Select((m, i) => new KeptRule($"distilled-{i + 1}", m.Tree,
            new RuleDefinition($"distilled-{i + 1}", Simplify.Apply(funnel.UpdateRule(m.Tree)), $"distilled from {rowsPath}", FeatureSettings.Default),
            m.Complexity, m.Loss, 1 - m.Objectives[1], [.. m.Objectives.Skip(2)])).ToList();
        foreach (var k in kept) File.WriteAllText(Path.Combine(dir, k.Name + RuleFile.Extension), RuleFile.Format(k.Update));
        var csv = new StringBuilder("Complexity|Combined|ImitationR2|" + string.Join("|", stages.Select((s, i) => $"Rollout{i + 1}({s.Name})")) + "|Equation\n");
        foreach (var m in hof)
            csv.Append(Inv, $"{m.Complexity}|{m.Loss:R}|{1 - m.Objectives[1]:R}|{string.Join("|", m.Objectives.Skip(2).Select(x => x.ToString("R", Inv)))}|{m.Tree}\n");
        File.WriteAllText(Path.Combine(dir, "hall_of_fame.csv"), csv.ToString());
        ParetoPlot(Path.Combine(dir, "pareto.png"), hof);
        return new EvolveResult(kept, hof, state.Generation, state.Evaluations, funnel.RolloutsRun, problem.Description);
    }

    private static void ParetoPlot(string path, ImmutableArray<Individual> hof)
    {
        var plot = new Plot();
        var pts = hof.Where(m => double.IsFinite(m.Loss)).ToArray();
        if (pts.Length > 0)
        {
            var all = plot.Add.ScatterPoints(pts.Select(m => (double)m.Complexity).ToArray(), pts.Select(m => m.Loss).ToArray());
            all.LegendText = "hall of fame: combined loss";
            var im = plot.Add.ScatterPoints(pts.Select(m => (double)m.Complexity).ToArray(), pts.Select(m => m.Objectives[1]).ToArray());
            im.LegendText = "imitation loss (1 − R²)";
            var front = new HallOfFame(hof).ParetoFront();
            var line = plot.Add.ScatterLine(front.Select(m => (double)m.Complexity).ToArray(), front.Select(m => m.Loss).ToArray());
            line.LegendText = "Pareto front (combined)";
        }
        plot.Axes.Bottom.Label.Text = "complexity";
        plot.Axes.Left.Label.Text = "loss";
        plot.Title("Pareto front: complexity vs loss");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 800, 500);
    }

    private List<RuleDefinition> TuneRules(IReadOnlyList<KeptRule> kept)
    {
        var t = config.Tune;
        var tuned = new List<RuleDefinition>();
        foreach (var k in kept)
        {
            var dir = Path.Combine(runDir, "tune", k.Name);
            var settings = new TuneSettings(t.Optimizee, t.Epochs, t.Steps, t.Unroll, t.Lr, Seed: (long)config.Seed, DataDir: config.DataDir, Batch: config.Batch);
            if (TunableRule.Create(k.Update).Count == 0)
            {
                log.WriteLine($"run: {k.Name} has no constants; kept as distilled");
                tuned.Add(k.Update with { Name = k.Name + "-tuned" });
                continue;
            }
            log.WriteLine(TuneCommand.Run(k.Update, settings, dir, _device, restart: false, evalSeeds: 0, log, ct));
            var result = RuleFile.Load(Path.Combine(dir, TuneStore.TunedRuleFile));
            // Keep the tuning only when it lowers the meta-loss on seeds neither the search nor the tuning used.
            var tunable = TunableRule.Create(k.Update);
            var family = ConstantTuner.Family(settings);
            long[] check = [3_000_000, 3_000_001];
            var before = ConstantTuner.Evaluate(tunable, tunable.InitialConstants.AsSpan(), family, _device, check, t.Steps, t.Unroll);
            var after = ConstantTuner.Evaluate(tunable, result.Rule.Constants().AsSpan(), family, _device, check, t.Steps, t.Unroll);
            log.WriteLine($"run: {k.Name}: meta-loss on check seeds {before.MetaLoss:G5} (distilled) → {after.MetaLoss:G5} (tuned)");
            if (!(after.MetaLoss < before.MetaLoss))
                result = k.Update with { Name = k.Name + "-tuned", Description = $"tuning did not lower the meta-loss on seeds {string.Join(", ", check)} ({before.MetaLoss:G5} → {after.MetaLoss:G5}); the distilled constants are kept" };
            tuned.Add(result);
        }
        return tuned;
    }

    private sealed record EvalOutcome(string Optimizee, bool Seen, IReadOnlyList<OptimizerSummary> Summaries, string Dir, IReadOnlyList<string> Notes);

    private List<EvalOutcome> EvaluateAll(string teacherDir, IReadOnlyList<KeptRule> kept, IReadOnlyList<RuleDefinition> tuned)
    {
        var ev = config.Evaluate;
        var registry = EvalCommand.Registry;
        var seeds = EvalSettings.Range(ev.Seeds, ev.SeedBase);
        var outcomes = new List<EvalOutcome>();
        for (int o = 0; o < ev.Optimizees.Length; o++)
        {
            var name = ev.Optimizees[o];
            var family = OptimizeeRegistry.Family(name, _options);
            var entries = new List<OptimizerEntry> { new("teacher", registry.Resolve(teacherDir, _device)) };
            var notes = new List<string>();
            foreach (var k in kept) entries.Add(new OptimizerEntry(k.Name, k.Update.Factory()));
            foreach (var r in tuned) entries.Add(new OptimizerEntry(r.Name, r.Factory()));
            foreach (var b in ev.Baselines)
            {
                if (ev.TuneLr && LrTuner.IsTunable(b, registry, _device))
                {
                    var lrs = new LrTuningSettings(1e-4, 1.0, ev.LrPoints, ev.TuneSteps, LrTuningSettings.DefaultSeeds.Take(2).ToArray());
                    var res = LrTuner.Tune(family, _device, registry, b, lrs, seeds, null, ct);
                    notes.Add($"{b}: lr tuned on seeds {string.Join(", ", lrs.Seeds)} ({lrs.Steps} steps, {lrs.Points} points 1e-4..1): chosen {res.BestLr.ToString("G3", Inv)}.");
                    entries.Add(new OptimizerEntry(b, registry.Resolve(res.TunedSpec, _device), $"lr-tuned: lr={res.BestLr.ToString("G3", Inv)}"));
                }
                else entries.Add(new OptimizerEntry(b, registry.Resolve(b, _device)));
            }
            log.WriteLine($"run: evaluating {entries.Count} optimizers on {name}, {ev.Seeds} seeds × {ev.Steps} steps");
            var runs = Harness.Run(family, _device, entries, new EvalSettings(ev.Steps, seeds), null, ct);
            var summaries = EvalSummary.Summarize(runs, entries);
            var dir = Path.Combine(runDir, "eval", Safe(name));
            EvalReportWriter.Write(dir, $"{name}: {ev.Steps} steps × {ev.Seeds} seeds", runs, summaries, notes);
            LossPlot.Save(Path.Combine(dir, "loss.png"), $"{name}: training loss, mean ± std over {ev.Seeds} seeds", EvalSummary.Curves(runs));
            outcomes.Add(new EvalOutcome(name, o == 0, summaries, dir, notes));
        }
        return outcomes;
    }

    private static string Safe(string name) => string.Concat(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-' ? ch : '_'));

    private string Report(string teacherDir, EvolveResult evolved, IReadOnlyList<RuleDefinition> tuned, IReadOnlyList<EvalOutcome> evals)
    {
        var sb = new StringBuilder();
        var (tc, to) = TeacherStore.ReadConfig(teacherDir);
        sb.AppendLine("# L2OEvolve run report").AppendLine();
        sb.AppendLine($"Run folder `{runDir}`; configuration in `config.json`; total wall time {Fmt(_total.Elapsed)} " +
            $"({string.Join(", ", _timings.Select(t => $"{t.Phase} {Fmt(TimeSpan.FromSeconds(t.Seconds))}"))}).").AppendLine();
        sb.AppendLine("## Teacher").AppendLine();
        sb.AppendLine($"{tc.DisplayName} meta-trained on {to.Optimizee}: {to.Epochs} epochs × {to.Steps} steps, unroll {to.Unroll}, meta-lr {to.MetaLr.ToString(Inv)} (`teacher/`).").AppendLine();
        sb.AppendLine("## Distillation and evolution").AppendLine();
        sb.AppendLine($"Data: {evolved.DataDescription}. Search: {evolved.Generations} generations, {evolved.Evaluations} candidate evaluations, " +
            $"{evolved.Rollouts} rollouts (candidates × stages, cached by structural hash). Fitness: imitation (1 − R²) for every candidate; " +
            $"rollouts of the update `{config.Evolve.Scale.ToString(Inv)} · rule` for those with 1 − R² ≤ {config.Evolve.ImitationPass.ToString(Inv)}: " +
            string.Join("; then ", config.Evolve.Rollouts.Select(r => $"{r.Optimizee}, {r.Steps} steps × {r.Seeds} seeds (pass ≤ {r.PassBelow.ToString(Inv)})")) +
            ". Rollout score = final training loss / that of the do-nothing rule (1 = no progress; 10 = diverged).").AppendLine();
        sb.AppendLine("![Pareto front](evolve/pareto.png)").AppendLine();
        sb.AppendLine("| complexity | combined loss | distillation R² | rollout scores | rule (raw teacher output) |");
        sb.AppendLine("|---:|---:|---:|---|---|");
        foreach (var m in evolved.HallOfFame)
            sb.AppendLine($"| {m.Complexity} | {G(m.Loss)} | {G(1 - m.Objectives[1])} | " +
                (m.Objectives[1] > config.Evolve.ImitationPass ? "not rolled out (imitation below the pass mark)" : string.Join(", ", m.Objectives.Skip(2).Select(G))) + $" | `{m.Tree}` |");
        sb.AppendLine().AppendLine("## Kept rules").AppendLine();
        sb.AppendLine("The update is added to the parameters, θ ← θ + rule; the sign is the rule's own (SPEC §9 item 13).").AppendLine();
        for (int i = 0; i < evolved.Kept.Count; i++)
        {
            var k = evolved.Kept[i];
            sb.AppendLine($"**{k.Name}** (complexity {k.Complexity}, distillation R² {G(k.ImitationR2)}, state {k.Update.Compile().StateSlots} floats/parameter):").AppendLine();
            sb.AppendLine($"- infix: `{Infix.Print(k.Update.Rule)}`");
            sb.AppendLine($"- LaTeX: $\\Delta\\theta = {Latex.Print(k.Update.Rule)}$");
            if (i < tuned.Count)
            {
                sb.AppendLine($"- meta-tuned ({tuned[i].Name}): `{Infix.Print(tuned[i].Rule)}`");
                sb.AppendLine($"- meta-tuned, LaTeX: $\\Delta\\theta = {Latex.Print(tuned[i].Rule)}$");
            }
            sb.AppendLine();
        }
        foreach (var e in evals)
        {
            sb.AppendLine($"## Evaluation on {e.Optimizee} ({(e.Seen ? "the search's optimizee, held-out seeds" : "never seen by the search or the tuning")})").AppendLine();
            sb.AppendLine("| optimizer | final train loss | eval loss | eval accuracy | diverged | state floats/param |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var s in e.Summaries)
                sb.AppendLine($"| {s.Optimizer}{(s.Note is null ? "" : $" ({s.Note})")} | {PlusMinus(s.FinalTrainLoss)} | {PlusMinus(s.EvalLoss)} | {PlusMinus(s.EvalAccuracy)} | {s.Diverged}/{s.Runs} | {s.StateFloatsPerParameter.ToString("G4", Inv)} |");
            sb.AppendLine();
            foreach (var n in e.Notes) sb.AppendLine($"- {n}");
            var rel = Path.GetRelativePath(runDir, e.Dir);
            sb.AppendLine().AppendLine($"![loss curves]({rel}/loss.png)").AppendLine();
            sb.AppendLine(Verdict(e)).AppendLine();
        }
        return sb.ToString();
    }

    // Whether the best tuned rule beat lr-tuned Adam: compares means, and says whether the gap exceeds one std.
    private static string Verdict(EvalOutcome e)
    {
        var adam = e.Summaries.FirstOrDefault(s => s.Optimizer == "adam");
        var tunedRules = e.Summaries.Where(s => s.Optimizer.EndsWith("-tuned", StringComparison.Ordinal) && s.FinalTrainLoss.N > 0).ToList();
        if (adam is null || adam.FinalTrainLoss.N == 0 || tunedRules.Count == 0) return "No comparison with Adam was possible (missing or diverged).";
        var best = tunedRules.MinBy(s => s.FinalTrainLoss.Mean)!;
        double gap = adam.FinalTrainLoss.Mean - best.FinalTrainLoss.Mean;
        string verdict = gap > 0 ? "beat" : "did not beat";
        string sure = Math.Abs(gap) > Math.Max(adam.FinalTrainLoss.Std, best.FinalTrainLoss.Std) ? "by more than one std" : "within one std";
        return $"**Verdict:** the best tuned rule ({best.Optimizer}, final train loss {PlusMinus(best.FinalTrainLoss)}) {verdict} lr-tuned Adam ({PlusMinus(adam.FinalTrainLoss)}) {sure} over {adam.Runs} seeds.";
    }

    private static string PlusMinus(Stat s) => s.N == 0 ? "–" : $"{G(s.Mean)} ± {G(s.Std)}";

    private static string G(double x) => double.IsNaN(x) ? "–" : x.ToString(Math.Abs(x) is >= 1e-3 and < 1e5 or 0 ? "0.####" : "0.###e0", Inv);

    private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", Inv) : t.ToString(@"m\:ss", Inv);
}
