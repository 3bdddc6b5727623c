using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Variation;

/// <summary>The positional views of a tree the variation operators use, in preorder (root = 0), over <see cref="Expr"/>'s own helpers.</summary>
public static class Trees
{
    /// <summary>Number of nodes (see <see cref="Expr.Size"/>).</summary>
    public static int Size(Expr e) => e.Size();

    /// <summary>Depth, counting a lone leaf as 1.</summary>
    public static int Depth(Expr e) => e.Depth();

    /// <summary>PySR's complexity: the sum of per-node weights from the grammar (1 for variables).</summary>
    public static int Complexity(Expr e, Grammar g) => Constraints.Complexity(e, g);

    /// <summary>Numbers a constant tuner may move: constant leaves and ema betas.</summary>
    public static int TunableCount(Expr e) => e.TunableCount() is var n and >= 0 ? n : Numbers(e, lags: false);

    /// <summary>Every number a mutation can move: constant leaves, ema betas and lag steps.</summary>
    public static int NumberCount(Expr e) => e.NumberCount() is var n and >= 0 ? n : Numbers(e, lags: true);

    // The count by walking, for trees with more numbers than a node's cached facts hold.
    private static int Numbers(Expr e, bool lags) => e switch
    {
        Expr.Const => 1,
        Expr.Binary b => Numbers(b.Left, lags) + Numbers(b.Right, lags),
        Expr.Unary u => Numbers(u.Arg, lags),
        Expr.Ema m => 1 + Numbers(m.Arg, lags),
        Expr.Lag l => (lags ? 1 : 0) + Numbers(l.Arg, lags),
        _ => 0,
    };

    /// <summary>The subtree rooted at preorder position <paramref name="index"/>.</summary>
    public static Expr NodeAt(Expr e, int index) => e.NodeAt(index);

    /// <summary>A copy of <paramref name="e"/> with the subtree at preorder <paramref name="index"/> replaced; other subtrees are shared.</summary>
    public static Expr ReplaceAt(Expr e, int index, Expr replacement) => e.ReplaceAt(index, replacement);

    /// <summary>Preorder positions of the nodes satisfying <paramref name="predicate"/>.</summary>
    public static List<int> Positions(Expr e, Func<Expr, bool> predicate)
    {
        var found = new List<int>();
        int next = 0;
        Walk(e);
        return found;

        void Walk(Expr n)
        {
            if (predicate(n)) found.Add(next);
            next++;
            foreach (var c in n.Children) Walk(c);
        }
    }

    /// <summary>How many nodes satisfy <paramref name="predicate"/> (the length of <see cref="Positions"/>, without the list).</summary>
    public static int Count(Expr e, Func<Expr, bool> predicate)
    {
        int count = predicate(e) ? 1 : 0;
        switch (e)
        {
            case Expr.Binary b: return count + Count(b.Left, predicate) + Count(b.Right, predicate);
            case Expr.Unary u: return count + Count(u.Arg, predicate);
            case Expr.Ema m: return count + Count(m.Arg, predicate);
            case Expr.Lag l: return count + Count(l.Arg, predicate);
            default: return count;
        }
    }

    /// <summary>
    /// The preorder position of the <paramref name="n"/>-th node (from 0) satisfying <paramref name="predicate"/>,
    /// i.e. <c>Positions(e, predicate)[n]</c> without the list; -1 when there are not that many.
    /// </summary>
    public static int NthPosition(Expr e, Func<Expr, bool> predicate, int n)
    {
        int position = 0;
        return Find(e, ref n, ref position) ? position : -1;

        bool Find(Expr node, ref int remaining, ref int at)
        {
            if (predicate(node) && remaining-- == 0) return true;
            at++;
            switch (node)
            {
                case Expr.Binary b: return Find(b.Left, ref remaining, ref at) || Find(b.Right, ref remaining, ref at);
                case Expr.Unary u: return Find(u.Arg, ref remaining, ref at);
                case Expr.Ema m: return Find(m.Arg, ref remaining, ref at);
                case Expr.Lag l: return Find(l.Arg, ref remaining, ref at);
                default: return false;
            }
        }
    }

