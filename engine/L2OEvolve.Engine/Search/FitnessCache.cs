using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// A thread-safe, size-bounded memo of objectives by expression, for deterministic fitnesses: addressed by
/// <see cref="StructuralHash"/> and confirmed by an exact encoding of the tree, so a hash collision costs an
/// evaluation, never a wrong score. Being a pure memo it is not part of the search state: a restored search with an
/// empty cache continues bit-identically, and what it keeps or drops changes only speed.
/// </summary>
/// <remarks>
/// The memo holds no reference to a tree or an array: every entry is a run of words in one table allocated up front.
/// A memo of trees made each gen-0 collection copy every tree memoised since the one before, which in a search is
/// nearly all of them (the memo turns over every few dozen generations), so keeping the trees cost more collector
/// time than its hits saved evaluations.
/// <code>
/// set(h)       = the ways 2·(h mod sets) and 2·(h mod sets)+1                 (two-way set associative)
/// way          = [sequence, hash, token count, objective bits…, tokens…]   (+ its hash and age in small side arrays)
/// tokens(e)    = e in preorder: a constant → [tag, bits], a variable → [tag | name number],
///                an operator → [tag | operator slot], ema → [tag | bias flag, beta bits], lag → [tag | steps]
///                (arities make the run decodable, so equal runs ⇔ structurally equal trees)
/// TryGet(h, e) = a way of set(h) holding hash h whose tokens are tokens(e) → a copy of its objectives
/// Add(h, e, o) = unless a way holds e: write the empty way, else the older one
/// </code>
/// A way's sequence number is odd while it is written: a writer claims the way by compare-and-swap (and gives up if
/// another writer holds it), a reader compares the number before and after copying and counts a change as a miss.
/// Readers never lock or see half an entry; racing writers can only drop entries. A tree longer than the table's
/// token width is not memoised.
/// </remarks>
public sealed class FitnessCache
{
    /// <summary>
    /// Entries kept by default: about 30 generations of children at the default population. Repeats in a search are
    /// mostly recent (a child equal to a parent or a sibling), so a larger memo buys few hits.
    /// </summary>
    public const int DefaultCapacity = 1 << 12;

    /// <summary>The largest tree memoised by default, in nodes (each takes one or two words of its entry).</summary>
    public const int DefaultMaxNodes = 48;

    private const int SequenceAt = 0, HashAt = 1, CountAt = 2, ObjectivesAt = 3;
    private const int HitsAt = 0, MissesAt = 1, CollisionsAt = 2;
    private const long ConstTag = 1, VarTag = 2, UnaryTag = 3, BinaryTag = 4, EmaTag = 5, LagTag = 6;

    private readonly long[] _table;
    // Each way's hash again, packed: a lookup that matches neither way of its set (most of them) reads these 16 bytes
    // and not the entries, which are spread over megabytes. Only a filter: the entry's own hash decides.
    private readonly long[] _hashes;
    // When each way was written, counted per set (0 = empty; a write is one more than the set's newest), so choosing
    // the older way reads and writes nothing outside the set: a shared clock would be a line every thread writes.
    // A hint only: a race picks the other way.
    private readonly int[] _ages;
    private readonly int _objectives, _tokens, _stride, _setMask;
    private readonly StripedCounters _counters = new(3);
    private int _count;

    // Variable names by number: replaced whole under the lock when a name is new, read without it (a reader sees one
    // complete table). Few names are scanned; a wide table's many are looked up by value.
    private sealed record NameTable(string[] Names, Dictionary<string, int> Index);
    private NameTable _names = new([], new(StringComparer.Ordinal));
    private readonly Lock _namesGate = new();
    private const int ScannedNames = 16;

