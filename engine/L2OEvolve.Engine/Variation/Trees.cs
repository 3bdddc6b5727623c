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
    public static int Complexity(Expr e, Grammar g) => e.Complexity(g);

    /// <summary>Numbers a constant tuner may move: constant leaves and ema betas.</summary>
    public static int TunableCount(Expr e) => e.Constants(includeBetas: true).Length;

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

    /// <summary>The key nesting rules use for a node: the operator symbol, <c>ema</c>, <c>lag</c>, or null for leaves.</summary>
    public static string? NestingKey(Expr e) => Grammar.NestingName(e);

    /// <summary>Normalises a nesting-rule name (operator symbol, PySR name or enum name) to the key of <see cref="NestingKey"/>.</summary>
    public static string NormaliseKey(string name) =>
        Ops.TryParse(name, out var op) ? op.Info().Symbol : name.Trim().ToLowerInvariant();
}
