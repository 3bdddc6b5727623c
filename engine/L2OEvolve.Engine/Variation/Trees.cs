using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Variation;

/// <summary>Positional views of an expression tree used by the variation operators: preorder indexing and path rebuilds.</summary>
/// <remarks>
/// Nodes are numbered in preorder (root = 0, then the first child's subtree, then the second's). Trees carry no
/// parent pointers, so <see cref="ReplaceAt"/> walks down by subtree sizes and rebuilds only the path it passed.
/// </remarks>
public static class Trees
{
    /// <summary>Number of nodes.</summary>
    public static int Size(Expr e) => e switch
    {
        Expr.Unary u => 1 + Size(u.Arg),
        Expr.Binary b => 1 + Size(b.Left) + Size(b.Right),
        Expr.Ema m => 1 + Size(m.Arg),
        Expr.Lag l => 1 + Size(l.Arg),
        _ => 1,
    };

    /// <summary>Depth, counting a lone leaf as 1.</summary>
    public static int Depth(Expr e) => e switch
    {
        Expr.Unary u => 1 + Depth(u.Arg),
        Expr.Binary b => 1 + Math.Max(Depth(b.Left), Depth(b.Right)),
        Expr.Ema m => 1 + Depth(m.Arg),
        Expr.Lag l => 1 + Depth(l.Arg),
        _ => 1,
    };

    /// <summary>PySR's complexity: the sum of per-node weights from the grammar (1 for variables).</summary>
    public static int Complexity(Expr e, Grammar g) => e switch
    {
        Expr.Const => g.Constants.Complexity,
        Expr.Var => 1,
        Expr.Unary u => g.ComplexityOf(u.Op) + Complexity(u.Arg, g),
        Expr.Binary b => g.ComplexityOf(b.Op) + Complexity(b.Left, g) + Complexity(b.Right, g),
        Expr.Ema m => g.Stateful.Complexity + Complexity(m.Arg, g),
        Expr.Lag l => g.Stateful.Complexity + Complexity(l.Arg, g),
        _ => 1,
    };

    /// <summary>Number of constant leaves (ema betas are not counted: they are tuned by their own mutation).</summary>
    public static int ConstantCount(Expr e) => e switch
    {
        Expr.Const => 1,
        Expr.Unary u => ConstantCount(u.Arg),
        Expr.Binary b => ConstantCount(b.Left) + ConstantCount(b.Right),
        Expr.Ema m => ConstantCount(m.Arg),
        Expr.Lag l => ConstantCount(l.Arg),
        _ => 0,
    };

    /// <summary>The subtree rooted at preorder position <paramref name="index"/>.</summary>
    public static Expr NodeAt(Expr e, int index)
    {
        while (true)
        {
            if (index == 0) return e;
            index--;
            switch (e)
            {
                case Expr.Binary b:
                    int left = Size(b.Left);
                    if (index < left) e = b.Left;
                    else { index -= left; e = b.Right; }
                    break;
                case Expr.Unary u: e = u.Arg; break;
                case Expr.Ema m: e = m.Arg; break;
                case Expr.Lag l: e = l.Arg; break;
                default: throw new ArgumentOutOfRangeException(nameof(index), "past the end of the tree");
            }
        }
    }

    /// <summary>A copy of <paramref name="e"/> with the subtree at preorder <paramref name="index"/> replaced; other subtrees are shared.</summary>
    public static Expr ReplaceAt(Expr e, int index, Expr replacement)
    {
        if (index == 0) return replacement;
        int i = index - 1;
        return e switch
        {
            Expr.Binary b when i < Size(b.Left) => b with { Left = ReplaceAt(b.Left, i, replacement) },
            Expr.Binary b => b with { Right = ReplaceAt(b.Right, i - Size(b.Left), replacement) },
            Expr.Unary u => u with { Arg = ReplaceAt(u.Arg, i, replacement) },
            Expr.Ema m => m with { Arg = ReplaceAt(m.Arg, i, replacement) },
            Expr.Lag l => l with { Arg = ReplaceAt(l.Arg, i, replacement) },
            _ => throw new ArgumentOutOfRangeException(nameof(index), "past the end of the tree"),
        };
    }

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
    public static string? NestingKey(Expr e) => e switch
    {
        Expr.Unary u => u.Op.Info().Symbol,
        Expr.Binary b => b.Op.Info().Symbol,
        Expr.Ema => "ema",
        Expr.Lag => "lag",
        _ => null,
    };

    /// <summary>Normalises a nesting-rule name (operator symbol, PySR name or enum name) to the key of <see cref="NestingKey"/>.</summary>
    public static string NormaliseKey(string name) =>
        Ops.TryParse(name, out var op) ? op.Info().Symbol : name.Trim().ToLowerInvariant();
}
