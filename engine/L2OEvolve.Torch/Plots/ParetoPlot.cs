using System.Collections.Immutable;
using L2OEvolve.Engine.Search;
using ScottPlot;

namespace L2OEvolve.Torch.Plots;

/// <summary>The Pareto plot of a funnel search's hall of fame: complexity against loss (PNG, ScottPlot 5).</summary>
public static class ParetoPlot
{
    /// <summary>
    /// Draws every finite member at (complexity, combined loss) and (complexity, imitation loss), with the Pareto front
    /// of the combined loss as a line; the members carry the funnel's objectives (objective 1 is the imitation loss).
    /// </summary>
    public static void Save(string path, ImmutableArray<Individual> hof)
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
}
