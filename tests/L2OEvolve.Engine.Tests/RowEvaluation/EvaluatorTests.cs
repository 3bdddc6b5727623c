using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.RowEvaluation;

public class EvaluatorTests
{
    private static readonly string[] Features = ["x0", "x1", "x2"];

    private static float[][] RandomColumns(ref Rng rng, int count, int rows, double scale = 3)
    {
        var cols = new float[count][];
        for (int j = 0; j < count; j++)
        {
            cols[j] = new float[rows];
            for (int i = 0; i < rows; i++) cols[j][i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        }
        return cols;
    }

    private static Dictionary<string, double[]> AsSeries(float[][] cols, IReadOnlyList<string> names, int start, int stride, int T)
    {
        var d = new Dictionary<string, double[]>();
        for (int j = 0; j < names.Count; j++)
        {
            var s = new double[T];
            for (int t = 0; t < T; t++) s[t] = cols[j][start + t * stride];
            d[names[j]] = s;
        }
        return d;
    }

    /// <summary>Asserts the float result agrees with the oracle wherever the oracle is certain.</summary>
    private static int AssertAgrees(Oracle.Series o, int t, float actual, Expr e, string where)
    {
        if (o.Uncertain[t]) return 0;
        double want = o.Value[t], tol = 4 * o.Error[t] + 1e-30;
        Assert.That(Math.Abs(actual - want), Is.LessThanOrEqualTo(tol),
            $"{where}: {Show.Of(e)} gave {actual:R}, oracle {want:R} ± {o.Error[t]:R}");
        return 1;
    }

    [TestCase(64)]
    [TestCase(EvalWorkspace.DefaultBlockSize)]
    public void Evaluate_RandomTreesOverEveryOperator_MatchesDoubleOracle(int blockSize)
    {
        var rng = new Rng(1234);
        const int rows = 150; // several blocks of 64 plus a ragged tail
        var cols = RandomColumns(ref rng, Features.Length, rows);
        var series = AsSeries(cols, Features, 0, 1, rows);
        var ws = new EvalWorkspace(blockSize);
        var output = new float[rows];
        int compared = 0, failedEvaluations = 0;
        for (int k = 0; k < 600; k++)
        {
            var e = RandomTrees.Generate(ref rng, 1 + rng.NextInt(20), Features);
            var rule = Compiler.Compile(e, Features);
            var o = Oracle.Eval(e, series, rows);
            if (!Evaluator.Evaluate(rule, cols, rows, output, ws))
            {
                failedEvaluations++;
                Assert.That(o.Uncertain, Does.Contain(true), $"{Show.Of(e)}: reported non-finite but the oracle is finite and certain everywhere");
                continue;
            }
            for (int i = 0; i < rows; i++) compared += AssertAgrees(o, i, output[i], e, $"row {i}");
        }
        Assert.That(compared, Is.GreaterThan(600 * rows / 2), "too few rows were certain enough to compare");
        Assert.That(failedEvaluations, Is.LessThan(300));
    }

    [TestCase(37, 12, 16)] // each step split into two full blocks of coordinates and a tail
    [TestCase(5, 13, 16)] // three whole steps per block, the last block ragged
    [TestCase(1, 40, 512)] // a single coordinate: the whole trajectory in one block
    public void EvaluateTrajectory_RandomStatefulTrees_MatchDoubleOracle(int coords, int steps, int blockSize)
    {
        var rng = new Rng(99);
        var cols = RandomColumns(ref rng, Features.Length, coords * steps);
        var ws = new EvalWorkspace(blockSize);
        var output = new float[coords * steps];
        var perCoordinate = Enumerable.Range(0, coords).Select(c => AsSeries(cols, Features, c, coords, steps)).ToArray();
        int compared = 0, stateful = 0;
        for (int k = 0; k < 300; k++)
        {
            var e = RandomTrees.Generate(ref rng, 2 + rng.NextInt(14), Features, stateful: true);
            if (e.IsStateful) stateful++;
            var rule = Compiler.Compile(e, Features);
            var oracles = perCoordinate.Select(s => Oracle.Eval(e, s, steps)).ToArray();
            if (!Evaluator.EvaluateTrajectory(rule, cols, coords, steps, output, ws))
            {
                Assert.That(oracles.Any(o => o.Uncertain.Contains(true)), Is.True, $"{Show.Of(e)}: reported non-finite but the oracle is certain");
                continue;
            }
            for (int c = 0; c < coords; c++)
                for (int t = 0; t < steps; t++)
                    compared += AssertAgrees(oracles[c], t, output[t * coords + c], e, $"coordinate {c} step {t}");
        }
        Assert.That(stateful, Is.GreaterThan(200));
        Assert.That(compared, Is.GreaterThan(300 * coords * steps / 3));
    }

    private static IEnumerable<float> Grid() =>
        [0f, -0f, 1e-6f, -1e-6f, 0.3f, -0.3f, 0.5f, -0.5f, 1f, -1f, 1.7f, -2.2f, 3f, -3f, 8f, -8f, 40f, -40f];

    /// <summary>Every binary operator in every compiled shape (fused leaf operands on either side, or two stack slots).</summary>
    [Test]
    public void Evaluate_EveryBinaryOperatorInEveryShape_MatchesReferenceSemantics()
    {
        var g = Grid().ToArray();
        var xs = new List<float>();
        var ys = new List<float>();
        foreach (var a in g) foreach (var b in g) { xs.Add(a); ys.Add(b); }
        int rows = xs.Count;
        float[][] cols = [xs.ToArray(), ys.ToArray()];
        string[] names = ["x", "y"];
        var ws = new EvalWorkspace(64);
        var output = new float[rows];
        Expr X = new Var("x"), Y = new Var("y");
        static Expr Wrap(Expr e) => new Unary(Op.Neg, new Unary(Op.Neg, e)); // same value, but not a leaf
        foreach (var op in RandomTrees.BinaryOps)
        {
            Expr[] shapes = [new Binary(op, X, Y), new Binary(op, Wrap(X), Y), new Binary(op, X, Wrap(Y)), new Binary(op, Wrap(X), Wrap(Y))];
            foreach (var e in shapes) Check(e, (x, y) => Ops.Apply(op, x, y), i => (xs[i], ys[i]));
            foreach (var c in new[] { 0f, -2f, 0.5f, 3f })
            {
                Check(new Binary(op, X, new Const(c)), (x, y) => Ops.Apply(op, x, c), i => (xs[i], 0));
                Check(new Binary(op, Wrap(X), new Const(c)), (x, y) => Ops.Apply(op, x, c), i => (xs[i], 0));
                Check(new Binary(op, new Const(c), X), (x, y) => Ops.Apply(op, c, x), i => (xs[i], 0));
                Check(new Binary(op, new Const(c), Wrap(X)), (x, y) => Ops.Apply(op, c, x), i => (xs[i], 0));
            }
            Check(new Binary(op, new Const(2), new Const(-3)), (_, _) => Ops.Apply(op, 2, -3), i => (0, 0));
        }

        void Check(Expr e, Func<double, double, double> reference, Func<int, (double, double)> args)
        {
            bool ok = Evaluator.Evaluate(Compiler.Compile(e, names), cols, rows, output, ws);
            var want = Enumerable.Range(0, rows).Select(i => { var (x, y) = args(i); return reference(x, y); }).ToArray();
            Assert.That(ok, Is.EqualTo(want.All(double.IsFinite)), $"{e}: finiteness");
            if (!ok) return;
            for (int i = 0; i < rows; i++)
                Assert.That(output[i], Is.EqualTo(want[i]).Within(2e-6 * Math.Abs(want[i]) + 1e-30), $"{e} at x={xs[i]}, y={ys[i]}");
        }
    }

    [Test]
    public void Evaluate_EveryUnaryOperator_MatchesReferenceSemantics()
    {
        float[] xs = [.. Grid(), 0.01f, -0.01f, 2.5f, -6f, 10f, -10f, 15f, 80f, -80f];
        string[] names = ["x"];
        var ws = new EvalWorkspace(16);
        var output = new float[xs.Length];
        foreach (var op in RandomTrees.UnaryOps)
        {
            foreach (var e in new Expr[] { new Unary(op, new Var("x")), new Unary(op, new Unary(Op.Neg, new Unary(Op.Neg, new Var("x")))) })
            {
                var want = xs.Select(x => Ops.Apply(op, x)).ToArray();
                bool finite = want.All(w => double.IsFinite(w) && Math.Abs(w) < float.MaxValue);
                bool ok = Evaluator.Evaluate(Compiler.Compile(e, names), [xs], xs.Length, output, ws);
                Assert.That(ok, Is.EqualTo(finite), $"{e}: finiteness");
                if (!ok) continue;
                for (int i = 0; i < xs.Length; i++)
                {
                    // erfc is a Chebyshev fit whose exponent grows like x², so its float relative error grows too.
                    double rel = op == Op.Erfc || op.Name == "erf" ? 1e-6 * (1 + xs[i] * xs[i]) : 4e-7;
                    Assert.That(output[i], Is.EqualTo(want[i]).Within(rel * Math.Abs(want[i]) + (op == Op.Log ? 1e-7 : 0) + 1e-38),
                        $"{op}({xs[i]:R})");
                }
            }
        }
    }

    [Test]
    public void Evaluate_SpecialValues_FollowTheProtectedSemantics()
    {
        string[] names = ["x", "y"];
        float[][] cols = [[5f, -8f, 0f, -4f], [0f, 1f / 3f, 2f, 0f]];
        var ws = new EvalWorkspace();
        var o = new float[4];
        Assert.That(Evaluator.Evaluate(Compiler.Compile(new Binary(Op.Div, new Var("x"), new Var("y")), names), cols, 4, o, ws), Is.True);
        Assert.That(o[0], Is.EqualTo(1f), "x/0 = 1");
        Assert.That(o[3], Is.EqualTo(1f), "x/0 = 1");
        Assert.That(Evaluator.Evaluate(Compiler.Compile(new Binary(Op.Pow, new Var("x"), new Var("y")), names), cols, 3, o, ws), Is.True);
        Assert.That(o[1], Is.EqualTo(-2f).Within(1e-6), "pow(-8, 1/3) = -2 (signed power)");
        Assert.That(o[2], Is.EqualTo(0f), "pow(0, 2) = 0");
        Assert.That(Evaluator.Evaluate(Compiler.Compile(new Unary(Op.Sqrt, new Var("x")), names), cols, 4, o, ws), Is.True);
        Assert.That(o[3], Is.EqualTo(2f), "sqrt(-4) = sqrt(|-4|)");
        Assert.That(Evaluator.Evaluate(Compiler.Compile(new Unary(Op.Log, new Var("x")), names), cols, 4, o, ws), Is.True);
        Assert.That(o[2], Is.EqualTo((float)Math.Log(1e-8)).Within(1e-5), "log(0) = log(1e-8)");
    }

    [Test]
    public void Evaluate_NonFiniteOutputs_ReturnFalseAndInfiniteLoss()
    {
        string[] names = ["x"];
        var ws = new EvalWorkspace(16);
        float[] xs = [.. Enumerable.Range(0, 40).Select(i => i * 0.1f)];
        xs[33] = 100f; // exp(100) overflows float, in the third block
        var rule = Compiler.Compile(new Unary(Op.Exp, new Var("x")), names);
        var o = new float[xs.Length];
        Assert.That(Evaluator.Evaluate(rule, [xs], xs.Length, o, ws), Is.False);
        Assert.That(Evaluator.Mse(rule, [xs], xs.Length, new float[xs.Length], ws), Is.EqualTo(double.PositiveInfinity));
        var pow0 = Compiler.Compile(new Binary(Op.Pow, new Var("x"), new Const(-1)), names);
        Assert.That(Evaluator.Evaluate(pow0, [xs], 10, o, ws), Is.False, "pow(0, -1) is NaN in the reference");
        var nanData = (float[])xs.Clone();
        nanData[3] = float.NaN;
        Assert.That(Evaluator.Mse(Compiler.Compile(new Var("x"), names), [nanData], 10, new float[10], ws), Is.EqualTo(double.PositiveInfinity));
        Assert.That(Evaluator.Evaluate(Compiler.Compile(new Unary(Op.Exp, new Var("x")), names), [xs], 30, o, ws), Is.True,
            "rows beyond the count are not read");
    }

    [Test]
    public void Evaluate_InfiniteIntermediateSquashedByALaterOperator_IsAFiniteValue()
    {
        var ws = new EvalWorkspace();
        var o = new float[1];
        var rule = Compiler.Compile(new Unary(Op.Tanh, new Unary(Op.Exp, new Var("x"))), ["x"]);
        Assert.That(Evaluator.Evaluate(rule, [[100f]], 1, o, ws), Is.True);
        Assert.That(o[0], Is.EqualTo(1f));
    }

    [Test]
    public void Mse_MatchesDirectComputation()
    {
        var rng = new Rng(5);
        const int rows = 1000;
        var cols = RandomColumns(ref rng, 3, rows);
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Var("x1"), new Var("x2")), new Unary(Op.Cos, new Var("x0")));
        var y = new float[rows];
        double expect = 0;
        for (int i = 0; i < rows; i++)
        {
            y[i] = (float)(rng.NextDouble() * 4 - 2);
            double r = cols[1][i] * (double)cols[2][i] + Math.Cos(cols[0][i]) - y[i];
            expect += r * r;
        }
        expect /= rows;
        double mse = Evaluator.Mse(Compiler.Compile(e, Features), cols, rows, y, new EvalWorkspace());
        Assert.That(mse, Is.EqualTo(expect).Within(1e-5 * expect));
    }

    [Test]
    public void Mse_LargeButFiniteResiduals_StayFinite()
    {
        var x = Enumerable.Range(0, 40).Select(i => 1e20f * (i % 3 - 1)).ToArray();
        double mse = Evaluator.Mse(Compiler.Compile(new Var("x"), ["x"]), [x], 40, new float[40], new EvalWorkspace());
        double expect = x.Sum(v => (double)v * v) / 40;
        Assert.That(mse, Is.EqualTo(expect).Within(1e-6 * expect), "squares of 1e20 overflow float but not the loss");
    }

    [Test]
    public void Evaluate_ReusedWorkspace_GivesBitIdenticalResults()
    {
        var rng = new Rng(11);
        const int coords = 20, steps = 30;
        var cols = RandomColumns(ref rng, 3, coords * steps);
        var adam = Compiler.Compile(new Binary(Op.Div, new Ema(0.9, true, new Var("x0")),
            new Binary(Op.Add, new Unary(Op.Sqrt, new Ema(0.999, true, new Unary(Op.Square, new Var("x0")))), new Const(1e-8))), Features);
        var other = Compiler.Compile(new Lag(3, new Binary(Op.Mul, new Var("x1"), new Lag(1, new Var("x2")))), Features);
        var stateless = Compiler.Compile(RandomTrees.Generate(ref rng, 15, Features), Features);
        var ws = new EvalWorkspace(8);
        float[] first = new float[coords * steps], again = new float[coords * steps], fresh = new float[coords * steps];
        Evaluator.EvaluateTrajectory(adam, cols, coords, steps, first, ws);
        Evaluator.EvaluateTrajectory(other, cols, coords, steps, again, ws);
        Evaluator.Evaluate(stateless, cols, coords * steps, again, ws);
        Evaluator.EvaluateTrajectory(adam, cols, coords, steps, again, ws);
        Evaluator.EvaluateTrajectory(adam, cols, coords, steps, fresh, new EvalWorkspace(8));
        Assert.That(again, Is.EqualTo(first).AsCollection);
        Assert.That(fresh, Is.EqualTo(first).AsCollection);
    }

    [Test]
    public void Evaluate_WarmWorkspace_DoesNotAllocate()
    {
        var rng = new Rng(3);
        const int rows = 2000;
        var cols = RandomColumns(ref rng, 3, rows);
        var y = new float[rows];
        var o = new float[rows];
        var rule = Compiler.Compile(new Binary(Op.Add, new Binary(Op.Pow, new Var("x1"), new Const(1.5)),
            new Unary(Op.Erfc, new Binary(Op.Div, new Var("x0"), new Unary(Op.Tanh, new Var("x2"))))), Features);
        var stateful = Compiler.Compile(new Binary(Op.Mul, new Ema(0.9, true, new Var("x0")), new Lag(2, new Var("x1"))), Features);
        var ws = new EvalWorkspace();
        void Run()
        {
            Evaluator.Evaluate(rule, cols, rows, o, ws);
            Evaluator.Mse(rule, cols, rows, y, ws);
            Evaluator.MseTrajectory(stateful, cols, 100, 20, y, ws);
        }
        for (int i = 0; i < 200; i++) Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Run();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void EvaluateTrajectory_Adam_MatchesTheClosedForm()
    {
        var rng = new Rng(8);
        const int coords = 5, steps = 50;
        var g = RandomColumns(ref rng, 1, coords * steps)[0];
        var e = new Binary(Op.Mul, new Const(-0.01), new Binary(Op.Div, new Ema(0.9, true, new Var("g")),
            new Binary(Op.Add, new Unary(Op.Sqrt, new Ema(0.999, true, new Unary(Op.Square, new Var("g")))), new Const(1e-8))));
        var o = new float[coords * steps];
        Assert.That(Evaluator.EvaluateTrajectory(Compiler.Compile(e, ["g"]), [g], coords, steps, o, new EvalWorkspace()), Is.True);
        for (int c = 0; c < coords; c++)
        {
            double m = 0, v = 0;
            for (int t = 0; t < steps; t++)
            {
                double gt = g[t * coords + c];
                m = 0.9 * m + 0.1 * gt;
                v = 0.999 * v + 0.001 * gt * gt;
                double want = -0.01 * (m / (1 - Math.Pow(0.9, t + 1))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, t + 1))) + 1e-8);
                Assert.That(o[t * coords + c], Is.EqualTo(want).Within(1e-4 * Math.Abs(want) + 1e-9), $"c={c} t={t}");
            }
        }
    }

    [Test]
    public void EvaluateTrajectory_Lag_IsZeroBeforeTheHistoryStarts()
    {
        const int coords = 3, steps = 6;
        var g = Enumerable.Range(0, coords * steps).Select(i => (float)(i + 1)).ToArray();
        var o = new float[coords * steps];
        Evaluator.EvaluateTrajectory(Compiler.Compile(new Lag(2, new Var("g")), ["g"]), [g], coords, steps, o, new EvalWorkspace());
        for (int t = 0; t < steps; t++)
            for (int c = 0; c < coords; c++)
                Assert.That(o[t * coords + c], Is.EqualTo(t < 2 ? 0f : g[(t - 2) * coords + c]));
    }

    [Test]
    public void Evaluate_StatefulRuleOnRowData_ThrowsArgumentException()
    {
        var rule = Compiler.Compile(new Ema(0.9, false, new Var("g")), ["g"]);
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(rule, [new float[4]], 4, new float[4], new EvalWorkspace()));
    }

    [Test]
    public void Evaluate_ShortColumn_ThrowsNamingTheFeature()
    {
        var rule = Compiler.Compile(new Binary(Op.Add, new Var("a"), new Var("b")), ["a", "b"]);
        var ex = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(rule, [new float[4], new float[2]], 4, new float[4], new EvalWorkspace()));
        Assert.That(ex!.Message, Does.Contain("'b'"));
    }
}
