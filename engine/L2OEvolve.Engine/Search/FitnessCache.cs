using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// A thread-safe, size-bounded memo of objectives by expression, for deterministic fitnesses: addressed by
/// <see cref="StructuralHash"/> and confirmed by structural equality, so a hash collision costs an evaluation, never
/// a wrong score. Being a pure memo it is not part of the search state: a restored search with an empty cache
/// continues bit-identically, and what it keeps or drops changes only speed.
/// </summary>
public sealed class FitnessCache(int capacity = FitnessCache.DefaultCapacity)
{
    /// <summary>
    /// Entries kept by default: about 30 generations of children at the default population. Repeats in a search are
    /// mostly recent (a child equal to a parent or a sibling), so a larger memo buys few hits, while every entry it
    /// keeps alive is copied by the garbage collector: on 800 rows 65,536 entries saved 3% of evaluations over 4,096
    /// and cost about 10% more CPU time (one run each, 2 cores at load 7–9).
    /// </summary>
    public const int DefaultCapacity = 1 << 12;

    private readonly BoundedCache<Expr, double[]> _entries = new(capacity);

    /// <summary>Lookups answered from the memo.</summary>
    public long Hits => _entries.Hits;

    /// <summary>Lookups that needed a real evaluation.</summary>
    public long Misses => _entries.Misses;

    /// <summary>Lookups whose hash matched a different expression (an evaluation, not a wrong answer).</summary>
    public long Collisions => _entries.Collisions;

    /// <summary>Number of memoised expressions (at most <see cref="Capacity"/>).</summary>
    public int Count => _entries.Count;

    /// <summary>Most expressions the memo holds.</summary>
    public int Capacity => _entries.Capacity;

    /// <summary>The memoised objectives of <paramref name="e"/>, if present.</summary>
    public bool TryGet(Expr e, out double[] objectives) => TryGet(StructuralHash.Of(e), e, out objectives);

    /// <summary>As <see cref="TryGet(Expr, out double[])"/>, with the expression's <see cref="StructuralHash"/> already computed.</summary>
    public bool TryGet(ulong hash, Expr e, out double[] objectives) => _entries.TryGet(hash, e, out objectives);

    /// <summary>Memoises <paramref name="objectives"/> for <paramref name="e"/> (the caller must not change the array afterwards).</summary>
    public void Add(Expr e, double[] objectives) => Add(StructuralHash.Of(e), e, objectives);

    /// <summary>As <see cref="Add(Expr, double[])"/>, with the expression's <see cref="StructuralHash"/> already computed.</summary>
    public void Add(ulong hash, Expr e, double[] objectives) => _entries.Add(hash, e, objectives);
}
