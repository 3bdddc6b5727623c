using System.Globalization;
using System.Text;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>Writes an evaluation's results as files: per-step losses (CSV), per-run results (CSV) and the summary (markdown).</summary>
public static class EvalReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes <c>losses.csv</c>, <c>runs.csv</c> and <c>summary.md</c> into <paramref name="dir"/>; returns the markdown.</summary>
    public static string Write(string dir, string title, IReadOnlyList<RunResult> runs, IReadOnlyList<OptimizerSummary> summaries, IEnumerable<string>? notes = null)
    {
        Directory.CreateDirectory(dir);
        WriteLosses(Path.Combine(dir, "losses.csv"), runs);
        WriteRuns(Path.Combine(dir, "runs.csv"), runs);
        var md = Markdown(title, summaries, notes);
        File.WriteAllText(Path.Combine(dir, "summary.md"), md);
        return md;
    }

    /// <summary>Long format, one row per optimizer, seed and step: <c>optimizer,seed,step,train_loss</c> (steps after a divergence are omitted).</summary>
    public static void WriteLosses(string path, IReadOnlyList<RunResult> runs)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("optimizer,seed,step,train_loss");
        foreach (var r in runs)
            for (int t = 0; t < r.StepsRun; t++)
                w.WriteLine($"{Csv(r.Optimizer)},{r.Seed},{t + 1},{r.TrainLoss[t].ToString("R", Inv)}");
    }

    /// <summary>One row per run with its outcome.</summary>
    public static void WriteRuns(string path, IReadOnlyList<RunResult> runs)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("optimizer,seed,steps_run,diverged_at_step,final_train_loss,mean_train_loss,eval_loss,eval_accuracy,wall_seconds,train_seconds,optimizer_seconds,state_floats_per_parameter");
        foreach (var r in runs)
        {
            string final = r.Diverged ? "" : F(EvalSummary.FinalLoss(r.TrainLoss));
            string mean = r.Diverged ? "" : F(r.TrainLoss.Average(x => (double)x));
            w.WriteLine(string.Join(",", Csv(r.Optimizer), r.Seed, r.StepsRun, r.DivergedAtStep?.ToString(Inv) ?? "", final, mean,
                F(r.Evaluation.Loss), F(r.Evaluation.Accuracy), F(r.WallSeconds), F(r.TrainSeconds), F(r.OptimizerSeconds), F(r.StateFloatsPerParameter)));
        }
    }

    /// <summary>The summary table in markdown, with a legend.</summary>
    public static string Markdown(string title, IReadOnlyList<OptimizerSummary> summaries, IEnumerable<string>? notes = null)
    {
        bool accuracy = summaries.Any(s => s.EvalAccuracy.N > 0);
        var sb = new StringBuilder();
        sb.AppendLine($"# {title}").AppendLine();
        var header = new List<string> { "optimizer", "final train loss", "mean train loss", "eval loss" };
        if (accuracy) header.Add("eval accuracy");
        header.AddRange(["diverged", "wall s/run", "ms/step", "optimizer ms/step", "state floats/param"]);
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
        foreach (var s in summaries)
        {
            var row = new List<string>
            {
                s.Optimizer + (s.Note is null ? "" : $" ({s.Note})"),
                PlusMinus(s.FinalTrainLoss), PlusMinus(s.MeanTrainLoss), PlusMinus(s.EvalLoss),
            };
            if (accuracy) row.Add(PlusMinus(s.EvalAccuracy));
            row.Add(s.Diverged == 0 ? $"0/{s.Runs}" : $"{s.Diverged}/{s.Runs} (first at step {s.FirstDivergedStep})");
            row.AddRange([s.WallSecondsPerRun.ToString("F2", Inv), s.MillisecondsPerStep.ToString("F3", Inv),
                s.OptimizerMillisecondsPerStep.ToString("F3", Inv), s.StateFloatsPerParameter.ToString("G4", Inv)]);
            sb.AppendLine("| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|"))) + " |");
        }
        sb.AppendLine();
        sb.AppendLine($"Mean ± sample std over seeds; diverged runs (NaN/Inf) are excluded from the loss columns. " +
                      $"Final train loss = mean minibatch loss of the last {EvalSummary.FinalWindow} steps; " +
                      "eval = held-out half (for quadratic and rosenbrock, which have no data, the objective itself); wall s/run includes the held-out evaluation, ms/step the training steps (optimizee forward and backward pass and update), optimizer ms/step only the update.");
        foreach (var n in notes ?? []) sb.AppendLine().AppendLine(n);
        return sb.ToString();
    }

    private static string PlusMinus(Stat s) => s.N == 0 ? "–" : $"{G(s.Mean)} ± {G(s.Std)}";

    private static string G(double x) => x.ToString(Math.Abs(x) is >= 1e-3 and < 1e5 or 0 ? "0.####" : "0.###e0", Inv);

    private static string F(double x) => double.IsFinite(x) ? x.ToString("R", Inv) : (double.IsNaN(x) ? "" : x.ToString(Inv));

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
