using System.Collections.Concurrent;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// A thread-safe memo of objectives by expression (structural equality and hash), for deterministic fitnesses.
/// Being a pure memo it is not part of the search state: a restored search with an empty cache continues bit-identically.
/// </summary>
public sealed class FitnessCache(int capacity = 200_000)
{
    private readonly ConcurrentDictionary<Expr, double[]> _entries = new();
    private long _hits, _misses;

    /// <summary>Lookups answered from the memo.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that needed a real evaluation.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Number of memoised expressions.</summary>
    public int Count => _entries.Count;

    /// <summary>The memoised objectives of <paramref name="e"/>, if present.</summary>
    public bool TryGet(Expr e, out double[] objectives)
    {
        if (_entries.TryGetValue(e, out objectives!)) { Interlocked.Increment(ref _hits); return true; }
        Interlocked.Increment(ref _misses);
        return false;
    }

    /// <summary>Memoises <paramref name="objectives"/> for <paramref name="e"/>; the memo is emptied when it outgrows its capacity.</summary>
    public void Add(Expr e, double[] objectives)
    {
        // Dropping everything is crude but harmless: entries are pure, so only speed depends on what is kept.
        if (_entries.Count >= capacity) _entries.Clear();
        _entries.TryAdd(e, objectives);
    }
}
