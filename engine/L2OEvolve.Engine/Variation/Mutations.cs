using System.Runtime.CompilerServices;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Variation;

/// <summary>
/// Tree mutations as pure functions (Operon's signature: explicit RNG first, value in, value out). Each returns a new
/// tree sharing every untouched subtree with its input, or the input itself when the tree has no suitable node.
/// Results may break the grammar's size or nesting limits; the caller checks <see cref="Constraints.Satisfied"/>.
/// </summary>
public static class Mutations
{
    /// <summary>Applies the mutation <paramref name="kind"/>; <paramref name="simplify"/> serves <see cref="MutationKind.Simplify"/>.</summary>
    public static Expr Apply(ref Rng rng, MutationKind kind, Expr e, Grammar g, double temperature, Func<Expr, Expr>? simplify) => kind switch
    {
        MutationKind.MutateConstant => MutateConstant(ref rng, e, temperature),
        MutationKind.MutateOperator => MutateOperator(ref rng, e, g),
        MutationKind.MutateFeature => MutateFeature(ref rng, e, g),
        MutationKind.SwapOperands => SwapOperands(ref rng, e),
        MutationKind.InsertNode => InsertNode(ref rng, e, g),
        MutationKind.DeleteNode => DeleteNode(ref rng, e),
        MutationKind.ReplaceSubtree => ReplaceSubtree(ref rng, e, g),
        MutationKind.Hoist => Hoist(ref rng, e),
        MutationKind.Simplify => simplify is null ? e : simplify(e),
        _ => e,
    };

    /// <summary>
    /// Jitters one tunable number: a constant is multiplied or divided by up to (1 + temperature) and negated with
    /// probability 1/20 (SR.jl's scheme); an ema's beta moves on the logit scale; a lag steps by one.
    /// </summary>
    public static Expr MutateConstant(ref Rng rng, Expr e, double temperature)
    {
        int p = Trees.RandomPosition<MovableNumber>(ref rng, e);
        if (p < 0) return e;
        Expr node = Trees.NodeAt(e, p);
        Expr replaced = node switch
        {
            Expr.Const c => new Expr.Const(Jitter(ref rng, c.Value, temperature)),
            Expr.Ema m => m with { Beta = Logistic(Logit(m.Beta) + 0.5 * temperature * rng.NextGaussian()) },
            Expr.Lag l => l with { Steps = rng.NextBool() ? l.Steps + 1 : l.Steps - 1 },
            _ => node,
        };
        return Trees.ReplaceAt(e, p, replaced);
    }

