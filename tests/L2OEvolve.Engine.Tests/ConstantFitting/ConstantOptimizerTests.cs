using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.ConstantFitting;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.RowEvaluation;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.ConstantFitting;

public class ConstantOptimizerTests
{
    private static float[][] Uniform(ref Rng rng, int count, int rows, double lo, double hi)
    {
        var cols = new float[count][];
        for (int j = 0; j < count; j++)
        {
            cols[j] = new float[rows];
            for (int i = 0; i < rows; i++) cols[j][i] = (float)(lo + (hi - lo) * rng.NextDouble());
        }
        return cols;
    }

    private static double[] ConstantsOf(Expr e) => Compiler.Compile(e, ["x0", "x1", "g"]).Constants.ToArray();

    [Test]
    public void Fit_LinearPlusSine_RecoversTheConstants()
    {
        var rng = new Rng(1);
        const int rows = 500;
        var x = Uniform(ref rng, 2, rows, -3, 3);
        var y = Enumerable.Range(0, rows).Select(i => (float)(2.5 * x[0][i] + Math.Sin(0.3 * x[1][i]))).ToArray();
        var start = new Binary(Op.Add, new Binary(Op.Mul, new Const(1), new Var("x0")),
            new Unary(Op.Sin, new Binary(Op.Mul, new Const(0.5), new Var("x1"))));
        var fit = ConstantOptimizer.Fit(start, ["x0", "x1"], x, rows, y, new EvalWorkspace());
        Assert.That(fit.Improved, Is.True);
        Assert.That(ConstantsOf(fit.Expr), Is.EqualTo(new[] { 2.5, 0.3 }).Within(1e-4).AsCollection);
        Assert.That(fit.Loss, Is.LessThan(1e-10));
        Assert.That(fit.Loss, Is.EqualTo(Evaluator.Mse(fit.Rule, x, rows, y, new EvalWorkspace())), "loss is the evaluator's");
    }

    [Test]
    public void Fit_ExponentialDecayWithOffset_RecoversTheConstants()
    {
        var rng = new Rng(2);
        const int rows = 300;
        var x = Uniform(ref rng, 1, rows, 0, 4);
        var y = x[0].Select(v => (float)(1.7 * Math.Exp(-0.8 * v) + 0.4)).ToArray();
        var start = new Binary(Op.Add, new Binary(Op.Mul, new Const(1), new Unary(Op.Exp, new Binary(Op.Mul, new Const(-0.2), new Var("x0")))), new Const(0));
        var fit = ConstantOptimizer.Fit(start, ["x0"], x, rows, y, new EvalWorkspace());
        Assert.That(ConstantsOf(fit.Expr), Is.EqualTo(new[] { 1.7, -0.8, 0.4 }).Within(1e-4).AsCollection);
    }

    [Test]
    public void Fit_ProtectedDivisionAndSignedPower_RecoversTheConstants()
    {
        var rng = new Rng(3);
        const int rows = 400;
        var x = Uniform(ref rng, 2, rows, 0.5, 3);
        // y = x0^1.5 / (0.7 + x1)
        var y = Enumerable.Range(0, rows).Select(i => (float)(Math.Pow(x[0][i], 1.5) / (0.7 + x[1][i]))).ToArray();
        var start = new Binary(Op.Div, new Binary(Op.Pow, new Var("x0"), new Const(1)), new Binary(Op.Add, new Const(2), new Var("x1")));
        var fit = ConstantOptimizer.Fit(start, ["x0", "x1"], x, rows, y, new EvalWorkspace());
        Assert.That(ConstantsOf(fit.Expr), Is.EqualTo(new[] { 1.5, 0.7 }).Within(1e-4).AsCollection);
    }

