using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.Expressions;

/// <summary>Random trees and a naive reference evaluator for property tests (the search area owns the real sampler).</summary>
internal static class TestTrees
{
    public static readonly string[] Vars = ["x", "y", "g"];

    /// <summary>A random tree of roughly <paramref name="budget"/> nodes over <see cref="Vars"/>.</summary>
    public static Expr Random(ref Rng rng, int budget, bool stateful = true, bool awkwardConstants = true)
    {
        if (budget <= 1 || rng.NextBool(0.15)) return Leaf(ref rng, awkwardConstants);
        double pick = rng.NextDouble();
        if (stateful && pick < 0.08)
        {
            var arg = Random(ref rng, budget - 1, stateful, awkwardConstants);
            return rng.NextBool()
                ? new Expr.Ema(new[] { 0.5, 0.9, 0.99, 0.999 }[rng.NextInt(4)], rng.NextBool(), arg)
                : new Expr.Lag(rng.NextInt(1, 4), arg);
        }
        var unary = Ops.BuiltIn.Where(o => o.Arity == 1).ToArray();
        var binary = Ops.BuiltIn.Where(o => o.Arity == 2).ToArray();
        if (pick < 0.4)
            return new Expr.Unary(unary[rng.NextInt(unary.Length)], Random(ref rng, budget - 1, stateful, awkwardConstants));
        int left = rng.NextInt(1, Math.Max(2, budget - 1));
        return new Expr.Binary(binary[rng.NextInt(binary.Length)],
            Random(ref rng, left, stateful, awkwardConstants), Random(ref rng, budget - 1 - left, stateful, awkwardConstants));
    }

    private static Expr Leaf(ref Rng rng, bool awkwardConstants)
    {
        if (rng.NextBool(0.55)) return new Expr.Var(Vars[rng.NextInt(Vars.Length)]);
        double pick = rng.NextDouble();
        if (!awkwardConstants || pick < 0.5)
            return new Expr.Const(new[] { 0.0, 1.0, -1.0, 2.0, 0.5, -3.0 }[rng.NextInt(6)]);
        if (pick < 0.8) return new Expr.Const(Math.Round(rng.NextGaussian() * 3, 3));
        // Arbitrary doubles: long mantissas, tiny and huge exponents, to test round-tripping.
        return new Expr.Const(rng.NextGaussian() * Math.Pow(10, rng.NextInt(-30, 30)));
    }

    /// <summary>
    /// Evaluates <paramref name="e"/> over a sequence of <paramref name="steps"/> time steps (rows, for stateless
    /// trees) with the reference scalar semantics of <see cref="Ops.Apply(Op, double)"/>; <paramref name="scale"/>
    /// tracks the largest finite intermediate magnitude, the yardstick for rounding differences.
    /// </summary>
    public static double[] Evaluate(Expr e, IReadOnlyDictionary<string, double[]> inputs, int steps, ref double scale)
    {
        double[] result;
        switch (e)
        {
            case Expr.Const c:
                result = Enumerable.Repeat(c.Value, steps).ToArray();
                break;
            case Expr.Var v:
                result = (double[])inputs[v.Name].Clone();
                break;
            case Expr.Unary u:
                result = Evaluate(u.Arg, inputs, steps, ref scale).Select(x => Ops.Apply(u.Op, x)).ToArray();
                break;
            case Expr.Binary b:
                var l = Evaluate(b.Left, inputs, steps, ref scale);
                var r = Evaluate(b.Right, inputs, steps, ref scale);
                result = l.Zip(r, (x, y) => Ops.Apply(b.Op, x, y)).ToArray();
                break;
            case Expr.Ema m:
                var a = Evaluate(m.Arg, inputs, steps, ref scale);
                result = new double[steps];
                double s = 0;
                for (int t = 0; t < steps; t++)
                {
                    s = m.Beta * s + (1 - m.Beta) * a[t];
                    result[t] = m.BiasCorrected ? s / (1 - Math.Pow(m.Beta, t + 1)) : s;
                }
                break;
            case Expr.Lag g:
                var inner = Evaluate(g.Arg, inputs, steps, ref scale);
                result = new double[steps];
                for (int t = g.Steps; t < steps; t++) result[t] = inner[t - g.Steps];
                break;
            default:
                throw new InvalidOperationException();
        }
        foreach (double x in result)
            if (double.IsFinite(x)) scale = Math.Max(scale, Math.Abs(x));
        return result;
    }
}