    /// <summary>A memo of at most <paramref name="capacity"/> entries (rounded up to a power of two, at least 2), each
    /// of <paramref name="objectives"/> values, for trees of at most <paramref name="maxNodes"/> nodes.</summary>
    public FitnessCache(int capacity = DefaultCapacity, int objectives = 1, int maxNodes = DefaultMaxNodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 24);
        ArgumentOutOfRangeException.ThrowIfLessThan(objectives, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNodes, 1);
        int sets = (int)Math.Max(1, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity) / 2);
        _objectives = objectives;
        _tokens = 2 * maxNodes;
        _stride = ObjectivesAt + objectives + _tokens;
        if ((long)sets * 2 * _stride > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"a memo of {capacity} trees of {maxNodes} nodes would not fit one array");
        _table = new long[sets * 2 * _stride];
        _hashes = new long[sets * 2];
        _ages = new int[sets * 2];
        _setMask = sets - 1;
        Capacity = sets * 2;
    }

    /// <summary>Lookups answered from the memo.</summary>
    public long Hits => _counters[HitsAt];

    /// <summary>Lookups that needed a real evaluation.</summary>
    public long Misses => _counters[MissesAt];

    /// <summary>Lookups whose hash matched a different expression (an evaluation, not a wrong answer).</summary>
    public long Collisions => _counters[CollisionsAt];

    /// <summary>Number of memoised expressions (at most <see cref="Capacity"/>).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Most expressions the memo holds.</summary>
    public int Capacity { get; }

    /// <summary>The memoised objectives of <paramref name="e"/>, if present.</summary>
    public bool TryGet(Expr e, out double[] objectives) => TryGet(StructuralHash.Of(e), e, out objectives);

    /// <summary>As <see cref="TryGet(Expr, out double[])"/>, with the expression's <see cref="StructuralHash"/> already computed.</summary>
    public bool TryGet(ulong hash, Expr e, out double[] objectives)
    {
        ArgumentNullException.ThrowIfNull(e);
        objectives = null!;
        int first = SetOf(hash);
        // Most lookups are misses that no way's hash matches: those never encode the tree.
        if (!HoldsHash(first, hash) && !HoldsHash(first + 1, hash))
        {
            _counters.Increment(MissesAt);
            return false;
        }
        Span<long> key = stackalloc long[_tokens];
        int n = Encode(e, key, 0, addNames: false);
        // A tree that cannot be encoded (too long, or naming a variable never memoised) matches no entry: the empty
        // key still finds the ways whose hash it shares, which are collisions.
        var probe = n >= 0 ? key[..n] : [];
        Span<double> found = stackalloc double[_objectives];
        for (int way = first; way <= first + 1; way++)
        {
            var outcome = Read(way, hash, probe, found);
            if (outcome is Found.Collision) _counters.Increment(CollisionsAt);
            if (outcome is not Found.Yes) continue;
            _counters.Increment(HitsAt);
            objectives = found.ToArray();
            return true;
        }
        _counters.Increment(MissesAt);
        return false;
    }

    /// <summary>Memoises <paramref name="objectives"/> for <paramref name="e"/>.</summary>
    public void Add(Expr e, double[] objectives) => Add(StructuralHash.Of(e), e, objectives);

    /// <summary>As <see cref="Add(Expr, double[])"/>, with the expression's <see cref="StructuralHash"/> already computed.</summary>
    /// <exception cref="ArgumentException">The number of objectives is not the memo's.</exception>
    public void Add(ulong hash, Expr e, double[] objectives)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(objectives);
        if (objectives.Length != _objectives)
            throw new ArgumentException($"the memo holds {_objectives} objective(s) per tree, got {objectives.Length}", nameof(objectives));
        Span<long> key = stackalloc long[_tokens];
        int n = Encode(e, key, 0, addNames: true);
        if (n < 0) return; // too long to memoise
        int first = SetOf(hash), second = first + 1;
        if (HoldsHash(first, hash) && Read(first, hash, key[..n], []) is Found.Yes || HoldsHash(second, hash) && Read(second, hash, key[..n], []) is Found.Yes) return;
        // The empty way, else the one written longer ago.
        int firstAge = Volatile.Read(ref _ages[first]), secondAge = Volatile.Read(ref _ages[second]);
        int way = firstAge <= secondAge ? first : second, at = way * _stride;
        long sequence = Volatile.Read(ref _table[at + SequenceAt]);
        if ((sequence & 1) != 0 || Interlocked.CompareExchange(ref _table[at + SequenceAt], sequence + 1, sequence) != sequence)
            return; // another writer holds this way
        _table[at + HashAt] = (long)hash;
        _table[at + CountAt] = n;
        for (int o = 0; o < _objectives; o++) _table[at + ObjectivesAt + o] = BitConverter.DoubleToInt64Bits(objectives[o]);
        key[..n].CopyTo(_table.AsSpan(at + ObjectivesAt + _objectives, n));
        Volatile.Write(ref _table[at + SequenceAt], sequence + 2);
        Volatile.Write(ref _hashes[way], (long)hash);
        Volatile.Write(ref _ages[way], Math.Max(firstAge, secondAge) == int.MaxValue ? 1 : Math.Max(firstAge, secondAge) + 1);
        if (sequence == 0) Interlocked.Increment(ref _count);
    }

    private enum Found { No, Collision, Yes }

    // Whether a way holds this hash and these tokens, copying its objectives into a non-empty span; a way being
    // written, or written while it was read, holds nothing.
    private Found Read(int way, ulong hash, ReadOnlySpan<long> key, Span<double> objectives)
    {
        int at = way * _stride;
        long sequence = Volatile.Read(ref _table[at + SequenceAt]);
        if (sequence == 0 || (sequence & 1) != 0 || _table[at + HashAt] != (long)hash) return Found.No;
        int n = (int)_table[at + CountAt];
        bool same = n == key.Length && _table.AsSpan(at + ObjectivesAt + _objectives, n).SequenceEqual(key);
        for (int o = 0; o < objectives.Length; o++) objectives[o] = BitConverter.Int64BitsToDouble(_table[at + ObjectivesAt + o]);
        // The reads above must complete before the sequence number is read again.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _table[at + SequenceAt]) != sequence) return Found.No;
        return same ? Found.Yes : Found.Collision;
    }

    private bool HoldsHash(int way, ulong hash) => Volatile.Read(ref _hashes[way]) == (long)hash;

    // The first of the set's two ways (ways 2s and 2s+1 are set s); the set index uses the high bits, which every
    // good 64-bit hash mixes well.
    private int SetOf(ulong hash) => (int)((hash >> 32) & (uint)_setMask) * 2;

    /// <summary>Writes the tokens of <paramref name="e"/> from <paramref name="at"/>; the end, or -1 when they do not
    /// fit or name a variable the memo has not seen (only a lookup, which then cannot hit, passes <paramref name="addNames"/> false).</summary>
    private int Encode(Expr e, Span<long> dest, int at, bool addNames)
    {
        if (at >= dest.Length) return -1;
        switch (e)
        {
            case Expr.Binary b:
                dest[at] = BinaryTag | (long)Ops.Slot(b.Op) << 8;
                at = Encode(b.Left, dest, at + 1, addNames);
                return at < 0 ? -1 : Encode(b.Right, dest, at, addNames);
            case Expr.Var v:
                int name = NameNumber(v.Name, addNames);
                if (name < 0) return -1;
                dest[at] = VarTag | (long)name << 8;
                return at + 1;
            case Expr.Const c:
                if (at + 1 >= dest.Length) return -1;
                dest[at] = ConstTag;
                dest[at + 1] = Bits(c.Value);
                return at + 2;
            case Expr.Unary u:
                dest[at] = UnaryTag | (long)Ops.Slot(u.Op) << 8;
                return Encode(u.Arg, dest, at + 1, addNames);
            case Expr.Ema m:
                if (at + 1 >= dest.Length) return -1;
                dest[at] = EmaTag | (m.BiasCorrected ? 1L << 8 : 0);
                dest[at + 1] = Bits(m.Beta);
                return Encode(m.Arg, dest, at + 2, addNames);
            case Expr.Lag l:
                dest[at] = LagTag | (long)(uint)l.Steps << 8;
                return Encode(l.Arg, dest, at + 1, addNames);
            default:
                return -1;
        }
    }

    // Record equality treats -0.0 as 0.0 and every NaN alike; the structural hash's bits make them equal too.
    private static long Bits(double x) => (long)StructuralHash.DoubleBits(x);

    private int NameNumber(string name, bool add)
    {
        var table = Volatile.Read(ref _names);
        var names = table.Names;
        if (names.Length <= ScannedNames)
        {
            // A search's trees name their variables by the grammar's very strings: a scan by reference finds them first.
            for (int i = 0; i < names.Length; i++) if (ReferenceEquals(names[i], name)) return i;
            for (int i = 0; i < names.Length; i++) if (string.Equals(names[i], name, StringComparison.Ordinal)) return i;
        }
        else if (table.Index.TryGetValue(name, out int known)) return known;
        if (!add) return -1;
        lock (_namesGate)
        {
            var current = _names;
            if (current.Index.TryGetValue(name, out int number)) return number;
            if (current.Names.Length >= 1 << 20) return -1;
            var index = new Dictionary<string, int>(current.Index, StringComparer.Ordinal) { [name] = current.Names.Length };
            Volatile.Write(ref _names, new NameTable([.. current.Names, name], index));
            return current.Names.Length;
        }
    }
}
