using System.Runtime.CompilerServices;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Variation;

/// <summary>The grammar's structural limits: complexity, depth, nesting rules, allowed leaves and stateful ranges.</summary>
public static class Constraints
{
    private sealed record Rule(string Outer, string Inner, int MaxCount);

    // A pure memo of each grammar's normalised nesting rules (grammars are immutable, so it can never go stale).
    private static readonly ConditionalWeakTable<Grammar, Rule[]> RuleCache = new();

    private static Rule[] Rules(Grammar g) => RuleCache.GetValue(g, static gr =>
        gr.Nesting.IsDefault ? [] : gr.Nesting.Select(r => new Rule(Trees.NormaliseKey(r.Outer), Trees.NormaliseKey(r.Inner), r.MaxCount)).ToArray());

    [ThreadStatic] private static List<string>? t_path;

    /// <summary>True when <paramref name="e"/> respects every limit of <paramref name="g"/>.</summary>
    public static bool Satisfied(Expr e, Grammar g) =>
        Shape(e, g, out int complexity, out int depth) && complexity <= g.MaxSize && depth <= g.MaxDepth && NestingSatisfied(e, g);

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
                return g.Features.Contains(v.Name);
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

    /// <summary>True when no node breaks a nesting rule (PySR's <c>nested_constraints</c>).</summary>
    public static bool NestingSatisfied(Expr e, Grammar g)
    {
        var rules = Rules(g);
        if (rules.Length == 0) return true;
        // Every child the search makes is checked, so the ancestor path is a per-thread buffer, not a new list.
        var path = t_path ??= new List<string>();
        path.Clear();
        return Walk(e);

        bool Walk(Expr n)
        {
            var key = Trees.NestingKey(n);
            if (key is null) return true;
            if (!Allows(rules, path, key)) return false;
            path.Add(key);
            bool ok = n switch
            {
                Expr.Binary b => Walk(b.Left) && Walk(b.Right),
                Expr.Unary u => Walk(u.Arg),
                Expr.Ema m => Walk(m.Arg),
                Expr.Lag l => Walk(l.Arg),
                _ => true,
            };
            path.RemoveAt(path.Count - 1);
            return ok;
        }
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
