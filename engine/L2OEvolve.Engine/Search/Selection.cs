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
        // Ranked by (cost, index), a total order, so this insertion sort gives exactly the order any sort would.
        Span<double> keys = k <= 64 ? stackalloc double[k] : new double[k];
        for (int i = 0; i < k; i++)
        {
            double cost = double.IsNaN(costs[sampled[i]]) ? double.PositiveInfinity : costs[sampled[i]];
            int index = sampled[i], j = i;
            for (; j > 0 && (keys[j - 1] > cost || keys[j - 1] == cost && sampled[j - 1] > index); j--)
                (keys[j], sampled[j]) = (keys[j - 1], sampled[j - 1]);
            (keys[j], sampled[j]) = (cost, index);
        }
        for (int rank = 0; rank < k - 1; rank++)
            if (rng.NextBool(Probability)) return sampled[rank];
        return sampled[k - 1];
    }
}