    /// <summary>
    /// The preorder position of a node drawn uniformly among those satisfying <paramref name="predicate"/> (one
    /// <c>NextInt(count)</c> draw, as indexing <see cref="Positions"/> would), or -1 without a draw when none does.
    /// </summary>
    public static int RandomPosition(ref L2OEvolve.Engine.Random.Rng rng, Expr e, Func<Expr, bool> predicate)
    {
        int count = Count(e, predicate);
        return count == 0 ? -1 : NthPosition(e, predicate, rng.NextInt(count));
    }

    /// <summary>A node test the JIT can inline into a walk (a predicate as a type rather than a delegate).</summary>
    internal interface INodeTest
    {
        /// <summary>True when <paramref name="n"/> is one of the nodes sought.</summary>
        static abstract bool Test(Expr n);

        /// <summary>How many nodes of <paramref name="e"/> pass the test, from the facts its nodes keep; -1 when
        /// they do not hold it (counts too large).</summary>
        static abstract int CountIn(Expr e);
    }

    /// <summary>
    /// <see cref="RandomPosition(ref L2OEvolve.Engine.Random.Rng, Expr, Func{Expr, bool})"/> with the test as a type: the
    /// same count, the same single draw, the same position; the mutations call it for every child they make. With
    /// the counts every node keeps, it goes down one path instead of walking the tree twice.
    /// </summary>
    internal static int RandomPosition<T>(ref L2OEvolve.Engine.Random.Rng rng, Expr e) where T : INodeTest
    {
        int count = T.CountIn(e);
        if (count < 0)
        {
            // Counts too large for the nodes to hold: walk.
            count = Count<T>(e);
            if (count == 0) return -1;
            int nth = rng.NextInt(count), position = 0;
            return Find<T>(e, ref nth, ref position) ? position : -1;
        }
        return count == 0 ? -1 : PositionOf<T>(e, rng.NextInt(count));
    }

    /// <summary>The preorder position of the <paramref name="n"/>-th node passing the test, going down by the kept counts
    /// (which every subtree of a node that holds them holds too).</summary>
    private static int PositionOf<T>(Expr node, int n) where T : INodeTest
    {
        int at = 0;
        while (true)
        {
            if (T.Test(node) && n-- == 0) return at;
            at++;
            switch (node)
            {
                case Expr.Binary b:
                    int inLeft = T.CountIn(b.Left);
                    if (n < inLeft) node = b.Left;
                    else { n -= inLeft; at += b.Left.Size(); node = b.Right; }
                    break;
                case Expr.Unary u: node = u.Arg; break;
                case Expr.Ema m: node = m.Arg; break;
                case Expr.Lag l: node = l.Arg; break;
                default: return -1; // past the last match: the counts were wrong
            }
        }
    }

    private static int Count<T>(Expr e) where T : INodeTest
    {
        int count = T.Test(e) ? 1 : 0;
        switch (e)
        {
            case Expr.Binary b: return count + Count<T>(b.Left) + Count<T>(b.Right);
            case Expr.Unary u: return count + Count<T>(u.Arg);
            case Expr.Ema m: return count + Count<T>(m.Arg);
            case Expr.Lag l: return count + Count<T>(l.Arg);
            default: return count;
        }
    }

    private static bool Find<T>(Expr node, ref int remaining, ref int at) where T : INodeTest
    {
        if (T.Test(node) && remaining-- == 0) return true;
        at++;
        switch (node)
        {
            case Expr.Binary b: return Find<T>(b.Left, ref remaining, ref at) || Find<T>(b.Right, ref remaining, ref at);
            case Expr.Unary u: return Find<T>(u.Arg, ref remaining, ref at);
            case Expr.Ema m: return Find<T>(m.Arg, ref remaining, ref at);
            case Expr.Lag l: return Find<T>(l.Arg, ref remaining, ref at);
            default: return false;
        }
    }

    /// <summary>The key nesting rules use for a node: the operator symbol, <c>ema</c>, <c>lag</c>, or null for leaves.</summary>
    public static string? NestingKey(Expr e) => Grammar.NestingName(e);

    /// <summary>Normalises a nesting-rule name (operator symbol, PySR name or enum name) to the key of <see cref="NestingKey"/>.</summary>
    public static string NormaliseKey(string name) =>
        Ops.TryParse(name, out var op) ? op.Symbol : name.Trim().ToLowerInvariant();
}
