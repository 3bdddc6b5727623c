using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.OptimizerEvaluation;

namespace L2OEvolve.Torch.DistillationPipeline;

/// <summary>
/// <c>report.md</c>: the answer first (the recommended rule, and whether it beats lr-tuned Adam where it was found and
/// where it never was), then where the teacher came from, the search, the rules before and after meta-tuning, and one
/// table per optimizee and horizon with the per-seed wins and the lr every optimizer was tuned to.
/// </summary>
internal static class PipelineReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The recommended rule's state, and a warning when it exceeds the budget: the runner recommends over the budget
    /// only when no kept rule fits it, and the reader must not miss that.
    /// </summary>
    internal static string StateClause(int stateFloats, int budget) =>
        stateFloats > budget
            ? $"state {stateFloats} floats/parameter, over the budget of {budget} (maxStateFloats): no rule the search kept fits it"
            : $"state {stateFloats} floats/parameter";

    public static string Write(PipelineConfig config, string runDir, TeacherSource teacher, EvolveResult evolved, IReadOnlyList<TunedRule> tuned,
        IReadOnlyList<OptimizeeComparison> evals, string best, IReadOnlyList<(string Phase, double Seconds)> timings, TimeSpan total)
    {
        var sb = new StringBuilder();
        var bestRule = evolved.Kept.Select(k => k.Update).Concat(tuned.Where(t => t.Tuned is not null).Select(t => t.Tuned!)).First(r => r.Name == best);
        sb.AppendLine("# L2OEvolve run report").AppendLine();
        sb.AppendLine($"Run folder `{runDir}`; configuration in `config.json`, machine-readable results in `results.json`. " +
            $"Total wall time {PipelineRunner.Fmt(total)} ({string.Join(", ", timings.Select(t => $"{t.Phase} {PipelineRunner.Fmt(TimeSpan.FromSeconds(t.Seconds))}"))}).").AppendLine();

        sb.AppendLine("## Answer").AppendLine();
        sb.AppendLine($"Recommended rule **{best}** (chosen by its lr-tuning score on the search's optimizee, on tuning seeds only; " +
            $"{StateClause(bestRule.Compile().StateSlots, config.Evaluate.MaxStateFloats)}):").AppendLine();
        sb.AppendLine($"$$\\Delta\\theta = \\eta \\cdot \\left({Latex.Print(bestRule.Rule)}\\right)$$").AppendLine();
        sb.AppendLine($"`update = lr * ({Infix.Print(bestRule.Rule)})`, with lr = {G(bestRule.Lr)} as found; the tables give the lr tuned per optimizee and horizon.").AppendLine();
        sb.AppendLine("| optimizee | seen by the search | steps | recommended rule | lr-tuned Adam | verdict |");
        sb.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var e in evals)
            foreach (var h in e.Horizons)
            {
                var v = PipelineResults.VerdictAt(h, best);
                sb.AppendLine($"| {e.Optimizee} | {(e.SeenBySearch ? "yes (held-out seeds)" : "no")} | {h.Steps} | {PlusMinus(h.Find(best)!.FinalTrainLoss)} | " +
                    $"{PlusMinus(h.Find("adam")!.FinalTrainLoss)} | {(v is null ? "–" : v.Phrase("Adam"))} |");
            }
        sb.AppendLine().AppendLine("Final training loss (mean of the last 10 steps), mean ± std over the evaluation seeds. The verdict compares " +
            "the same seeds: *beats* = lower mean and lower on at least 70% of the seeds or by more than one of Adam's std; " +
            "*ties* = within one std; *loses by k std* = higher by k of Adam's std.").AppendLine();

        sb.AppendLine("## Teacher").AppendLine();
        sb.AppendLine($"{teacher.Description} Its row appears in every table below (it runs as trained; it has no lr to tune).").AppendLine();

        sb.AppendLine("## Search").AppendLine();
        var e0 = config.Evolve;
        sb.AppendLine($"Data: {evolved.DataDescription}. {evolved.Generations} generations, {evolved.Evaluations} candidate evaluations, " +
            $"{evolved.Rollouts} rollouts (candidate × step multiplier × stage, cached by structure), {evolved.Refused} candidates refused a rollout " +
            "because they do not read the gradient or move the parameters at rest (a constant drift earns nothing).").AppendLine();
        sb.AppendLine($"Fitness: imitation (1 − R²) for every candidate; those with 1 − R² ≤ {G(e0.ImitationPass)} are rolled out as the update " +
            $"`{G(e0.Scale)} · m · rule`, the step multiplier m tuned over {{{string.Join(", ", (e0.StepMultipliers ?? [1.0]).Select(G))}}} on the first stage: " +
            string.Join("; then ", e0.Rollouts.Select(r => $"{r.Optimizee}, {r.Steps} steps × {r.Seeds} seeds (pass ≤ {G(r.PassBelow)})")) +
            $". Rollout score = mean over stages of the final training loss / that of the do-nothing rule. Combined = {G(e0.ImitationWeight)}·(1 − R²) + {G(e0.RolloutWeight)}·rollout.").AppendLine();
        sb.AppendLine("![Pareto front](evolve/pareto.png)").AppendLine();
        sb.AppendLine("| complexity | combined loss | distillation R² | rollout scores | rule (raw teacher output scale) |");
        sb.AppendLine("|---:|---:|---:|---|---|");
        foreach (var m in evolved.HallOfFame)
            sb.AppendLine($"| {m.Complexity} | {G(m.Loss)} | {G(1 - m.Objectives[1])} | " +
                (m.Objectives.Skip(2).All(x => !double.IsFinite(x)) ? "not rolled out" : string.Join(", ", m.Objectives.Skip(2).Select(G))) + $" | `{m.Tree}` |");

        sb.AppendLine().AppendLine("## Rules, as found and meta-tuned").AppendLine();
        sb.AppendLine("The update is added to the parameters, θ ← θ + lr · rule; the sign is the rule's own, and lr is a step size like any optimizer's.").AppendLine();
        foreach (var t in tuned)
        {
            var k = t.From;
            sb.AppendLine($"**{k.Name}** (complexity {k.Complexity}, distillation R² {G(k.ImitationR2)}, state {k.Update.Compile().StateSlots} floats/parameter, lr {G(k.Update.Lr)}):").AppendLine();
            sb.AppendLine($"- as found: `{Infix.Print(k.Update.Rule)}` — $\\Delta\\theta = \\eta\\,({Latex.Print(k.Update.Rule)})$");
            if (t.Tuned is { } r) sb.AppendLine($"- meta-tuned ({r.Name}): `{Infix.Print(r.Rule)}` — $\\Delta\\theta = {Latex.Print(r.Rule)}$");
            sb.AppendLine($"- meta-tuning over {string.Join(", ", config.Tune.Optimizees)} ({config.Tune.Epochs} epochs × {config.Tune.Steps} steps, unroll {config.Tune.Unroll}): " +
                $"final training loss on check seeds {G(t.CheckBefore)} before, {G(t.CheckAfter)} after; {t.Verdict}.");
            sb.AppendLine();
        }

        foreach (var e in evals)
            foreach (var h in e.Horizons)
            {
                int mult = h.Steps / config.Evaluate.Horizon;
                sb.AppendLine($"## {e.Optimizee}, {h.Steps} steps ({mult}× the search's horizon; {(e.SeenBySearch ? "the search's optimizee, held-out seeds" : "never seen by the search or the tuning")})").AppendLine();
                var adam = h.Find("adam");
                sb.AppendLine("| optimizer | kind | lr | final train loss | eval loss | eval accuracy | seeds lower than Adam | diverged | state floats/param | optimizer ms/step |");
                sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var r in h.Results)
                {
                    string wins = adam is null || r == adam ? "–" : Verdict.Of(r.FinalTrainLoss, adam.FinalTrainLoss) is var v ? $"{v.Wins}/{v.Seeds}" : "–";
                    string name = r.Contender.Name == best ? $"**{r.Contender.Name}** (recommended)" : r.Contender.Name;
                    string lr = r.Lr is { } x ? G(x) + (r.Tuning!.AtEdge ? " (grid edge)" : "") : "as trained";
                    int diverged = r.Runs.Count(x => x.Diverged);
                    double steps = r.Runs.Sum(x => x.StepsRun);
                    sb.AppendLine($"| {name} | {r.Contender.Kind.ToString().ToLowerInvariant()} | {lr} | {PlusMinus(r.FinalTrainLoss)} | {PlusMinus(r.EvalLoss)} | " +
                        $"{PlusMinus(r.EvalAccuracy)} | {wins} | {diverged}/{r.Runs.Count} | {r.Runs[0].StateFloatsPerParameter.ToString("G4", Inv)} | " +
                        $"{(steps == 0 ? "–" : (1000 * r.Runs.Sum(x => x.OptimizerSeconds) / steps).ToString("0.###", Inv))} |");
                }
                sb.AppendLine();
                sb.AppendLine($"lr tuned per optimizer on seeds {string.Join(", ", EvalSettings.Range(config.Evaluate.TuneSeeds, config.Evaluate.TuneSeedBase))} " +
                    $"({config.Evaluate.LrPoints}-point log grid over {G(config.Evaluate.LrDecades)} decades around its default rate, grown until the best rate is interior); " +
                    $"evaluation seeds {h.Results[0].Runs[0].Seed}..{h.Results[0].Runs[^1].Seed}.");
                var edges = h.Results.Where(r => r.Tuning is { AtEdge: true }).Select(r => r.Contender.Name).ToArray();
                if (edges.Length > 0) sb.AppendLine($"The best rate of {string.Join(", ", edges)} is still at the edge of its grid after growing it: the optimum may lie beyond.");
                var rel = $"eval/{string.Concat(e.Optimizee.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-' ? ch : '_'))}/{h.Steps}-steps";
                sb.AppendLine().AppendLine($"![loss curves]({rel}/loss.png)").AppendLine();
                if (PipelineResults.VerdictAt(h, best) is { } verdict)
                    sb.AppendLine($"**Verdict:** {best} ({PlusMinus(h.Find(best)!.FinalTrainLoss)}) {verdict.Phrase($"lr-tuned Adam ({PlusMinus(adam!.FinalTrainLoss)})")}.").AppendLine();
            }
        return sb.ToString();
    }

    private static string PlusMinus(IReadOnlyList<double> values)
    {
        var s = Stat.Of(values);
        return s.N == 0 ? "diverged" : $"{G(s.Mean)} ± {G(s.Std)}" + (s.N < values.Count ? $" ({values.Count - s.N} diverged)" : "");
    }

    private static string G(double x) => double.IsNaN(x) ? "–" : x.ToString(Math.Abs(x) is >= 1e-3 and < 1e5 or 0 ? "0.####" : "0.###e0", Inv);
}
