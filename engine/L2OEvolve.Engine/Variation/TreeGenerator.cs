using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Variation;

/// <summary>Random trees drawn from a grammar, grown to a target node count (a PTC2-like sized generator).</summary>
/// <remarks>
/// <code>
/// grow(size, depthLeft, ancestors):
///   if size == 1 or depthLeft == 1: return a random leaf (constant with the grammar's probability, else a feature)
///   choose an operator by weight among those the nesting rules allow under ancestors (binary only if size ≥ 3)
///   unary-like (incl. ema, lag): op(grow(size-1))
///   binary: split size-1 uniformly into left ≥ 1 and right ≥ 1; op(grow(left), grow(right))
/// </code>
/// The size is a target: depth limits clamp the subtree sizes, and callers check <see cref="Constraints.Satisfied"/>.
/// </remarks>
public static class TreeGenerator
{
    private enum Kind { Unary, Binary, Ema, Lag }

    private readonly record struct Choice(Kind Kind, Op Op, string Key);

    /// <summary>A random leaf: a constant drawn uniformly from the grammar's range, or a feature.</summary>
    public static Expr Leaf(ref Rng rng, Grammar g)
    {
        if (g.Features.Length == 0 || rng.NextBool(g.Constants.Probability)) return Constant(ref rng, g);
        return new Expr.Var(g.Features[rng.NextInt(g.Features.Length)]);
    }

    /// <summary>A random constant leaf drawn uniformly from the grammar's constant range.</summary>
    public static Expr.Const Constant(ref Rng rng, Grammar g) =>
        new(g.Constants.Min + (g.Constants.Max - g.Constants.Min) * rng.NextDouble());

    /// <summary>A random feature leaf (a constant when the grammar has no features).</summary>
    public static Expr Feature(ref Rng rng, Grammar g) =>
        g.Features.Length == 0 ? Constant(ref rng, g) : new Expr.Var(g.Features[rng.NextInt(g.Features.Length)]);

    /// <summary>A tree of about <paramref name="targetSize"/> nodes, respecting depth and nesting rules on the way down.</summary>
    public static Expr Grow(ref Rng rng, Grammar g, int targetSize, int maxDepth) =>
        Grow(ref rng, g, targetSize, maxDepth, []);

    /// <summary>
    /// A tree whose root may sit below <paramref name="ancestors"/> (nesting keys, root first); used when a subtree
    /// is grown into an existing tree so that nesting rules see the context.
    /// </summary>
    public static Expr Grow(ref Rng rng, Grammar g, int targetSize, int maxDepth, IReadOnlyList<string> ancestors)
    {
        var path = new List<string>(ancestors);
        return GrowAt(ref rng, g, Math.Max(1, targetSize), Math.Max(1, maxDepth), path);
    }

    /// <summary>
    /// Ramped initialisation: a size drawn uniformly from [1, <paramref name="maxSize"/>], retried until the tree
    /// satisfies the grammar (falling back to a leaf after a few tries).
    /// </summary>
    public static Expr Ramped(ref Rng rng, Grammar g, int maxSize)
    {
        int cap = Math.Clamp(maxSize, 1, g.MaxSize);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var tree = Grow(ref rng, g, rng.NextInt(1, cap + 1), g.MaxDepth);
            if (Constraints.Satisfied(tree, g)) return tree;
        }
        return Leaf(ref rng, g);
    }

    private static Expr GrowAt(ref Rng rng, Grammar g, int size, int depthLeft, List<string> path)
    {
        if (size <= 1 || depthLeft <= 1) return Leaf(ref rng, g);
        // Which choices the nesting rules allow here, as flags on the stack (this runs at every inner node grown):
        // the grammar's operators in order, then ema, then lag; the pick walks them in the same order.
        var ops = g.Ops;
        int count = ops.Length;
        Span<bool> allowed = count + 2 <= 256 ? stackalloc bool[count + 2] : new bool[count + 2];
        int n = 0, last = -1;
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            var spec = ops[i];
            if (spec.Op.Arity == 2 && size < 3) continue;
            if (spec.Weight <= 0 || !Constraints.NestingAllows(g, path, spec.Op.Symbol)) continue;
            allowed[i] = true;
            total += spec.Weight;
            n++;
            last = i;
        }
        if (g.Stateful.Ema && Constraints.NestingAllows(g, path, "ema")) { allowed[count] = true; total += 1.0; n++; last = count; }
        if (g.Stateful.Lag && g.Stateful.MaxLag >= 1 && Constraints.NestingAllows(g, path, "lag")) { allowed[count + 1] = true; total += 1.0; n++; last = count + 1; }
        if (n == 0) return Leaf(ref rng, g);

        double pick = rng.NextDouble() * total;
        int picked = last;
        for (int i = 0; i < count + 2; i++)
        {
            if (!allowed[i]) continue;
            pick -= i < count ? ops[i].Weight : 1.0;
            if (pick < 0) { picked = i; break; }
        }
        var choice = picked < count
            ? new Choice(ops[picked].Op.Arity == 1 ? Kind.Unary : Kind.Binary, ops[picked].Op, ops[picked].Op.Symbol)
            : picked == count ? new Choice(Kind.Ema, null!, "ema") : new Choice(Kind.Lag, null!, "lag");

        path.Add(choice.Key);
        Expr result;
        switch (choice.Kind)
        {
            case Kind.Binary:
                int limit = MaxNodes(depthLeft - 1);
                int left = rng.NextInt(1, size - 1);
                int right = size - 1 - left;
                var l = GrowAt(ref rng, g, Math.Min(left, limit), depthLeft - 1, path);
                var r = GrowAt(ref rng, g, Math.Min(right, limit), depthLeft - 1, path);
                result = new Expr.Binary(choice.Op, l, r);
                break;
            case Kind.Unary:
                result = new Expr.Unary(choice.Op, GrowAt(ref rng, g, size - 1, depthLeft - 1, path));
                break;
            case Kind.Ema:
                result = new Expr.Ema(EmaBeta(ref rng, g), g.Stateful.EmaBiasCorrection, GrowAt(ref rng, g, size - 1, depthLeft - 1, path));
                break;
            default:
                result = new Expr.Lag(rng.NextInt(1, g.Stateful.MaxLag + 1), GrowAt(ref rng, g, size - 1, depthLeft - 1, path));
                break;
        }
        path.RemoveAt(path.Count - 1);
        return result;
    }

    /// <summary>A beta drawn uniformly from the grammar's ema range, kept strictly inside (0, 1).</summary>
    public static double EmaBeta(ref Rng rng, Grammar g)
    {
        double lo = Math.Clamp(g.Stateful.EmaBetaMin, 1e-6, 1 - 1e-6), hi = Math.Clamp(g.Stateful.EmaBetaMax, lo, 1 - 1e-6);
        return lo + (hi - lo) * rng.NextDouble();
    }

    private static int MaxNodes(int depth) => depth >= 30 ? int.MaxValue : (1 << depth) - 1;
}