    [Test]
    public void FitTrajectory_Momentum_RecoversScaleAndEmaBeta()
    {
        var rng = new Rng(4);
        const int coords = 16, steps = 60;
        var g = Uniform(ref rng, 1, coords * steps, -1, 1)[0];
        var truth = Compiler.Compile(new Binary(Op.Mul, new Const(-0.01), new Ema(0.6, false, new Var("g"))), ["g"]);
        var y = new float[coords * steps];
        Assert.That(Evaluator.EvaluateTrajectory(truth, [g], coords, steps, y, new EvalWorkspace()), Is.True);
        var start = Compiler.Compile(new Binary(Op.Mul, new Const(-0.05), new Ema(0.85, false, new Var("g"))), ["g"]);
        var fit = ConstantOptimizer.FitTrajectory(start, [g], coords, steps, y, new EvalWorkspace());
        Assert.That(fit.Rule.Constants, Is.EqualTo(new[] { -0.01, 0.6 }).Within(1e-4).AsCollection);
        Assert.That(fit.Expr, Is.EqualTo(new Binary(Op.Mul, new Const(fit.Rule.Constants[0]), new Ema(fit.Rule.Constants[1], false, new Var("g")))));
    }

    [Test]
    public void FitTrajectory_FrozenBetas_MoveOnlyFreeConstants()
    {
        var rng = new Rng(5);
        const int coords = 8, steps = 30;
        var g = Uniform(ref rng, 1, coords * steps, -1, 1)[0];
        var y = new float[coords * steps];
        Evaluator.EvaluateTrajectory(Compiler.Compile(new Binary(Op.Mul, new Const(-0.3), new Ema(0.9, true, new Var("g"))), ["g"]), [g], coords, steps, y, new EvalWorkspace());
        var start = Compiler.Compile(new Binary(Op.Mul, new Const(1), new Ema(0.5, true, new Var("g"))), ["g"]);
        var fit = ConstantOptimizer.FitTrajectory(start, [g], coords, steps, y, new EvalWorkspace(), new ConstantFitOptions(FitEmaBetas: false));
        Assert.That(fit.Rule.Constants[1], Is.EqualTo(0.5));
        Assert.That(fit.Improved, Is.True);
    }

    [Test]
    public void Fit_NonFiniteStartingPoint_ReturnsTheInputWithInfiniteLoss()
    {
        var x = new[] { Enumerable.Range(0, 50).Select(i => (float)i).ToArray() };
        var y = new float[50];
        var start = new Unary(Op.Exp, new Binary(Op.Mul, new Const(5), new Var("x0"))); // exp(245) overflows float
        var fit = ConstantOptimizer.Fit(start, ["x0"], x, 50, y, new EvalWorkspace());
        Assert.That(fit.Loss, Is.EqualTo(double.PositiveInfinity));
        Assert.That(fit.Improved, Is.False);
        Assert.That(fit.Expr, Is.SameAs(start));
    }

    [Test]
    public void Fit_NaNInsideTheTree_NeitherThrowsNorChangesTheRule()
    {
        // pow(0, -1) is NaN in the reference; abs and sign of it must not reach Math.Sign(NaN), which throws.
        var x = new[] { new float[] { 0, 1, 2, 3 } };
        foreach (var op in new[] { Op.Abs, Op.Sign, Op.Sqrt, Op.Log })
        {
            var e = new Unary(op, new Binary(Op.Pow, new Var("x0"), new Const(-1)));
            var fit = ConstantOptimizer.Fit(e, ["x0"], x, 4, new float[] { 1, 1, 1, 1 }, new EvalWorkspace());
            Assert.That(fit.Expr, Is.SameAs(e), op.ToString());
            Assert.That(fit.Loss, Is.EqualTo(double.PositiveInfinity), op.ToString());
        }
    }

    [Test]
    public void Fit_StepsIntoOverflow_AreRejectedAndTheFitStillConverges()
    {
        var rng = new Rng(6);
        const int rows = 200;
        var x = Uniform(ref rng, 1, rows, 0, 60);
        var y = x[0].Select(v => (float)Math.Exp(0.5 * v)).ToArray(); // up to e^30: a step to c ≥ 1.5 overflows
        var start = new Unary(Op.Exp, new Binary(Op.Mul, new Const(0.2), new Var("x0")));
        var fit = ConstantOptimizer.Fit(start, ["x0"], x, rows, y, new EvalWorkspace());
        Assert.That(ConstantsOf(fit.Expr)[0], Is.EqualTo(0.5).Within(1e-5));
        Assert.That(double.IsFinite(fit.Loss), Is.True);
    }

