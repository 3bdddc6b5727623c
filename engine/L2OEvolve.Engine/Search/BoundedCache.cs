namespace L2OEvolve.Engine.Search;

/// <summary>
/// A fixed-size, thread-safe memo from keys to values, addressed by a caller-supplied 64-bit hash and confirmed by
/// key equality on every hit, so a hash collision is a miss and never a wrong answer. Memory is bounded by
/// <see cref="Capacity"/> entries whatever runs through it.
/// </summary>
/// <remarks>
/// <code>
/// set(h)      = the two slots 2·(h mod sets), 2·(h mod sets)+1        (two-way set associative)
/// TryGet(h,k) = the slot in set(h) whose entry has hash h and key equal to k
/// Add(h,k,v)  = write into an empty slot of set(h); if both are full, the older entry is dropped:
///               slot 0 holds the most recent insert, slot 1 the one before
/// </code>
/// Slots hold immutable entry objects, read and written as single references, so readers never lock and never see
/// a half-written entry. Two writers racing on one set may drop one of their entries: a memo only loses speed by that.
/// Lookups may be answered out of a set filled by other threads in any order; a cached value must therefore be a pure
/// function of its key (so evictions and races change speed, never results).
/// </remarks>
public sealed class BoundedCache<TKey, TValue> where TKey : notnull
{
    private sealed record Entry(ulong Hash, TKey Key, TValue Value);

    private readonly Entry?[] _slots;
    // Each slot's hash, beside the others: a lookup compares these before it touches an entry, which mostly sits
    // out of cache. Only a filter: a match is confirmed on the entry itself, so a stale value costs a miss, no more.
    private readonly ulong[] _hashes;
    private readonly int _setMask;
    private readonly IEqualityComparer<TKey> _comparer;
    private readonly StripedCounters _counters = new(3);
    private int _count;

    private const int HitsAt = 0, MissesAt = 1, CollisionsAt = 2;

    /// <summary>A cache of at most <paramref name="capacity"/> entries (rounded up to a power of two, at least 2).</summary>
    public BoundedCache(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 30);
        int sets = (int)Math.Max(1, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity) / 2);
        _slots = new Entry?[sets * 2];
        _hashes = new ulong[sets * 2];
        _setMask = sets - 1;
        _comparer = comparer ?? EqualityComparer<TKey>.Default;
    }

    /// <summary>Most entries the cache holds.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Entries held now (at most <see cref="Capacity"/>).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits => _counters[HitsAt];

    /// <summary>Lookups that found nothing for their key.</summary>
    public long Misses => _counters[MissesAt];

    /// <summary>Lookups whose hash matched an entry of a different key (counted among the misses).</summary>
    public long Collisions => _counters[CollisionsAt];

    private void Tally(int which) => _counters.Increment(which);

    /// <summary>The value cached for <paramref name="key"/> (whose hash is <paramref name="hash"/>), if any.</summary>
    public bool TryGet(ulong hash, TKey key, out TValue value)
    {
        int set = SetOf(hash);
        for (int way = 0; way < 2; way++)
        {
            if (Volatile.Read(ref _hashes[set + way]) != hash) continue;
            var e = Volatile.Read(ref _slots[set + way]);
            if (e is null || e.Hash != hash) continue;
            if (_comparer.Equals(e.Key, key))
            {
                Tally(HitsAt);
                value = e.Value;
                return true;
            }
            Tally(CollisionsAt);
        }
        Tally(MissesAt);
        value = default!;
        return false;
    }

    /// <summary>Caches <paramref name="value"/> for <paramref name="key"/>, dropping the older entry of its set when full.</summary>
    public void Add(ulong hash, TKey key, TValue value)
    {
        int set = SetOf(hash);
        var entry = new Entry(hash, key, value);
        var first = Volatile.Read(ref _slots[set]);
        if (Holds(set, hash, key) || Holds(set + 1, hash, key)) return;
        // A slot goes from empty to full exactly once (only Clear empties it), and the compare-exchange and the
        // exchange below let exactly one writer see that transition, so Count never exceeds Capacity.
        if (first is null)
        {
            if (Interlocked.CompareExchange(ref _slots[set], entry, null) is null)
            {
                Volatile.Write(ref _hashes[set], hash);
                Interlocked.Increment(ref _count);
                return;
            }
            first = Volatile.Read(ref _slots[set])!;
        }
        // The newest entry takes the first way and the previous one moves to the second; whatever was there is dropped.
        // The moved entry's hash is taken from beside the slot rather than from the entry (out of cache); a writer
        // racing on this set can only make it stale, which costs a miss.
        ulong firstHash = Volatile.Read(ref _hashes[set]);
        var second = Interlocked.Exchange(ref _slots[set + 1], first);
        Volatile.Write(ref _hashes[set + 1], firstHash);
        if (second is null) Interlocked.Increment(ref _count);
        Volatile.Write(ref _slots[set], entry);
        Volatile.Write(ref _hashes[set], hash);
    }

    private bool Holds(int slot, ulong hash, TKey key) =>
        Volatile.Read(ref _hashes[slot]) == hash && Volatile.Read(ref _slots[slot]) is { } e && e.Hash == hash && _comparer.Equals(e.Key, key);

    /// <summary>Drops every entry (the counters keep counting); not to be called while other threads add.</summary>
    public void Clear()
    {
        Array.Clear(_slots);
        Array.Clear(_hashes);
        Volatile.Write(ref _count, 0);
    }

    // Both ways of a set are adjacent; the set index uses the high bits, which every good 64-bit hash mixes well.
    private int SetOf(ulong hash) => (int)((hash >> 32) & (uint)_setMask) * 2;
}
