using System.Collections.Immutable;

namespace L2OEvolve.Engine.Search;

/// <summary>The reinsertion stage: merges an island's children into it, keeping its size. Deterministic; no RNG needed.</summary>
public interface IReinsertion
{
    /// <summary>The new members, given the old ones, their costs and the children with theirs.</summary>
    ImmutableArray<Individual> Reinsert(ImmutableArray<Individual> members, ReadOnlySpan<double> costs, IReadOnlyList<Individual> children, ReadOnlySpan<double> childCosts);
}

/// <summary>Regularised evolution: each child replaces the oldest remaining member (ages are unique birth stamps).</summary>
public sealed record ReplaceOldest : IReinsertion
{
    /// <inheritdoc/>
    public ImmutableArray<Individual> Reinsert(ImmutableArray<Individual> members, ReadOnlySpan<double> costs, IReadOnlyList<Individual> children, ReadOnlySpan<double> childCosts)
    {
        int n = Math.Min(children.Count, members.Length);
        // Oldest first, ties (which unique stamps never make) in member order: the order a stable sort by age gives.
        // Every island does this every generation, so an island of ordinary size sorts on the stack.
        var byAge = members.Length <= 256 ? stackalloc (long Birth, int Index)[members.Length] : new (long Birth, int Index)[members.Length];
        for (int i = 0; i < byAge.Length; i++) byAge[i] = (members[i].Birth, i);
        byAge.Sort();
        var builder = members.ToBuilder();
        for (int k = 0; k < n; k++) builder[byAge[k].Index] = children[k];
        return builder.MoveToImmutable();
    }
}

/// <summary>Generational with elitism: members and children compete on cost and the best <c>Size</c> survive (ties keep the older).</summary>
public sealed record ReplaceWorst : IReinsertion
{
    /// <inheritdoc/>
    public ImmutableArray<Individual> Reinsert(ImmutableArray<Individual> members, ReadOnlySpan<double> costs, IReadOnlyList<Individual> children, ReadOnlySpan<double> childCosts)
    {
        var pool = new List<(double Cost, long Birth, Individual Member)>(members.Length + children.Count);
        for (int i = 0; i < members.Length; i++) pool.Add((costs[i], members[i].Birth, members[i]));
        for (int i = 0; i < children.Count; i++) pool.Add((childCosts[i], children[i].Birth, children[i]));
        return pool.OrderBy(p => p.Cost).ThenBy(p => p.Birth).Take(members.Length).Select(p => p.Member).ToImmutableArray();
    }
}
