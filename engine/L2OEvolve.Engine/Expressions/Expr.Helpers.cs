using System.Collections.Immutable;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Expressions;

// Queries and path-copying edits on trees. Nodes are numbered in preorder (root = 0, then the children's subtrees
// left to right), the order PySR, the mutation operators and the constant vector all share.
public abstract partial record Expr
{
    /// <summary>Node count, as PySR counts complexity with unit weights: every constant, variable and operator is 1,
    /// and an <c>ema</c> or <c>lag</c> is one node (its beta or step count is part of the node, not a leaf).</summary>
    public int Size() => (int)(uint)Facts();

    /// <summary>Constant leaves and ema betas (the numbers a constant tuner moves), or -1 beyond 65,534.</summary>
    internal int TunableCount() => Counted(Facts() >> 32);

    /// <summary>Constant leaves, ema betas and lag steps (the numbers a mutation moves), or -1 beyond 65,534.</summary>
    internal int NumberCount() => Counted(Facts() >> 48);

    private const ulong Saturated = 0xFFFF;

    private static int Counted(ulong field) => (field & Saturated) is var n && n == Saturated ? -1 : (int)n;

    /// <summary>size | tunable numbers &lt;&lt; 32 | all numbers &lt;&lt; 48 of this subtree (counts saturated at
    /// 0xFFFF), from the children's cached facts: computed once per node.</summary>
    private ulong Facts()
    {
        ulong facts = _facts;
        if (facts == 0) _facts = facts = this switch
        {
            // A switch rather than Children: the search asks this constantly and Children allocates.
            Const => Pack(1, 1, 1),
            Unary u => Pack(1, 0, 0, u.Arg.Facts()),
            Binary b => Pack(1, 0, 0, b.Left.Facts(), b.Right.Facts()),
            Ema e => Pack(1, 1, 1, e.Arg.Facts()),
            Lag l => Pack(1, 0, 1, l.Arg.Facts()),
            _ => Pack(1, 0, 0),
        };
        return facts;
    }

    /// <summary>Feature leaves in this subtree, or -1 beyond 65,534.</summary>
    internal int FeatureCount() => Counted(Kinds());

    /// <summary>Constant leaves in this subtree, or -1 beyond 65,534.</summary>
    internal int ConstantCount() => Counted(Kinds() >> 16);

    /// <summary>Binary operator nodes in this subtree, or -1 beyond 65,534.</summary>
    internal int BinaryCount() => Counted(Kinds() >> 32);

    /// <summary>Numbers a constant mutation can move (constants, ema betas, lag steps above 1), or -1 beyond 65,534.</summary>
    internal int MovableCount() => Counted(Kinds() >> 48);

    /// <summary>features | constants &lt;&lt; 16 | binary nodes &lt;&lt; 32 | movable numbers &lt;&lt; 48 of this subtree (each
    /// saturated at 0xFFFF; never 0, as every subtree has a leaf), from the children's: computed once per node.</summary>
    private ulong Kinds()
    {
        ulong kinds = _kinds;
        if (kinds == 0) _kinds = kinds = this switch
        {
            Var => 1,
            Const => 1UL << 16 | 1UL << 48,
            Unary u => u.Arg.Kinds(),
            Binary b => AddLanes(AddLanes(b.Left.Kinds(), b.Right.Kinds()), 1UL << 32),
            Ema e => AddLanes(e.Arg.Kinds(), 1UL << 48),
            Lag l => AddLanes(l.Arg.Kinds(), l.Steps > 1 ? 1UL << 48 : 0),
            _ => throw new InvalidOperationException("unknown node"),
        };
        return kinds;
    }

    // Four 16-bit counts added lane by lane, each saturating at 0xFFFF.
    private static ulong AddLanes(ulong a, ulong b)
    {
        ulong sum = 0;
        for (int shift = 0; shift < 64; shift += 16)
            sum |= Math.Min((a >> shift & Saturated) + (b >> shift & Saturated), Saturated) << shift;
        return sum;
    }

    private static ulong Pack(ulong size, ulong tunable, ulong numbers, ulong a = 0, ulong b = 0)
    {
        size += (uint)a + (ulong)(uint)b;
        tunable += (a >> 32 & Saturated) + (b >> 32 & Saturated);
        numbers += (a >> 48) + (b >> 48);
        if (size > int.MaxValue) throw new InvalidOperationException("tree of more than 2^31 nodes");
        return size | Math.Min(tunable, Saturated) << 32 | Math.Min(numbers, Saturated) << 48;
    }

