using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Search;

/// <summary>The selection stage: picks a parent index from a population given each member's cost. Stateless; RNG passed in.</summary>
public interface ISelection
{
    /// <summary>The index of the chosen member (lower cost is better).</summary>
    int Select(ref Rng rng, ReadOnlySpan<double> costs);
}

/// <summary>
/// SR.jl's tournament: sample <c>Size</c> members; the best wins with probability p, else the second with p, and so on
/// (the last sampled rank takes the remainder).
/// </summary>
public sealed record TournamentSelection(int Size, double Probability) : ISelection
{
    /// <inheritdoc/>
    public int Select(ref Rng rng, ReadOnlySpan<double> costs)
    {
        int k = Math.Clamp(Size, 1, costs.Length);
        Span<int> sampled = k <= 64 ? stackalloc int[k] : new int[k];
        if (k == costs.Length)
        {
            for (int i = 0; i < k; i++) sampled[i] = i;
        }
        else
        {
            // Rejection sampling without replacement is cheap for k much smaller than the population.
            for (int i = 0; i < k; i++)
            {
                int candidate;
                do candidate = rng.NextInt(costs.Length); while (sampled[..i].Contains(candidate));
                sampled[i] = candidate;
            }
        }
        var keys = new (double Cost, int Index)[k];
        for (int i = 0; i < k; i++) keys[i] = (double.IsNaN(costs[sampled[i]]) ? double.PositiveInfinity : costs[sampled[i]], sampled[i]);
        Array.Sort(keys);
        for (int rank = 0; rank < k - 1; rank++)
            if (rng.NextBool(Probability)) return keys[rank].Index;
        return keys[k - 1].Index;
    }
}
