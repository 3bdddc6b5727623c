using System.Collections.Immutable;

namespace L2OEvolve.Engine.Search;

/// <summary>The best individual found at each complexity (SR.jl's hall of fame), sorted by complexity.</summary>
/// <remarks>Entries with non-finite loss are never admitted. Ties keep the incumbent, so updates are order-independent for distinct losses.</remarks>
public sealed record HallOfFame(ImmutableArray<Individual> Members)
{
    /// <summary>An empty hall of fame.</summary>
    public static HallOfFame Empty { get; } = new(ImmutableArray<Individual>.Empty);

    /// <summary>The member at <paramref name="complexity"/>, if any.</summary>
    public Individual? At(int complexity)
    {
        foreach (var m in Members) if (m.Complexity == complexity) return m;
        return null;
    }

    /// <summary>A hall of fame that also holds every candidate better than the incumbent at its complexity.</summary>
    public HallOfFame Update(IEnumerable<Individual> candidates)
    {
        if (!OnePerComplexityInOrder(Members)) return UpdateUnsorted(candidates);
        // One member per complexity, in order (as Update makes them): the list is copied only when a candidate gets in.
        List<Individual>? best = null;
        foreach (var c in candidates)
        {
            if (!double.IsFinite(c.Loss)) continue;
            IReadOnlyList<Individual> current = best ?? (IReadOnlyList<Individual>)Members;
            int at = IndexOf(current, c.Complexity);
            if (at >= 0 && !(c.Loss < current[at].Loss)) continue;
            best ??= [.. Members];
            if (at >= 0) best[at] = c;
            else best.Insert(~at, c);
        }
        return best is null ? this : new HallOfFame([.. best]);
    }

    // A hall of fame built from an arbitrary list (not by Update) is sorted, keeping the last member per complexity.
    private HallOfFame UpdateUnsorted(IEnumerable<Individual> candidates)
    {
        var best = new SortedDictionary<int, Individual>();
        foreach (var m in Members) best[m.Complexity] = m;
        bool changed = false;
        foreach (var c in candidates)
        {
            if (!double.IsFinite(c.Loss)) continue;
            if (best.TryGetValue(c.Complexity, out var incumbent) && !(c.Loss < incumbent.Loss)) continue;
            best[c.Complexity] = c;
            changed = true;
        }
        return changed ? new HallOfFame(best.Values.ToImmutableArray()) : this;
    }

    private static bool OnePerComplexityInOrder(ImmutableArray<Individual> members)
    {
        for (int i = 1; i < members.Length; i++)
            if (members[i - 1].Complexity >= members[i].Complexity) return false;
        return true;
    }

    /// <summary>The position of the member at <paramref name="complexity"/>, or the bitwise complement of where it would go.</summary>
    private static int IndexOf(IReadOnlyList<Individual> sorted, int complexity)
    {
        int lo = 0, hi = sorted.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + (hi - lo) / 2, c = sorted[mid].Complexity;
            if (c == complexity) return mid;
            if (c < complexity) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    /// <summary>The Pareto front: members whose loss is strictly below that of every simpler member.</summary>
    public ImmutableArray<Individual> ParetoFront()
    {
        var front = ImmutableArray.CreateBuilder<Individual>();
        double bestLoss = double.PositiveInfinity;
        foreach (var m in Members)
        {
            if (m.Loss < bestLoss) { front.Add(m); bestLoss = m.Loss; }
        }
        return front.ToImmutable();
    }

    /// <summary>The lowest-loss member, or null when empty.</summary>
    public Individual? MostAccurate() => Members.IsEmpty ? null : Members.MinBy(m => m.Loss);

    /// <summary>
    /// PySR's choice: on the Pareto front ordered by complexity, score_i = −ln(loss_i/loss_{i−1}) / (C_i − C_{i−1})
    /// (score_0 = 0), and the member with the largest score wins. Losses are floored at 1e-300 so an exact fit scores finitely.
    /// </summary>
    public Individual? Chosen()
    {
        var front = ParetoFront();
        if (front.IsEmpty) return null;
        Individual best = front[0];
        double bestScore = 0;
        for (int i = 1; i < front.Length; i++)
        {
            double score = -Math.Log(Math.Max(front[i].Loss, 1e-300) / Math.Max(front[i - 1].Loss, 1e-300))
                / (front[i].Complexity - front[i - 1].Complexity);
            if (score > bestScore) { bestScore = score; best = front[i]; }
        }
        return best;
    }
}