    /// <summary>Complexity under a grammar's weights: each operator's weight, the constant weight for constants,
    /// 1 per variable and the stateful weight per <c>ema</c>/<c>lag</c>.</summary>
    public int Complexity(Grammar grammar) => this switch
    {
        Const => grammar.Constants.Complexity,
        Var => 1,
        Unary u => grammar.ComplexityOf(u.Op) + u.Arg.Complexity(grammar),
        Binary b => grammar.ComplexityOf(b.Op) + b.Left.Complexity(grammar) + b.Right.Complexity(grammar),
        Ema e => grammar.Stateful.Complexity + e.Arg.Complexity(grammar),
        Lag l => grammar.Stateful.Complexity + l.Arg.Complexity(grammar),
        _ => throw new InvalidOperationException("unknown node"),
    };

    /// <summary>Levels on the longest root-to-leaf path; a single leaf has depth 1 (as PySR's maxdepth).</summary>
    public int Depth() => this switch
    {
        Unary u => 1 + u.Arg.Depth(),
        Binary b => 1 + Math.Max(b.Left.Depth(), b.Right.Depth()),
        Ema e => 1 + e.Arg.Depth(),
        Lag l => 1 + l.Arg.Depth(),
        _ => 1,
    };

    /// <summary>
    /// Deepest tree read from outside (an equation, a rule file, a checkpoint). The printers, the compiler and the
    /// simplifier walk trees recursively, so a deeper one (a flat sum of 10,000 terms is 10,000 levels deep, since
    /// binary operators nest to the left) would overflow the stack. At this depth every walk fits in 1 MiB of stack
    /// (less than a .NET worker thread has), and no grammar can ask for more (maxdepth ≤ 1000).
    /// </summary>
    public const int MaxDepth = 1000;

    /// <summary>Whether the tree is deeper than <paramref name="limit"/>, found without recursion (safe on any tree).</summary>
    public bool DeeperThan(int limit)
    {
        var pending = new Stack<(Expr Node, int Depth)>();
        pending.Push((this, 1));
        while (pending.Count > 0)
        {
            var (node, depth) = pending.Pop();
            if (depth > limit) return true;
            switch (node)
            {
                case Unary u: pending.Push((u.Arg, depth + 1)); break;
                case Binary b: pending.Push((b.Left, depth + 1)); pending.Push((b.Right, depth + 1)); break;
                case Ema e: pending.Push((e.Arg, depth + 1)); break;
                case Lag l: pending.Push((l.Arg, depth + 1)); break;
            }
        }
        return false;
    }

    /// <summary>This node with its children replaced, or this very instance when every child is unchanged.</summary>
    public Expr WithChildren(ReadOnlySpan<Expr> children) => this switch
    {
        Unary u when !ReferenceEquals(u.Arg, children[0]) => u with { Arg = children[0] },
        Binary b when !ReferenceEquals(b.Left, children[0]) || !ReferenceEquals(b.Right, children[1])
            => b with { Left = children[0], Right = children[1] },
        Ema e when !ReferenceEquals(e.Arg, children[0]) => e with { Arg = children[0] },
        Lag l when !ReferenceEquals(l.Arg, children[0]) => l with { Arg = children[0] },
        _ => this,
    };

