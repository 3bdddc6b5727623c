namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>Mean and sample standard deviation over the runs that have a value (n = 0: NaN ± NaN).</summary>
public readonly record struct Stat(double Mean, double Std, int N)
{
    /// <summary>Statistics of the finite values in <paramref name="values"/>.</summary>
    public static Stat Of(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new(double.NaN, double.NaN, 0);
        double mean = v.Average();
        double std = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return new(mean, std, v.Length);
    }
}

/// <summary>One row of the summary table: an optimizer's results across seeds (diverged runs excluded from the loss statistics).</summary>
public sealed record OptimizerSummary(
    string Optimizer, string? Note, int Runs, int Diverged, int? FirstDivergedStep,
    Stat FinalTrainLoss, Stat MeanTrainLoss, Stat EvalLoss, Stat EvalAccuracy,
    double WallSecondsPerRun, double MillisecondsPerStep, double OptimizerMillisecondsPerStep, double StateFloatsPerParameter);

/// <summary>A per-step loss curve: mean and standard deviation across the runs that are finite at that step.</summary>
public sealed record LossCurve(string Optimizer, double[] Mean, double[] Std);

/// <summary>Summaries and curves computed from <see cref="RunResult"/>s.</summary>
public static class EvalSummary
{
    /// <summary>Steps averaged for the "final" training loss: minibatch losses are noisy, so one step is not enough.</summary>
    public const int FinalWindow = 10;

    /// <summary>One summary per optimizer, in the order the optimizers first appear.</summary>
    public static IReadOnlyList<OptimizerSummary> Summarize(IReadOnlyList<RunResult> runs, IReadOnlyList<OptimizerEntry>? entries = null) =>
        runs.GroupBy(r => r.Optimizer).Select(g =>
        {
            var all = g.ToArray();
            var ok = all.Where(r => !r.Diverged).ToArray();
            int steps = all.Sum(r => r.StepsRun);
            return new OptimizerSummary(
                g.Key,
                entries?.FirstOrDefault(e => e.Label == g.Key)?.Note,
                all.Length,
                all.Length - ok.Length,
                all.Where(r => r.Diverged).Select(r => r.DivergedAtStep).Min(),
                Stat.Of(ok.Select(r => FinalLoss(r.TrainLoss))),
                Stat.Of(ok.Select(r => r.TrainLoss.Average(x => (double)x))),
                Stat.Of(ok.Select(r => r.Evaluation.Loss)),
                Stat.Of(ok.Select(r => r.Evaluation.Accuracy)),
                all.Average(r => r.WallSeconds),
                steps == 0 ? double.NaN : 1000 * all.Sum(r => r.TrainSeconds) / steps,
                steps == 0 ? double.NaN : 1000 * all.Sum(r => r.OptimizerSeconds) / steps,
                all[0].StateFloatsPerParameter);
        }).ToArray();

    /// <summary>Mean training loss over the last <see cref="FinalWindow"/> steps.</summary>
    public static double FinalLoss(float[] trainLoss) =>
        trainLoss.Skip(Math.Max(0, trainLoss.Length - FinalWindow)).Average(x => (double)x);

    /// <summary>Mean ± std curve per optimizer.</summary>
    public static IReadOnlyList<LossCurve> Curves(IReadOnlyList<RunResult> runs) =>
        runs.GroupBy(r => r.Optimizer).Select(g =>
        {
            var all = g.ToArray();
            int steps = all.Max(r => r.TrainLoss.Length);
            var mean = new double[steps];
            var std = new double[steps];
            for (int t = 0; t < steps; t++)
            {
                var s = Stat.Of(all.Where(r => t < r.TrainLoss.Length).Select(r => (double)r.TrainLoss[t]));
                (mean[t], std[t]) = (s.Mean, s.Std);
            }
            return new LossCurve(g.Key, mean, std);
        }).ToArray();
}