    [Test]
    public void Fit_RuleWithoutConstants_IsReturnedUnchanged()
    {
        var x = new[] { new float[] { 1, 2, 3 } };
        var e = new Unary(Op.Square, new Var("x0"));
        var fit = ConstantOptimizer.Fit(e, ["x0"], x, 3, new float[] { 1, 4, 9 }, new EvalWorkspace());
        Assert.That(fit.Expr, Is.SameAs(e));
        Assert.That(fit.Loss, Is.Zero);
    }

    /// <summary>d(Σr²)/dθ = 2·Jᵀr, so forward-mode Jᵀr must match central differences of the double SSE.</summary>
    [Test]
    public void ForwardMode_RandomSmoothTrees_GradientMatchesFiniteDifferences()
    {
        var rng = new Rng(7);
        string[] names = ["x0", "x1", "g"];
        const int coords = 6, steps = 8;
        var cols = Uniform(ref rng, 3, coords * steps, -1.5, 1.5);
        var target = Uniform(ref rng, 1, coords * steps, -1, 1)[0];
        int checkedTrees = 0;
        for (int n = 0; n < 300 && checkedTrees < 120; n++)
        {
            var e = SmoothTree(ref rng, 2 + rng.NextInt(10), names);
            var rule = Compiler.Compile(e, names);
            int k = rule.Constants.Length;
            if (k == 0) continue;
            var param = Enumerable.Range(0, k).ToArray();
            var fm = new ForwardMode(rule, param, k, coords);
            var theta = rule.Constants.ToArray();
            var jtj = new double[k * k];
            var jtr = new double[k];
            double sse = fm.Accumulate(theta, cols, steps, target, jtj, jtr);
            if (!double.IsFinite(sse) || sse > 1e8) continue;
            for (int i = 0; i < k; i++)
            {
                double h = 1e-6 * Math.Max(1, Math.Abs(theta[i]));
                var tp = (double[])theta.Clone();
                var tm = (double[])theta.Clone();
                tp[i] += h;
                tm[i] -= h;
                if (rule.ConstantKinds[i] == ConstantKind.EmaBeta && (tp[i] >= 1 || tm[i] <= 0)) continue;
                double fd = (fm.Accumulate(tp, cols, steps, target, [], []) - fm.Accumulate(tm, cols, steps, target, [], [])) / (2 * h);
                Assert.That(2 * jtr[i], Is.EqualTo(fd).Within(1e-5 * (1 + Math.Abs(fd) + sse)), $"{Show.Of(e)}: constant {i}");
            }
            checkedTrees++;
        }
        Assert.That(checkedTrees, Is.GreaterThan(100));
    }

    private static Expr SmoothTree(ref Rng rng, int size, string[] names)
    {
        Op[] unary = [Op.Neg, Op.Exp, Op.Tanh, Op.Sinh, Op.Asinh, Op.Erfc, Op.Square, Op.Cube, Op.Sin, Op.Cos];
        Op[] binary = [Op.Add, Op.Sub, Op.Mul];
        if (size <= 1)
            return rng.NextBool(0.5) ? new Var(names[rng.NextInt(names.Length)]) : new Const(Math.Round(rng.NextDouble() * 2 - 1, 2));
        int kind = rng.NextInt(4);
        if (size == 2 || kind == 0) return new Unary(unary[rng.NextInt(unary.Length)], SmoothTree(ref rng, size - 1, names));
        if (kind == 1) return new Ema(0.1 + 0.8 * rng.NextDouble(), rng.NextBool(), SmoothTree(ref rng, size - 1, names));
        if (kind == 2 && rng.NextBool()) return new Lag(1 + rng.NextInt(3), SmoothTree(ref rng, size - 1, names));
        int left = 1 + rng.NextInt(size - 2);
        return new Binary(binary[rng.NextInt(binary.Length)], SmoothTree(ref rng, left, names), SmoothTree(ref rng, size - 1 - left, names));
    }
}
