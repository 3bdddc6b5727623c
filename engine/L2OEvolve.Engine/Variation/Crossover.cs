using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Variation;

/// <summary>Subtree crossover: two parents exchange one random subtree each.</summary>
public static class Crossover
{
    /// <summary>
    /// Picks a uniformly random node in each parent and swaps the subtrees rooted there. The pair of children holds
    /// exactly the parents' nodes (as a multiset); their sizes may break the grammar, which the caller checks.
    /// </summary>
    public static (Expr First, Expr Second) Subtree(ref Rng rng, Expr a, Expr b)
    {
        int i = rng.NextInt(Trees.Size(a));
        int j = rng.NextInt(Trees.Size(b));
        var fromA = Trees.NodeAt(a, i);
        var fromB = Trees.NodeAt(b, j);
        return (Trees.ReplaceAt(a, i, fromB), Trees.ReplaceAt(b, j, fromA));
    }
}
