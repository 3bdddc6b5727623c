using L2OEvolve.Torch.Evaluation;
using ScottPlot;

namespace L2OEvolve.Cli.Reports;

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
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
            };
            plot.Axes.Left.Label.Text = "training loss (log scale)";
        }
        else plot.Axes.Left.Label.Text = "training loss";
        plot.Axes.Bottom.Label.Text = "step";
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, width, height);
    }
}
