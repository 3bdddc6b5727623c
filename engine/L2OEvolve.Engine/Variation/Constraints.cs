using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Variation;

/// <summary>The grammar's structural limits: complexity, depth, nesting rules, allowed leaves and stateful ranges.</summary>
public static class Constraints
{
    private sealed record Rule(string Outer, string Inner, int MaxCount);

    /// <summary>
    /// A grammar's nesting rules with their keys numbered: a node's key is found through its operator's slot in the
    /// operator table instead of by comparing names, and nodes no rule names are left off the ancestor path.
    /// </summary>
    private sealed class Nesting
    {
        public readonly Rule[] Rules;
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal); // every key a rule names
        private readonly int[] _bySlot; // operator slot → key number, -1 when no rule names it, -2 when not a grammar operator
        private readonly int _ema, _lag;
        private readonly (int Outer, int MaxCount)[][] _byInner; // by key number: the rules it is the inner key of

        public Nesting(Grammar g)
        {
            Rules = g.Nesting.IsDefault ? [] : g.Nesting.Select(r => new Rule(Trees.NormaliseKey(r.Outer), Trees.NormaliseKey(r.Inner), r.MaxCount)).ToArray();
            foreach (var r in Rules)
            {
                _ids.TryAdd(r.Outer, _ids.Count);
                _ids.TryAdd(r.Inner, _ids.Count);
            }
            _byInner = new (int, int)[_ids.Count][];
            for (int id = 0; id < _ids.Count; id++)
                _byInner[id] = Rules.Where(r => _ids[r.Inner] == id).Select(r => (_ids[r.Outer], r.MaxCount)).ToArray();
            int slots = g.Ops.IsDefaultOrEmpty ? 0 : g.Ops.Max(o => Ops.Slot(o.Op) + 1);
            _bySlot = Enumerable.Repeat(-2, slots).ToArray();
            foreach (var o in g.Ops) _bySlot[Ops.Slot(o.Op)] = _ids.GetValueOrDefault(o.Op.Symbol, -1);
            _ema = _ids.GetValueOrDefault("ema", -1);
            _lag = _ids.GetValueOrDefault("lag", -1);
        }

        /// <summary>The key number of an operator node, or -1 when no rule names it (and for leaves).</summary>
        public int KeyOf(Expr n) => n switch
        {
            Expr.Unary u => OfOp(u.Op),
            Expr.Binary b => OfOp(b.Op),
            Expr.Ema => _ema,
            Expr.Lag => _lag,
            _ => -1,
        };

        private int OfOp(Op op)
        {
            int slot = Volatile.Read(ref op.Slot);
            return (uint)slot < (uint)_bySlot.Length && _bySlot[slot] != -2 ? _bySlot[slot] : _ids.GetValueOrDefault(op.Symbol, -1);
        }

