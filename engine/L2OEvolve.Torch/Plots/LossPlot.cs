using L2OEvolve.Torch.OptimizerEvaluation;
using ScottPlot;

namespace L2OEvolve.Torch.Plots;

/// <summary>PNG plots of mean ± std training-loss curves (ScottPlot 5, rendered headless through SkiaSharp).</summary>
public static class LossPlot
{
    /// <summary>
    /// Draws one line per optimizer with a shaded ±1 std band. The y axis is logarithmic when every mean is positive
    /// (losses span decades); the band's lower edge is clipped at a tenth of the mean so it stays on a log axis.
    /// The y range spans the finite means up to ten times the largest starting loss, so a diverging curve (drawn up
    /// to its last finite step) does not squash the others.
    /// </summary>
    public static void Save(string path, string title, IReadOnlyList<LossCurve> curves, int width = 900, int height = 560)
    {
        // Minibatch losses are noisy: long runs are drawn as a centred moving average (a window of 1% of the steps).
        int steps = curves.Count == 0 ? 0 : curves.Max(c => c.Mean.Length);
        int window = steps >= 200 ? steps / 100 : 1;
        if (window > 1)
        {
            curves = curves.Select(c => new LossCurve(c.Optimizer, Smooth(c.Mean, window), Smooth(c.Std, window))).ToArray();
            title += $" (moving average over {window} steps)";
        }
        var plot = new Plot();
        bool log = curves.All(c => c.Mean.Where(double.IsFinite).All(m => m > 0));
        Func<double, double> y = log ? v => Math.Log10(v) : v => v;
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < curves.Count; k++)
        {
            var c = curves[k];
            var color = palette.GetColor(k);
            var idx = Enumerable.Range(0, c.Mean.Length).Where(t => double.IsFinite(c.Mean[t])).ToArray();
            if (idx.Length == 0) continue;
            double[] xs = idx.Select(t => (double)(t + 1)).ToArray();
            double[] mean = idx.Select(t => c.Mean[t]).ToArray();
            double[] lower = idx.Select(t => Math.Max(c.Mean[t] - c.Std[t], log ? c.Mean[t] * 0.1 : double.NegativeInfinity)).ToArray();
            double[] upper = idx.Select(t => c.Mean[t] + c.Std[t]).ToArray();
            var band = plot.Add.FillY(xs, lower.Select(y).ToArray(), upper.Select(y).ToArray());
            band.FillColor = color.WithAlpha(0.2);
            band.LineWidth = 0;
            var line = plot.Add.ScatterLine(xs, mean.Select(y).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.LegendText = c.Optimizer;
        }
        var finite = curves.SelectMany(c => c.Mean).Where(double.IsFinite).ToArray();
        if (finite.Length > 0)
        {
            double start = curves.Select(c => c.Mean.FirstOrDefault(double.IsFinite)).Where(double.IsFinite).DefaultIfEmpty(finite.Max()).Max();
            double top = Math.Min(finite.Max(), log ? start * 10 : start + Math.Abs(start));
            double bottom = finite.Min();
            plot.Axes.AutoScale();
            if (log) plot.Axes.SetLimitsY(Math.Log10(bottom) - 0.2, Math.Log10(top) + 0.2);
            else plot.Axes.SetLimitsY(bottom - 0.05 * (top - bottom), top + 0.05 * (top - bottom));
        }
        if (log)
        {
            plot.Axes.Left.TickGenerator = LogTicks(plot.Axes.GetLimits().Bottom, plot.Axes.GetLimits().Top);
            plot.Axes.Left.Label.Text = "training loss (log scale)";
        }
        else plot.Axes.Left.Label.Text = "training loss";
        plot.Axes.Bottom.Label.Text = "step";
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, width, height);
    }

    /// <summary>Centred moving average over the finite values within the window (NaN stays NaN).</summary>
    private static double[] Smooth(double[] v, int window)
    {
        var result = new double[v.Length];
        int half = window / 2;
        for (int i = 0; i < v.Length; i++)
        {
            if (!double.IsFinite(v[i])) { result[i] = v[i]; continue; }
            double sum = 0;
            int n = 0;
            for (int j = Math.Max(0, i - half); j <= Math.Min(v.Length - 1, i + half); j++)
                if (double.IsFinite(v[j])) { sum += v[j]; n++; }
            result[i] = sum / n;
        }
        return result;
    }

    /// <summary>Ticks for a log10 axis: powers of ten, plus 2× and 5× labels when the range spans under two decades.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double bottom, double top)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        bool fine = top - bottom < 2;
        for (int e = (int)Math.Floor(bottom) - 1; e <= (int)Math.Ceiling(top); e++)
            for (int m = 1; m <= 9; m++)
            {
                double pos = e + Math.Log10(m);
                if (pos < bottom || pos > top) continue;
                if (m == 1 || (fine && m is 2 or 5))
                    ticks.AddMajor(pos, (m * Math.Pow(10, e)).ToString("G3", System.Globalization.CultureInfo.InvariantCulture));
                else ticks.AddMinor(pos);
            }
        return ticks;
    }
}