    private static double Jitter(ref Rng rng, double value, double temperature)
    {
        // Multiplicative steps cannot leave zero, so a zero constant gets an additive kick instead.
        if (Math.Abs(value) < 1e-12) return (rng.NextDouble() - 0.5) * temperature;
        double factor = Math.Pow(1.0 + Math.Max(temperature, 1e-3), rng.NextDouble());
        double v = rng.NextBool() ? value * factor : value / factor;
        return rng.NextBool(0.05) ? -v : v;
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    private static double Logistic(double x) => Math.Clamp(1.0 / (1.0 + Math.Exp(-x)), 1e-6, 1 - 1e-6);

    /// <summary>Replaces one operator with another of the same arity from the grammar.</summary>
    public static Expr MutateOperator(ref Rng rng, Expr e, Grammar g)
    {
        int p = Trees.RandomPosition<OperatorNode>(ref rng, e);
        if (p < 0) return e;
        var node = Trees.NodeAt(e, p);
        Op current = node is Expr.Unary u ? u.Op : ((Expr.Binary)node).Op;
        var options = OpsOf(g, current.Arity);
        int others = 0;
        foreach (var o in options) if (IsAlternative(o, current)) others++;
        if (others == 0) return e;
        Op next = PickWeighted(ref rng, options, current).Op;
        return Trees.ReplaceAt(e, p, node is Expr.Unary un ? un with { Op = next } : ((Expr.Binary)node) with { Op = next });
    }

    /// <summary>Replaces one feature leaf with another feature.</summary>
    public static Expr MutateFeature(ref Rng rng, Expr e, Grammar g)
    {
        if (g.Features.Length < 2) return e;
        int p = Trees.RandomPosition<FeatureLeaf>(ref rng, e);
        if (p < 0) return e;
        var current = ((Expr.Var)Trees.NodeAt(e, p)).Name;
        string next = g.Features[rng.NextInt(g.Features.Length - 1)];
        if (next == current) next = g.Features[^1];
        return Trees.ReplaceAt(e, p, new Expr.Var(next));
    }

    /// <summary>Swaps the operands of one binary node.</summary>
    public static Expr SwapOperands(ref Rng rng, Expr e)
    {
        int p = Trees.RandomPosition<BinaryNode>(ref rng, e);
        if (p < 0) return e;
        var b = (Expr.Binary)Trees.NodeAt(e, p);
        return Trees.ReplaceAt(e, p, b with { Left = b.Right, Right = b.Left });
    }

    /// <summary>Wraps one node in a new operator: unary <c>op(n)</c>, stateful <c>ema(β, n)</c>/<c>lag(k, n)</c>, or binary with a new leaf on a random side.</summary>
    public static Expr InsertNode(ref Rng rng, Expr e, Grammar g)
    {
        int p = rng.NextInt(Trees.Size(e));
        var node = Trees.NodeAt(e, p);
        int unary = OpsOf(g, 1).Length, binary = OpsOf(g, 2).Length;
        int stateful = (g.Stateful.Ema ? 1 : 0) + (g.Stateful.Lag && g.Stateful.MaxLag >= 1 ? 1 : 0);
        int total = unary + binary + stateful;
        if (total == 0) return e;
        int pick = rng.NextInt(total);
        Expr wrapped;
        if (pick < binary)
        {
            Op op = PickWeighted(ref rng, OpsOf(g, 2)).Op;
            var leaf = TreeGenerator.Leaf(ref rng, g);
            wrapped = rng.NextBool() ? new Expr.Binary(op, node, leaf) : new Expr.Binary(op, leaf, node);
        }
        else if (pick < binary + unary)
        {
            wrapped = new Expr.Unary(PickWeighted(ref rng, OpsOf(g, 1)).Op, node);
        }
        else if (g.Stateful.Ema && (pick == binary + unary || !g.Stateful.Lag))
        {
            wrapped = new Expr.Ema(TreeGenerator.EmaBeta(ref rng, g), g.Stateful.EmaBiasCorrection, node);
        }
        else
        {
            wrapped = new Expr.Lag(rng.NextInt(1, g.Stateful.MaxLag + 1), node);
        }
        return Trees.ReplaceAt(e, p, wrapped);
    }

    /// <summary>Replaces one operator node by one of its children.</summary>
    public static Expr DeleteNode(ref Rng rng, Expr e)
    {
        int p = Trees.RandomPosition<InnerNode>(ref rng, e);
        if (p < 0) return e;
        var children = Trees.NodeAt(e, p).Children;
        return Trees.ReplaceAt(e, p, children[rng.NextInt(children.Length)]);
    }

    /// <summary>Replaces one subtree with a fresh random tree that keeps the whole within the grammar's size.</summary>
    public static Expr ReplaceSubtree(ref Rng rng, Expr e, Grammar g)
    {
        int p = rng.NextInt(Trees.Size(e));
        var old = Trees.NodeAt(e, p);
        int room = g.MaxSize - (Trees.Complexity(e, g) - Trees.Complexity(old, g));
        int size = rng.NextInt(1, Math.Clamp(room, 1, 7) + 1);
        return Trees.ReplaceAt(e, p, TreeGenerator.Grow(ref rng, g, size, g.MaxDepth));
    }

    /// <summary>Hoist: replaces one operator node by a random proper descendant of it, shrinking the tree.</summary>
    public static Expr Hoist(ref Rng rng, Expr e)
    {
        int p = Trees.RandomPosition<InnerNode>(ref rng, e);
        if (p < 0) return e;
        var node = Trees.NodeAt(e, p);
        var descendant = Trees.NodeAt(node, rng.NextInt(1, Trees.Size(node)));
        return Trees.ReplaceAt(e, p, descendant);
    }

    // The nodes each mutation picks among (as types, so walks inline the test), counted from the facts nodes keep:
    // numbers = constants + emas + lags, so operators = size − features − numbers and inner nodes = size − leaves.
    internal readonly struct MovableNumber : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is Expr.Const or Expr.Ema or Expr.Lag { Steps: > 1 };
        public static int CountIn(Expr e) => e.MovableCount();
    }

    internal readonly struct OperatorNode : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is Expr.Unary or Expr.Binary;
        public static int CountIn(Expr e) => e.FeatureCount() is var f and >= 0 && e.NumberCount() is var k and >= 0 ? e.Size() - f - k : -1;
    }

    internal readonly struct FeatureLeaf : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is Expr.Var;
        public static int CountIn(Expr e) => e.FeatureCount();
    }

    internal readonly struct BinaryNode : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is Expr.Binary;
        public static int CountIn(Expr e) => e.BinaryCount();
    }

    internal readonly struct InnerNode : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is not (Expr.Const or Expr.Var);
        public static int CountIn(Expr e) => e.FeatureCount() is var f and >= 0 && e.ConstantCount() is var c and >= 0 ? e.Size() - f - c : -1;
    }

    // The grammar's operators by arity, computed once per grammar (grammars are immutable, so this never goes stale).
    private static readonly ConditionalWeakTable<Grammar, OpSpec[][]> ByArity = new();

    private static OpSpec[] OpsOf(Grammar g, int arity) =>
        ByArity.GetValue(g, static gr => [[], [.. gr.OpsOfArity(1)], [.. gr.OpsOfArity(2)]])[arity];

    private static bool IsAlternative(OpSpec o, Op current) => o.Op != current && o.Weight > 0;

    /// <summary>
    /// An operator drawn with probability proportional to its weight among <paramref name="options"/>, or, when
    /// <paramref name="replacing"/> is given, among the options other than it with positive weight; uniformly when
    /// no weight is positive. Filtering in place draws exactly as filtering into a new array would.
    /// </summary>
    private static OpSpec PickWeighted(ref Rng rng, OpSpec[] options, Op? replacing = null)
    {
        bool Keeps(OpSpec o) => replacing is not { } current || IsAlternative(o, current);
        int count = 0;
        double total = 0;
        foreach (var o in options)
            if (Keeps(o)) { count++; total += Math.Max(0, o.Weight); }
        if (!(total > 0))
        {
            int nth = rng.NextInt(count);
            foreach (var o in options)
                if (Keeps(o) && nth-- == 0) return o;
        }
        double pick = rng.NextDouble() * total;
        OpSpec? last = null;
        foreach (var o in options)
        {
            if (!Keeps(o)) continue;
            last = o;
            pick -= Math.Max(0, o.Weight);
            if (pick < 0) return o;
        }
        return last!;
    }
}