        /// <summary>As <c>Allows</c> on names, on key numbers: may a node with key
        /// <paramref name="key"/> sit below <c>path[..depth]</c> (the ancestors that rules name, root first)?</summary>
        public bool Allows(int[] path, int depth, int key)
        {
            foreach (var (outer, maxCount) in _byInner[key])
                for (int i = 0; i < depth; i++)
                {
                    if (path[i] != outer) continue;
                    int count = 1;
                    for (int j = i + 1; j < depth; j++) if (path[j] == key) count++;
                    if (count > maxCount) return false;
                }
            return true;
        }
    }

    // A pure memo of each grammar's nesting tables (grammars are immutable, so it can never go stale).
    private static readonly ConditionalWeakTable<Grammar, Nesting> NestingCache = new();

    private static Nesting NestingOf(Grammar g) => NestingCache.GetValue(g, static gr => new Nesting(gr));

    private static Rule[] Rules(Grammar g) => NestingOf(g).Rules;

    [ThreadStatic] private static int[]? t_path;

    /// <summary>True when <paramref name="e"/> respects every limit of <paramref name="g"/>.</summary>
    public static bool Satisfied(Expr e, Grammar g)
    {
        ulong m = Measures(e, g);
        if (m == Unmeasured)
            return Shape(e, g, out int complexity, out int depth) && complexity <= g.MaxSize && depth <= g.MaxDepth && NestingSatisfied(e, g);
        return (m & 1) != 0 && ComplexityIn(m) <= g.MaxSize && DepthIn(m) <= g.MaxDepth && NestingSatisfied(e, g);
    }

    /// <summary><see cref="Expr.Complexity"/>, read from the measures the check of <paramref name="e"/> left in its nodes.</summary>
    public static int Complexity(Expr e, Grammar g) => Measures(e, g) is var m && m != Unmeasured ? ComplexityIn(m) : e.Complexity(g);

    // A node's measures under a grammar, in one 64-bit word written whole: valid (bit 0) | holds a node that a nesting
    // rule names (bit 1) | depth (bits 2–17) | complexity (bits 18–39) | the grammar's key (bits 40–63). Every child
    // the search makes is checked and measured, and it shares all but one path with its parent, so only that path is
    // measured again; and the nesting walk skips the subtrees in which no rule names a node.
    private const ulong Unmeasured = ulong.MaxValue, Named = 2;
    private const int DepthLimit = 1 << 16, ComplexityLimit = 1 << 22;

    private static int DepthIn(ulong m) => (int)(m >> 2 & (DepthLimit - 1));

    private static int ComplexityIn(ulong m) => (int)(m >> 18 & (ComplexityLimit - 1));

    private static ulong Measures(Expr e, Grammar g)
    {
        if (g.MeasureKey is not (> 0 and var key)) return Unmeasured;
        ulong kept = e.MeasureCache;
        return kept >> 40 == (ulong)key ? kept : Measures(e, g, (ulong)key, NestingOf(g));
    }

    /// <summary>
    /// As <see cref="Shape"/> and <see cref="Expr.Complexity"/> together, for the whole subtree (no early exit: the
    /// validity bit says whether a leaf or stateful node is invalid), from the children's kept measures;
    /// <see cref="Unmeasured"/> when a measure does not fit its bits (the walks then answer).
    /// </summary>
    private static ulong Measures(Expr e, Grammar g, ulong key, Nesting nesting)
    {
        ulong kept = e.MeasureCache;
        if (kept >> 40 == key) return kept;
        bool valid;
        long complexity;
        int depth;
        ulong named = nesting.KeyOf(e) >= 0 ? Named : 0;
        switch (e)
        {
            case Expr.Var v:
                (valid, complexity, depth) = (IsFeature(v.Name, g.Features), 1, 1);
                break;
            case Expr.Const c:
                (valid, complexity, depth) = (double.IsFinite(c.Value), g.Constants.Complexity, 1);
                break;
            case Expr.Unary u:
                if (Measures(u.Arg, g, key, nesting) is var a && a == Unmeasured) return Unmeasured;
                named |= a & Named;
                (valid, complexity, depth) = ((a & 1) != 0, (long)ComplexityIn(a) + g.ComplexityOf(u.Op), DepthIn(a) + 1);
                break;
            case Expr.Binary b:
                if (Measures(b.Left, g, key, nesting) is var l && l == Unmeasured || Measures(b.Right, g, key, nesting) is var r && r == Unmeasured) return Unmeasured;
                named |= (l | r) & Named;
                (valid, complexity, depth) = ((l & r & 1) != 0, (long)g.ComplexityOf(b.Op) + ComplexityIn(l) + ComplexityIn(r), 1 + Math.Max(DepthIn(l), DepthIn(r)));
                break;
            case Expr.Ema m:
                if (Measures(m.Arg, g, key, nesting) is var ea && ea == Unmeasured) return Unmeasured;
                named |= ea & Named;
                (valid, complexity, depth) = (g.Stateful.Ema && m.Beta > 0 && m.Beta < 1 && (ea & 1) != 0, (long)ComplexityIn(ea) + g.Stateful.Complexity, DepthIn(ea) + 1);
                break;
            case Expr.Lag lag:
                if (Measures(lag.Arg, g, key, nesting) is var la && la == Unmeasured) return Unmeasured;
                named |= la & Named;
                (valid, complexity, depth) = (g.Stateful.Lag && lag.Steps >= 1 && lag.Steps <= g.Stateful.MaxLag && (la & 1) != 0,
                    (long)ComplexityIn(la) + g.Stateful.Complexity, DepthIn(la) + 1);
                break;
            default:
                throw new InvalidOperationException("unknown node");
        }
        if (complexity is < 0 or >= ComplexityLimit || depth >= DepthLimit) return Unmeasured;
        ulong measures = key << 40 | (ulong)complexity << 18 | (ulong)depth << 2 | named | (valid ? 1UL : 0);
        e.MeasureCache = measures;
        return measures;
    }

    /// <summary>
    /// <see cref="Expr.Complexity"/> and <see cref="Expr.Depth"/> in one walk (every child the search makes is checked);
    /// false, with the measures left partial, as soon as a leaf or stateful node is invalid (an unknown feature, a
    /// non-finite constant, a disabled or out-of-range ema/lag).
    /// </summary>
    private static bool Shape(Expr e, Grammar g, out int complexity, out int depth)
    {
        switch (e)
        {
            case Expr.Var v:
                (complexity, depth) = (1, 1);
                return IsFeature(v.Name, g.Features);
            case Expr.Const c:
                (complexity, depth) = (g.Constants.Complexity, 1);
                return double.IsFinite(c.Value);
            case Expr.Unary u:
                if (!Shape(u.Arg, g, out complexity, out depth)) return false;
                (complexity, depth) = (complexity + g.ComplexityOf(u.Op), depth + 1);
                return true;
            case Expr.Binary b:
                if (!Shape(b.Left, g, out int left, out int leftDepth) || !Shape(b.Right, g, out int right, out int rightDepth))
                {
                    (complexity, depth) = (0, 0);
                    return false;
                }
                (complexity, depth) = (g.ComplexityOf(b.Op) + left + right, 1 + Math.Max(leftDepth, rightDepth));
                return true;
            case Expr.Ema m:
                if (!(g.Stateful.Ema && m.Beta > 0 && m.Beta < 1) || !Shape(m.Arg, g, out complexity, out depth))
                {
                    (complexity, depth) = (0, 0);
                    return false;
                }
                (complexity, depth) = (complexity + g.Stateful.Complexity, depth + 1);
                return true;
            case Expr.Lag l:
                if (!(g.Stateful.Lag && l.Steps >= 1 && l.Steps <= g.Stateful.MaxLag) || !Shape(l.Arg, g, out complexity, out depth))
                {
                    (complexity, depth) = (0, 0);
                    return false;
                }
                (complexity, depth) = (complexity + g.Stateful.Complexity, depth + 1);
                return true;
            default:
                throw new InvalidOperationException("unknown node");
        }
    }

    // Leaves the search grows hold the grammar's own name strings, so a reference match settles most of them
    // before any characters are compared.
    private static bool IsFeature(string name, ImmutableArray<string> features)
    {
        foreach (var f in features) if (ReferenceEquals(f, name)) return true;
        return features.Contains(name);
    }

    /// <summary>True when no node breaks a nesting rule (PySR's <c>nested_constraints</c>).</summary>
    public static bool NestingSatisfied(Expr e, Grammar g)
    {
        var nesting = NestingOf(g);
        if (nesting.Rules.Length == 0) return true;
        // Every child the search makes is checked, so the ancestor path is a per-thread buffer, not a new array.
        var path = t_path ??= new int[64];
        bool ok = Walk(e, nesting, (ulong)g.MeasureKey, ref path, 0);
        t_path = path; // keeps a grown buffer
        return ok;
    }

    private static bool Walk(Expr n, Nesting nesting, ulong measureKey, ref int[] path, int depth)
    {
        // No node below names a rule: nothing here can break one, whatever the ancestors.
        if (measureKey != 0 && n.MeasureCache is var kept && kept >> 40 == measureKey && (kept & Named) == 0) return true;
        int key = nesting.KeyOf(n);
        if (key >= 0)
        {
            if (!nesting.Allows(path, depth, key)) return false;
            if (depth == path.Length) Array.Resize(ref path, 2 * depth);
            path[depth++] = key;
        }
        return n switch
        {
            Expr.Binary b => Walk(b.Left, nesting, measureKey, ref path, depth) && Walk(b.Right, nesting, measureKey, ref path, depth),
            Expr.Unary u => Walk(u.Arg, nesting, measureKey, ref path, depth),
            Expr.Ema m => Walk(m.Arg, nesting, measureKey, ref path, depth),
            Expr.Lag l => Walk(l.Arg, nesting, measureKey, ref path, depth),
            _ => true,
        };
    }

    /// <summary>True when a node with nesting key <paramref name="key"/> may sit below the ancestors <paramref name="path"/> (root first).</summary>
    public static bool NestingAllows(Grammar g, IReadOnlyList<string> path, string key) => Allows(Rules(g), path, key);

    private static bool Allows(Rule[] rules, IReadOnlyList<string> path, string key)
    {
        foreach (var r in rules)
        {
            if (r.Inner != key) continue;
            for (int i = 0; i < path.Count; i++)
            {
                if (path[i] != r.Outer) continue;
                int count = 1;
                for (int j = i + 1; j < path.Count; j++) if (path[j] == r.Inner) count++;
                if (count > r.MaxCount) return false;
            }
        }
        return true;
    }
}