    /// <summary>The node at preorder position <paramref name="index"/> (0 = this root).</summary>
    public Expr NodeAt(int index)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, "negative node index");
        var node = this;
        // Switches rather than Children: mutations call this for every child and Children allocates.
        while (index > 0)
        {
            index--; // step past the current node into its children
            switch (node)
            {
                case Binary b:
                    int left = b.Left.Size();
                    (node, index) = index < left ? (b.Left, index) : (b.Right, index - left);
                    break;
                case Unary u: node = u.Arg; break;
                case Ema e: node = e.Arg; break;
                case Lag l: node = l.Arg; break;
                default: throw new ArgumentOutOfRangeException(nameof(index), "past the last node");
            }
        }
        return node;
    }

    /// <summary>
    /// A tree with the node at preorder <paramref name="index"/> replaced by <paramref name="replacement"/>. Only the
    /// nodes on the root path are rebuilt; every other subtree is shared. Returns this instance when the node at
    /// <paramref name="index"/> already is <paramref name="replacement"/>.
    /// </summary>
    public Expr ReplaceAt(int index, Expr replacement)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, "negative node index");
        if (index == 0) return replacement;
        switch (this)
        {
            case Binary b:
                int left = b.Left.Size();
                if (index - 1 < left)
                {
                    var edited = b.Left.ReplaceAt(index - 1, replacement);
                    return ReferenceEquals(edited, b.Left) ? this : b with { Left = edited };
                }
                else
                {
                    var edited = b.Right.ReplaceAt(index - 1 - left, replacement);
                    return ReferenceEquals(edited, b.Right) ? this : b with { Right = edited };
                }
            case Unary u:
                var arg = u.Arg.ReplaceAt(index - 1, replacement);
                return ReferenceEquals(arg, u.Arg) ? this : u with { Arg = arg };
            case Ema e:
                var ema = e.Arg.ReplaceAt(index - 1, replacement);
                return ReferenceEquals(ema, e.Arg) ? this : e with { Arg = ema };
            case Lag l:
                var lag = l.Arg.ReplaceAt(index - 1, replacement);
                return ReferenceEquals(lag, l.Arg) ? this : l with { Arg = lag };
            default:
                throw new ArgumentOutOfRangeException(nameof(index), index, "past the last node");
        }
    }

    /// <summary>Bottom-up rewrite: children first, then <paramref name="f"/> on the rebuilt node. Unchanged subtrees
    /// (where <paramref name="f"/> returns its argument) keep their identity.</summary>
    public Expr Map(Func<Expr, Expr> f)
    {
        var children = Children;
        if (children.IsEmpty) return f(this);
        Span<Expr> mapped = new Expr[children.Length];
        for (int i = 0; i < children.Length; i++) mapped[i] = children[i].Map(f);
        return f(WithChildren(mapped));
    }

    /// <summary>Bottom-up reduction: <paramref name="f"/> receives each node and its children's results in order.</summary>
    public T Fold<T>(Func<Expr, IReadOnlyList<T>, T> f)
    {
        var children = Children;
        var results = new T[children.Length];
        for (int i = 0; i < children.Length; i++) results[i] = children[i].Fold(f);
        return f(this, results);
    }

    /// <summary>Every node in preorder.</summary>
    public IEnumerable<Expr> Preorder()
    {
        var stack = new Stack<Expr>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            yield return node;
            var children = node.Children;
            for (int i = children.Length - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    /// <summary>The distinct variable names, in order of first appearance (preorder).</summary>
    public ImmutableArray<string> Variables()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = ImmutableArray.CreateBuilder<string>();
        foreach (var node in Preorder())
            if (node is Var v && seen.Add(v.Name)) names.Add(v.Name);
        return names.ToImmutable();
    }

    /// <summary>The values of the constant leaves in preorder; with <paramref name="includeBetas"/>, each ema's beta
    /// too, at the ema's preorder position (meta-tuning adjusts both). Lag steps are never included.</summary>
    public ImmutableArray<double> Constants(bool includeBetas = false)
    {
        var values = ImmutableArray.CreateBuilder<double>();
        foreach (var node in Preorder())
        {
            if (node is Const c) values.Add(c.Value);
            else if (includeBetas && node is Ema e) values.Add(e.Beta);
        }
        return values.ToImmutable();
    }

    /// <summary>This tree with its constants set, in the order of <see cref="Constants"/>, to <paramref name="values"/>.
    /// Subtrees without constants are shared, and a node whose value is bit-identical is kept.</summary>
    public Expr WithConstants(ReadOnlySpan<double> values, bool includeBetas = false)
    {
        int next = 0;
        var result = SetConstants(values, includeBetas, ref next);
        if (next != values.Length)
            throw new ArgumentException($"tree has {next} constants but {values.Length} values were given", nameof(values));
        return result;
    }

    private Expr SetConstants(ReadOnlySpan<double> values, bool includeBetas, ref int next)
    {
        switch (this)
        {
            case Const c:
                double v = Take(values, ref next);
                return SameBits(v, c.Value) ? c : new Const(v);
            case Var:
                return this;
            case Ema e when includeBetas:
                double beta = Take(values, ref next);
                var arg = e.Arg.SetConstants(values, includeBetas, ref next);
                return SameBits(beta, e.Beta) && ReferenceEquals(arg, e.Arg) ? e : e with { Beta = beta, Arg = arg };
            default:
                var children = Children;
                Span<Expr> updated = new Expr[children.Length];
                for (int i = 0; i < children.Length; i++) updated[i] = children[i].SetConstants(values, includeBetas, ref next);
                return WithChildren(updated);
        }
    }

    private static double Take(ReadOnlySpan<double> values, ref int next) =>
        next < values.Length ? values[next++] : throw new ArgumentException($"too few constant values ({values.Length})", nameof(values));

    private static bool SameBits(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    /// <summary>The infix form (see <see cref="Infix"/>), which <see cref="Infix.Parse"/> reads back exactly.</summary>
    public sealed override string ToString() => Infix.Print(this);
}
