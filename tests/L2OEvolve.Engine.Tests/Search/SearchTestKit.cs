using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

/// <summary>Small grammars, data and a naive recursive fitness shared by the variation and search tests.</summary>
internal static class SearchTestKit
{
    public static Grammar Arithmetic(int maxSize = 15, params NestingRule[] nesting) => new(
        "test-arith",
        ["x0", "x1", "x2"],
        [new OpSpec(Op.Add), new OpSpec(Op.Sub), new OpSpec(Op.Mul), new OpSpec(Op.Div), new OpSpec(Op.Cos), new OpSpec(Op.Exp), new OpSpec(Op.Neg)],
        new ConstantSpec(-2, 2, 1, 0.3),
        StatefulSpec.None,
        maxSize,
        8,
        [.. nesting],
        0.001,
        "test-arith-hash");

    public static Grammar Stateful() => Arithmetic() with
    {
        Name = "test-stateful",
        Features = ["g"],
        Stateful = new StatefulSpec(Ema: true, EmaBetaMin: 0.5, EmaBetaMax: 0.99, Lag: true, MaxLag: 5),
        ContentHash = "test-stateful-hash",
    };

    /// <summary>The reference meaning of a stateless tree on one row.</summary>
    public static double Eval(Expr e, IReadOnlyDictionary<string, double> row) => e switch
    {
        Expr.Const c => c.Value,
        Expr.Var v => row[v.Name],
        Expr.Unary u => Ops.Apply(u.Op, Eval(u.Arg, row)),
        Expr.Binary b => Ops.Apply(b.Op, Eval(b.Left, row), Eval(b.Right, row)),
        _ => throw new ArgumentException("stateful nodes are not used by these tests"),
    };

    /// <summary>Rows of x0..x2 in [-2, 2] from a fixed seed, with y = target(row).</summary>
    public static (Dictionary<string, double>[] X, double[] Y) Data(Func<Dictionary<string, double>, double> target, int rows = 64, ulong seed = 5)
    {
        var rng = new L2OEvolve.Engine.Random.Rng(seed);
        var x = new Dictionary<string, double>[rows];
        var y = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            x[i] = new() { ["x0"] = rng.NextDouble() * 4 - 2, ["x1"] = rng.NextDouble() * 4 - 2, ["x2"] = rng.NextDouble() * 4 - 2 };
            y[i] = target(x[i]);
        }
        return (x, y);
    }
}

/// <summary>Mean squared error by naive recursion, in parallel over candidates and written by index; a second objective is the max abs error.</summary>
internal sealed class NaiveMseFitness(Dictionary<string, double>[] x, double[] y) : IFitness
{
    public int ObjectiveCount => 2;

    public double BaselineLoss { get; } = y.Select(v => (v - y.Average()) * (v - y.Average())).Average();

    public bool IsDeterministic => true;

    public int Calls { get; private set; }

    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        Calls++;
        var trees = candidates.ToArray();
        var results = new double[trees.Length * 2];
        Parallel.For(0, trees.Length, new ParallelOptions { MaxDegreeOfParallelism = request.Threads }, i =>
        {
            double sum = 0, max = 0;
            for (int r = 0; r < y.Length; r++)
            {
                double d = SearchTestKit.Eval(trees[i], x[r]) - y[r];
                sum += d * d;
                max = Math.Max(max, Math.Abs(d));
            }
            double mse = sum / y.Length;
            results[2 * i] = double.IsFinite(mse) ? mse : double.PositiveInfinity;
            results[2 * i + 1] = double.IsFinite(max) ? max : double.PositiveInfinity;
        });
        results.CopyTo(objectives);
    }
}

/// <summary>A deterministic greedy tuner: tries scaling each constant by a few factors and keeps what lowers the MSE.</summary>
internal sealed class GreedyTuner(NaiveMseFitness fitness) : IConstantTuner
{
    public Expr Tune(Expr tree, CancellationToken ct)
    {
        var best = tree;
        double bestLoss = Loss(tree);
        var positions = L2OEvolve.Engine.Variation.Trees.Positions(tree, n => n is Expr.Const);
        foreach (int p in positions)
        {
            foreach (double f in new[] { 0.5, 0.9, 1.1, 2.0, -1.0 })
            {
                var c = (Expr.Const)L2OEvolve.Engine.Variation.Trees.NodeAt(best, p);
                var candidate = L2OEvolve.Engine.Variation.Trees.ReplaceAt(best, p, new Expr.Const(c.Value * f));
                double loss = Loss(candidate);
                if (loss < bestLoss) { best = candidate; bestLoss = loss; }
            }
        }
        return best;
    }

    private double Loss(Expr e)
    {
        var o = new double[2];
        fitness.Evaluate([e], o, new FitnessRequest(1, 0, 0), CancellationToken.None);
        return o[0];
    }
}

/// <summary>Equality helpers: records holding ImmutableArray compare arrays by reference, so states are compared through their encoding.</summary>
internal static class StateComparison
{
    public static string Describe(HallOfFame h) =>
        string.Join("\n", h.Members.Select(m => $"{m.Complexity}|{m.Loss:R}|{m.Birth}|{m.Tree}"));

    public static ImmutableArray<string> Members(SearchState s) =>
        s.Islands.SelectMany((isl, i) => isl.Members.Select(m => $"{i}:{m.Birth}:{m.Loss:R}:{m.Tree}")).ToImmutableArray();
}
