using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch;
using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Plots;
using L2OEvolve.Torch.Funnel;
using L2OEvolve.Torch.Rollouts;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Teachers;
using L2OEvolve.Torch.Tuning;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.DistillationPipeline;

/// <summary>A rule the search kept, with its funnel scores; <see cref="Update"/> carries the step size the rollouts chose as its lr.</summary>
public sealed record KeptRule(string Name, Expr Distilled, RuleDefinition Update, int Complexity, double Combined, double ImitationR2, ImmutableArray<double> Rollouts, string RuleFile);

/// <summary>What the search produced: the kept rules and the hall of fame (for the Pareto plot).</summary>
public sealed record EvolveResult(IReadOnlyList<KeptRule> Kept, ImmutableArray<Individual> HallOfFame, int Generations, long Evaluations, long Rollouts, long Refused, string DataDescription);

/// <summary>Where the teacher came from, for the report.</summary>
public sealed record TeacherSource(string Dir, string Description);

/// <summary>A kept rule after meta-tuning: the tuned rule (or null when tuning did not help) and the check figures.</summary>
public sealed record TunedRule(KeptRule From, RuleDefinition? Tuned, string? RuleFile, double CheckBefore, double CheckAfter, string Verdict);

/// <summary>
/// The whole mission in one run: the phases below, each writing into its own folder of the run directory, then
/// <c>report.md</c> and <c>results.json</c>.
/// <code>
/// teacher/  ← a shipped teacher (its folder is recorded), or meta-train one from the recipe (resumes)
/// record/   ← roll it out, record lag rows (features → raw teacher output)
/// evolve/   ← evolve rules: imitation for all; rollouts, with the step size tuned, for those that pass and read the gradient
/// tune/     ← meta-tune the kept rules' constants over several optimizees; keep a tuning only if it helps on check seeds
/// eval/     ← per optimizee and horizon: teacher, rules and baselines, every rule and baseline lr-tuned the same way
/// report.md, results.json
/// </code>
/// The recommended rule is chosen from the lr-tuning scores on the search's optimizee (tuning seeds), never from the
/// evaluation seeds.
/// </summary>
public sealed class PipelineRunner(PipelineConfig config, string runDir, TextWriter log, CancellationToken ct)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly Device _device = CPU;
    private readonly OptimizeeOptions _options = new(DataDir: config.DataDir, BatchSize: config.Batch, EvalExamples: config.EvalExamples);
    private readonly List<(string Phase, double Seconds)> _timings = [];
    private readonly Stopwatch _total = Stopwatch.StartNew();

    /// <summary>Runs every phase and returns the report's path.</summary>
    public string Run()
    {
        Directory.CreateDirectory(runDir);
        File.WriteAllText(Path.Combine(runDir, "config.json"), config.ToJson());
        TorchSetup.SetThreads(config.Threads);
        // Rollouts run their candidates side by side, one libtorch thread each; the results do not depend on it.
        L2OEvolve.Torch.Rollouts.PopulationRollout.Workers = config.Threads;
        var teacher = Phase("teacher", ObtainTeacher);
        var rows = Phase("record", () => RecordData(teacher.Dir, Path.Combine(runDir, "record", "rows.npy")));
        var evolved = Phase("evolve", () => Evolve(rows, Path.Combine(runDir, "evolve")));
        var tuned = Phase("tune", () => TuneRules(evolved.Kept));
        var evals = Phase("eval", () => EvaluateAll(teacher, evolved.Kept, tuned));
        var recommended = Recommend(evals, evolved.Kept, tuned);
        var report = Path.Combine(runDir, "report.md");
        var results = PipelineResults.Build(recommended, evolved.Kept, tuned, evals, config);
        PipelineResults.Write(Path.Combine(runDir, "results.json"), results);
        File.WriteAllText(report, PipelineReport.Write(config, runDir, teacher, evolved, tuned, evals, recommended, _timings, _total.Elapsed));
        log.WriteLine($"run: recommended rule {recommended}; wrote {report} and results.json ({Fmt(_total.Elapsed)} in all)");
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

    private TeacherSource ObtainTeacher()
    {
        var t = config.Teacher;
        if (t.Pretrained is { } name)
        {
            var dir = TeacherZoo.Resolve(name, "pipeline configuration", "$.teacher.pretrained");
            var manifest = TeacherManifest.TryRead(dir);
            string what = manifest is null
                ? $"The teacher folder `{dir}` (pretrained, not a shipped teacher)."
                : $"The shipped teacher **{manifest.Name}** v{manifest.Version} (`{dir}`): {manifest.Description.TrimEnd('.')}. Provenance: {manifest.Provenance}. " +
                  "Its own held-out evaluation against lr-tuned Adam is in `evaluation.md` beside its weights.";
            log.WriteLine($"run: teacher: {dir}");
            return new TeacherSource(dir, what);
        }
        string trained = Path.Combine(runDir, "teacher");
        var family = OptimizeeRegistry.Family(t.Optimizee!, _options);
        MetaTrainer trainer = TeacherStore.HasCheckpoint(trained)
            ? MetaTrainer.Resume(trained, family, _device)
            : MetaTrainer.Start(TeacherConfig.Create(t.Model!, t.Features, t.Preprocess, t.Hidden),
                new TrainingOptions(t.Optimizee!, t.Epochs!.Value, t.Steps!.Value, t.Unroll!.Value, t.Lr!.Value, config.Seed), family, _device, trained);
        using (trainer) trainer.Run(log, null, ct);
        var (tc, to) = TeacherStore.ReadConfig(trained);
        return new TeacherSource(trained, $"{tc.DisplayName} meta-trained in this run on {to.Optimizee}: {to.Epochs} epochs × {to.Steps} steps, " +
            $"unroll {to.Unroll}, meta-lr {to.MetaLr.ToString(Inv)} (`teacher/`).");
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

    /// <summary>Evolves rules on the recorded rows under the funnel fitness; writes the hall of fame, the Pareto plot and the kept rules.</summary>
    public EvolveResult Evolve(string rowsPath, string dir)
    {
        var e = config.Evolve;
        Directory.CreateDirectory(dir);
        var problem = RegressionData.Load(rowsPath, null, null, dropNonFinite: true);
        var grammar = GrammarJson.Parse(e.Grammar.GetRawText(), "config $.evolve.grammar", "pipeline").BindFeatures(problem.Features);
        var stages = e.Rollouts.Select((s, i) => new RolloutStage(OptimizeeRegistry.Family(s.Optimizee, _options), s.Optimizee, s.Steps,
            [.. Enumerable.Range(0, s.Seeds).Select(k => 900_000L + 10_000L * i + k)], s.PassBelow)).ToArray();
        var settings = new FunnelSettings(e.Scale, e.ImitationPass, e.ImitationWeight, e.RolloutWeight,
            StepMultipliers: e.StepMultipliers is null ? default : [.. e.StepMultipliers], RestTolerance: e.RestTolerance);
        var funnel = new FunnelFitness(problem.Fitness, stages, settings, device: _device);
        var search = SearchKnobs.Default(config.Seed, e.Islands, e.Population);
        var ctx = SearchContext.Create(search, grammar, funnel, problem.Fitness, Simplify.Apply, 1);
        var warm = FunnelFitness.WarmStarts(problem.Features).Where(w => grammar.Violations(w).Count == 0).ToList();
        if (e.ImitationGenerations > 0)
        {
            // A cheap imitation-only search first, on the same grammar and seed: its hall of fame seeds the funnel.
            var imitation = SearchContext.Create(search, grammar, problem.Fitness, problem.Fitness, Simplify.Apply, 1);
            var found = Evolution.Run(Evolution.Initialize(imitation, warm, ct), imitation, new GenerationTermination(e.ImitationGenerations), null, ct);
            log.WriteLine($"run: imitation search: {found.Generation} generations, {found.Evaluations} evaluations; best R² " +
                $"{1 - (found.HallOfFame.MostAccurate()?.Loss ?? double.NaN) / problem.Fitness.BaselineLoss:G4}: {found.HallOfFame.MostAccurate()?.Tree}");
            warm = [.. warm.Concat(found.HallOfFame.Members.Select(m => m.Tree)).Distinct()];
        }
        ITermination stop = new TimeTermination(Durations.ParseBudget(e.Time));
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

        if (PopulationRollout.NativeFaults > 0)
            log.WriteLine($"run: warning: libtorch failed {PopulationRollout.NativeFaults} candidate rollouts; each was run again, " +
                $"{PopulationRollout.CandidatesFailedByFault} failed every attempt and scored as diverged");
        var hof = state.HallOfFame.Members;
        var kept = KeepDistinct(hof, grammar, funnel, e.Keep, e.RestTolerance * Math.Sqrt(problem.Fitness.BaselineLoss), rowsPath, dir);
        var csv = new StringBuilder("Complexity|Combined|ImitationR2|StepSize|" + string.Join("|", stages.Select((s, i) => $"Rollout{i + 1}({s.Name})")) + "|Equation\n");
        foreach (var m in hof)
            csv.Append(Inv, $"{m.Complexity}|{m.Loss:R}|{1 - m.Objectives[1]:R}|{funnel.StepSize(m.Tree):R}|{string.Join("|", m.Objectives.Skip(2).Select(x => x.ToString("R", Inv)))}|{m.Tree}\n");
        File.WriteAllText(Path.Combine(dir, "hall_of_fame.csv"), csv.ToString());
        ParetoPlot.Save(Path.Combine(dir, "pareto.png"), hof);
        return new EvolveResult(kept, hof, state.Generation, state.Evaluations, funnel.RolloutsRun, funnel.Refused, problem.Description);
    }

    // The hall of fame by combined loss, each rule simplified; rules that simplify to an expression already kept, and
    // rules that are no optimizer (they ignore the gradient or move the parameters at rest), are passed over.
    private static List<KeptRule> KeepDistinct(ImmutableArray<Individual> hof, Grammar grammar, FunnelFitness funnel, int keep, double restLimit, string rowsPath, string dir)
    {
        var kept = new List<KeptRule>();
        var seen = new HashSet<Expr>();
        foreach (var m in hof.Where(m => double.IsFinite(m.Loss)).OrderBy(m => m.Loss).ThenBy(m => m.Complexity))
        {
            if (kept.Count == keep) break;
            if (!UpdateChecks.ReadsGradient(m.Tree) || !(UpdateChecks.RestUpdate(m.Tree) <= restLimit)) continue;
            var simple = Simplify.Apply(m.Tree);
            if (!seen.Add(simple)) continue;
            string name = $"distilled-{kept.Count + 1}";
            funnel.Ensure(m.Tree); // its record (and step size) may have left the bounded cache in a long search
            var rule = funnel.Rule(m.Tree, name, $"distilled from {rowsPath}: imitation R² {1 - m.Objectives[1]:G4}, rollout scores " +
                string.Join(", ", m.Objectives.Skip(2).Select(x => x.ToString("G4", Inv))) + "; lr = the step size the rollouts chose") with { Rule = simple };
            var file = Path.Combine(dir, name + RuleFile.Extension);
            File.WriteAllText(file, RuleFile.Format(rule));
            kept.Add(new KeptRule(name, m.Tree, rule, simple.Complexity(grammar), m.Loss, 1 - m.Objectives[1], [.. m.Objectives.Skip(2)], file));
        }
        return kept;
    }

    private List<TunedRule> TuneRules(IReadOnlyList<KeptRule> kept)
    {
        var t = config.Tune;
        var optimizees = string.Join(";", t.Optimizees);
        var settings = new TuneSettings(optimizees, t.Epochs, t.Steps, t.Unroll, t.Lr, Seed: (long)config.Seed, DataDir: config.DataDir, Batch: config.Batch);
        var family = ConstantTuner.Family(settings);
        // Check instances: seeds neither the search (900000+), the tuning epochs (random 63-bit) nor the evaluation use.
        long[] check = [.. Enumerable.Range(0, t.CheckSeeds).Select(i => 3_000_000L + i)];
        var outcomes = new List<TunedRule>();
        foreach (var k in kept)
        {
            var dir = Path.Combine(runDir, "tune", k.Name);
            var tunable = TunableRule.Create(k.Update);
            if (tunable.Count == 0)
            {
                log.WriteLine($"run: {k.Name} has no constants to tune");
                outcomes.Add(new TunedRule(k, null, null, double.NaN, double.NaN, "no constants to tune"));
                continue;
            }
            log.WriteLine(RuleTuning.Run(k.Update, settings, dir, _device, restart: false, evalSeeds: 0, log, ct));
            var file = Path.Combine(dir, TuneStore.TunedRuleFile);
            var result = RuleFile.Load(file);
            var before = ConstantTuner.Evaluate(tunable, tunable.InitialConstants.AsSpan(), family, _device, check, t.Steps, t.Unroll).FinalLoss;
            var tunedProgram = TunableRule.Create(result);
            var after = ConstantTuner.Evaluate(tunedProgram, tunedProgram.InitialConstants.AsSpan(), family, _device, check, t.Steps, t.Unroll).FinalLoss;
            log.WriteLine($"run: {k.Name}: final training loss on check seeds {before:G5} (as found) → {after:G5} (meta-tuned)");
            bool helps = after < before;
            outcomes.Add(new TunedRule(k, helps ? result : null, helps ? file : null, before, after, helps
                ? $"kept: it lowers the mean final training loss on check seeds {check[0]}..{check[^1]} ({before:G4} → {after:G4})"
                : $"not kept: it does not lower the mean final training loss on check seeds {check[0]}..{check[^1]} ({before:G4} → {after:G4})"));
        }
        return outcomes;
    }

    private List<OptimizeeComparison> EvaluateAll(TeacherSource teacher, IReadOnlyList<KeptRule> kept, IReadOnlyList<TunedRule> tuned)
    {
        var ev = config.Evaluate;
        var registry = OptimizerRegistry.Standard;
        var contenders = new List<Contender> { new("teacher", ContenderKind.Teacher, "teacher:" + teacher.Dir, TuneLr: false) };
        foreach (var k in kept) contenders.Add(new Contender(k.Name, ContenderKind.Rule, k.RuleFile, TuneLr: true));
        foreach (var t in tuned.Where(t => t.RuleFile is not null)) contenders.Add(new Contender(t.Tuned!.Name, ContenderKind.Rule, t.RuleFile!, TuneLr: true));
        foreach (var b in ev.Baselines) contenders.Add(new Contender(b, ContenderKind.Baseline, b, TuneLr: true));
        var seen = SearchedFamilies();
        // One libtorch thread per run and several runs at once: these models are too small for intra-op threads.
        TorchSetup.SetThreads(1);
        var outcomes = new List<OptimizeeComparison>();
        try
        {
            foreach (var target in ev.Optimizees)
            {
                var family = OptimizeeRegistry.Family(target.Optimizee, _options);
                var settings = new ComparisonSettings([.. target.Horizons.Select(h => h * ev.Horizon)],
                    EvalSettings.Range(target.Seeds, ev.SeedBase), EvalSettings.Range(ev.TuneSeeds, ev.TuneSeedBase), ev.LrPoints, ev.LrDecades, ev.Workers);
                log.WriteLine($"run: comparing {contenders.Count} optimizers on {target.Optimizee} at {string.Join(", ", settings.Horizons)} steps × {target.Seeds} seeds");
                var cmp = Comparison.Run(target.Optimizee, seen.Contains(FamilyKey(target.Optimizee)), family, _device, registry, contenders, settings, log, null, ct);
                foreach (var h in cmp.Horizons)
                {
                    var dir = Path.Combine(runDir, "eval", Safe(target.Optimizee), $"{h.Steps}-steps");
                    var runs = h.Results.SelectMany(r => r.Runs).ToArray();
                    var entries = h.Results.Select(r => new OptimizerEntry(r.Contender.Name, (_, _) => throw new InvalidOperationException(), r.Lr is { } lr ? $"lr-tuned: lr={lr.ToString("G3", Inv)}" : null)).ToArray();
                    var summaries = EvalSummary.Summarize(runs, entries);
                    EvalReportWriter.Write(dir, $"{target.Optimizee}: {h.Steps} steps × {target.Seeds} seeds", runs, summaries, LrNotes(h));
                    LossPlot.Save(Path.Combine(dir, "loss.png"), $"{target.Optimizee}: training loss, mean ± std over {target.Seeds} seeds", EvalSummary.Curves(runs));
                }
                outcomes.Add(cmp);
            }
        }
        finally { TorchSetup.SetThreads(config.Threads); }
        return outcomes;
    }

    private static IReadOnlyList<string> LrNotes(HorizonResult h) => [.. h.Results.Where(r => r.Tuning is not null).Select(r =>
        $"{r.Contender.Name}: lr {r.Tuning!.BestLr.ToString("G3", Inv)} chosen from {r.Tuning.Scores.Count} rates " +
        $"{r.Tuning.Scores[0].Lr.ToString("G3", Inv)}..{r.Tuning.Scores[^1].Lr.ToString("G3", Inv)}{(r.Tuning.AtEdge ? " (at the edge of the grid: the best rate may lie beyond)" : "")}.")];

    // The optimizee families the search and the tuning trained on (the part of a spec before ':'; mixtures split).
    private HashSet<string> SearchedFamilies() =>
        [.. config.Evolve.Rollouts.Select(r => r.Optimizee).Concat(config.Tune.Optimizees).SelectMany(s => s.Split(';')).Select(FamilyKey)];

    private static string FamilyKey(string spec) => spec.Split(':', 2)[0].Trim().ToLowerInvariant();

    // The recommended rule: among the rules within the state budget, the lowest lr-tuning score on the search's own
    // optimizee at the shortest horizon. Those scores come from the tuning seeds only.
    private string Recommend(IReadOnlyList<OptimizeeComparison> evals, IReadOnlyList<KeptRule> kept, IReadOnlyList<TunedRule> tuned)
    {
        var first = evals[0].Horizons[0];
        var budget = config.Evaluate.MaxStateFloats;
        var candidates = first.Results.Where(r => r.Contender.Kind == ContenderKind.Rule && r.Tuning is not null
            && r.Runs[0].StateFloatsPerParameter <= budget).ToList();
        if (candidates.Count == 0) candidates = [.. first.Results.Where(r => r.Contender.Kind == ContenderKind.Rule && r.Tuning is not null)];
        if (candidates.Count == 0) throw new InvalidOperationException("the search kept no rule to recommend");
        return candidates.MinBy(r => r.Tuning!.Scores.Min(s => s.Score))!.Contender.Name;
    }

    private static string Safe(string name) => string.Concat(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-' ? ch : '_'));

    internal static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", Inv) : t.ToString(@"m\:ss", Inv);
}
