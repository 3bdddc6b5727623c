namespace L2OEvolve.Engine.Search;

/// <summary>Costs used by selection: normalised loss plus parsimony, scaled by how crowded each complexity is (adaptive parsimony).</summary>
public static class Parsimony
{
    /// <summary>
    /// cost_i = (loss_i / baseline + parsimony · complexity_i) · exp(scaling · freq[complexity_i]), where freq is the share of
    /// all island members at that complexity (SR.jl's frequency-based adaptive parsimony, with the current populations as the window).
    /// </summary>
    public static double[] Costs(IReadOnlyList<Individual> members, double baseline, double parsimony, double scaling, IReadOnlyDictionary<int, double> frequency)
    {
        var costs = new double[members.Count];
        double scale = baseline > 0 && double.IsFinite(baseline) ? baseline : 1.0;
        for (int i = 0; i < costs.Length; i++)
        {
            var m = members[i];
            double cost = m.Loss / scale + parsimony * m.Complexity;
            if (scaling != 0 && frequency.TryGetValue(m.Complexity, out double f)) cost *= Math.Exp(scaling * f);
            costs[i] = double.IsNaN(cost) ? double.PositiveInfinity : cost;
        }
        return costs;
    }

    /// <summary>The share of members at each complexity over all islands.</summary>
    public static Dictionary<int, double> Frequencies(IEnumerable<Island> islands)
    {
        var counts = new Dictionary<int, double>();
        int total = 0;
        foreach (var island in islands)
            foreach (var m in island.Members) { counts[m.Complexity] = counts.GetValueOrDefault(m.Complexity) + 1; total++; }
        foreach (var key in counts.Keys.ToList()) counts[key] /= Math.Max(1, total);
        return counts;
    }
}
