using L2OEvolve.Engine.ConstantFitting;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

/// <summary>
/// Every operator through every engine backend against its own scalar reference: the row evaluator (as a fused
/// leaf and from the stack, with constant operands on either side), forward-mode derivatives against central
/// differences, the simplifier (value kept), and the printers and encodings (round trips). A new operator, built
/// in or defined, is covered here without a test of its own.
/// </summary>
public class OperatorTableTests
{
    /// <summary>Composite operators defined the way a grammar's "define" does, so the table covers that path too.</summary>
    private static readonly IReadOnlyList<Op> Defined = CompositeOp.DefineAll(
    [
        new("tabletest_softsign(x)", "x / (1 + abs(x))"),
        new("tabletest_blend(a, b)", "0.25 * a + tanh(b) * a"),
        new("tabletest_nested(x)", "tabletest_softsign(x * 2) - 1"),
    ]);

    private static IEnumerable<Op> Every() => Ops.BuiltIn.Concat(Defined);

    private static IEnumerable<TestCaseData> Unary() =>
        Every().Where(o => o.Arity == 1).Select(o => new TestCaseData(o).SetArgDisplayNames(o.Name));

    private static IEnumerable<TestCaseData> Binary() =>
        Every().Where(o => o.Arity == 2).Select(o => new TestCaseData(o).SetArgDisplayNames(o.Name));

    private static readonly float[] Xs = [-2.7f, -1.3f, -0.61f, -0.2f, -0.013f, 0.007f, 0.35f, 0.72f, 1.4f, 2.2f, 3.1f];
    private static readonly float[] Ys = [0.5f, -1.7f, 2.25f, 0.9f, -0.4f, 1.3f, -2.1f, 0.03f, 0.75f, -0.6f, 1.9f];
    private static readonly string[] Names = ["x", "y"];
    private static readonly Expr X = new Var("x"), Y = new Var("y");

    private static Expr Stacked(Expr e) => new Unary(Op.Neg, new Unary(Op.Neg, e)); // the same value, not a leaf

    private static void AssertClose(double got, double want, string what)
    {
        if (!double.IsFinite(want)) { Assert.That(double.IsFinite(got), Is.False, what); return; }
        Assert.That(got, Is.EqualTo(want).Within(2e-5 * Math.Max(1, Math.Abs(want))), what);
    }

    private static float[] Run(Expr e)
    {
        var output = new float[Xs.Length];
        Evaluator.Evaluate(Compiler.Compile(e, Names), [Xs, Ys], Xs.Length, output, new EvalWorkspace(8));
        return output;
    }

    [TestCaseSource(nameof(Unary))]
    public void UnaryOperator_RowEvaluator_MatchesScalarReference(Op op)
    {
        foreach (var e in new[] { new Unary(op, X), new Unary(op, Stacked(X)) })
        {
            var got = Run(e);
            for (int i = 0; i < Xs.Length; i++) AssertClose(got[i], op.Apply(Xs[i]), $"{e} at x={Xs[i]}");
        }
    }

    [TestCaseSource(nameof(Binary))]
    public void BinaryOperator_RowEvaluator_MatchesScalarReferenceInEveryShape(Op op)
    {
        foreach (var e in new Expr[] { new Binary(op, X, Y), new Binary(op, Stacked(X), Y), new Binary(op, X, Stacked(Y)), new Binary(op, Stacked(X), Stacked(Y)) })
        {
            var got = Run(e);
            for (int i = 0; i < Xs.Length; i++) AssertClose(got[i], op.Apply(Xs[i], Ys[i]), $"{e} at {Xs[i]}, {Ys[i]}");
        }
        foreach (float c in new[] { 0.5f, -1.5f })
        {
            var right = Run(new Binary(op, Stacked(X), new Const(c)));
            var left = Run(new Binary(op, new Const(c), Stacked(X)));
            for (int i = 0; i < Xs.Length; i++)
            {
                AssertClose(right[i], op.Apply(Xs[i], c), $"{op}(x, {c}) at {Xs[i]}");
                AssertClose(left[i], op.Apply(c, Xs[i]), $"{op}({c}, x) at {Xs[i]}");
            }
        }
    }

    /// <summary>d/dθ of the rule at θ = its constant number <paramref name="fitted"/> (preorder), by forward mode
    /// (one row, residual about 1, so that Jᵀr divided by the residual is the derivative).</summary>
    private static double ForwardDerivative(Expr rule, double theta, int fitted = 0)
    {
        var compiled = Compiler.Compile(rule, Names);
        var constants = compiled.Constants.ToArray();
        constants[fitted] = theta;
        compiled = compiled.WithConstants(constants);
        var param = Enumerable.Range(0, constants.Length).Select(i => i == fitted ? 0 : -1).ToArray();
        var fm = new ForwardMode(compiled, param, 1, 1);
        try
        {
            var v = new float[1];
            Evaluator.Evaluate(compiled, [[0f], [0f]], 1, v, new EvalWorkspace(8));
            float target = v[0] - 1;
            var jtj = new double[1];
            var jtr = new double[1];
            fm.Accumulate(constants, [[0f], [0f]], 1, [target], jtj, jtr);
            double residual = Math.Sqrt(fm.Accumulate(constants, [[0f], [0f]], 1, [target], [], []));
            return jtr[0] / residual;
        }
        finally
        {
            fm.Release();
        }
    }

    private static double Central(Func<double, double> f, double x)
    {
        const double h = 1e-5;
        return (f(x + h) - f(x - h)) / (2 * h);
    }

    // Kinks (abs, sign, relu, clip, min, max, greater) are avoided: no grid point lies within 1e-3 of one.
    private static bool Smooth(Op op, double x) => Math.Abs(x) > 1e-3 && Math.Abs(Math.Abs(x) - 1) > 1e-3;

    [TestCaseSource(nameof(Unary))]
    public void UnaryOperator_ForwardModeDerivative_MatchesCentralDifference(Op op)
    {
        foreach (double x in Xs)
        {
            if (!Smooth(op, x)) continue;
            double fd = Central(op.Apply, x);
            double fm = ForwardDerivative(new Unary(op, new Binary(Op.Add, new Const(0), X)), x);
            Assert.That(fm, Is.EqualTo(fd).Within(1e-4 * Math.Max(1, Math.Abs(fd))), $"{op}'({x})");
        }
    }

    [TestCaseSource(nameof(Binary))]
    public void BinaryOperator_ForwardModePartials_MatchCentralDifferences(Op op)
    {
        for (int i = 0; i < Xs.Length; i++)
        {
            double x = Xs[i], y = Ys[i];
            if (!Smooth(op, x) || !Smooth(op, y) || Math.Abs(x - y) < 1e-3) continue;
            double dx = Central(t => op.Apply(t, y), x), dy = Central(t => op.Apply(x, t), y);
            double fx = ForwardDerivative(new Binary(op, new Binary(Op.Add, new Const(0), X), new Const(y)), x);
            double fy = ForwardDerivative(new Binary(op, new Const(x), new Binary(Op.Add, new Const(0), X)), y, fitted: 1);
            Assert.That(fx, Is.EqualTo(dx).Within(1e-4 * Math.Max(1, Math.Abs(dx))), $"∂{op}/∂x at ({x}, {y})");
            Assert.That(fy, Is.EqualTo(dy).Within(1e-4 * Math.Max(1, Math.Abs(dy))), $"∂{op}/∂y at ({x}, {y})");
        }
    }

    private static IEnumerable<Expr> Shapes(Op op) => op.Arity == 1
        ? [new Unary(op, X), new Unary(op, new Unary(op, X)), new Unary(op, new Unary(Op.Neg, X)), new Unary(op, new Unary(Op.Abs, Y)), new Unary(op, new Const(0.5))]
        : [new Binary(op, X, Y), new Binary(op, X, X), new Binary(op, new Const(2), X), new Binary(op, X, new Const(0)), new Binary(op, X, new Const(1)),
           new Binary(op, new Unary(Op.Neg, X), new Unary(Op.Neg, Y)), new Binary(op, new Const(-1), new Unary(Op.Neg, Y))];

    [TestCaseSource(nameof(Unary))]
    [TestCaseSource(nameof(Binary))]
    public void Operator_Simplify_KeepsTheValue(Op op)
    {
        foreach (var e in Shapes(op))
        {
            var s = Simplify.Apply(e);
            for (int i = 0; i < Xs.Length; i++)
            {
                double want = Eval(e, Xs[i], Ys[i]), got = Eval(s, Xs[i], Ys[i]);
                if (double.IsNaN(want)) continue;
                Assert.That(got, Is.EqualTo(want).Within(1e-12 * Math.Max(1, Math.Abs(want))), $"{e} -> {s} at ({Xs[i]}, {Ys[i]})");
            }
        }
    }

    private static double Eval(Expr e, double x, double y) => e switch
    {
        Const c => c.Value,
        Var v => v.Name == "x" ? x : y,
        Unary u => u.Op.Apply(Eval(u.Arg, x, y)),
        Binary b => b.Op.Apply(Eval(b.Left, x, y), Eval(b.Right, x, y)),
        _ => throw new ArgumentException("pure trees only"),
    };

    [TestCaseSource(nameof(Unary))]
    [TestCaseSource(nameof(Binary))]
    public void Operator_PrintersAndEncodings_RoundTripAndNameIt(Op op)
    {
        foreach (var e in Shapes(op))
        {
            Assert.That(Infix.Parse(Infix.Print(e)), Is.EqualTo(e), $"infix {Infix.Print(e)}");
            Assert.That(ExprEncoding.Decode(ExprEncoding.Encode(e)), Is.EqualTo(e), "encoding");
            Assert.That(Latex.Print(e), Is.Not.Empty);
            Assert.That(StructuralHash.Of(Infix.Parse(Infix.Print(e))), Is.EqualTo(StructuralHash.Of(e)));
        }
        if (!op.IsInfix && op != Op.Neg) Assert.That(Infix.Print(Shapes(op).First()), Does.StartWith(op.Name + "("), "printed under its own name");
        string sympy = op.SymPy(op.Arity == 1 ? ["x"] : ["x", "y"]);
        Assert.That(sympy, Does.Contain("x"), "sympy");
    }

    [Test]
    public void Registry_BuiltInsHaveDistinctNamesAndHashNumbers()
    {
        Assert.That(Ops.BuiltIn.Select(o => o.Name).Distinct().Count(), Is.EqualTo(Ops.BuiltIn.Count));
        Assert.That(Ops.BuiltIn.Select(o => o.HashId).Distinct().Count(), Is.EqualTo(Ops.BuiltIn.Count));
        Assert.That(Op.Tanh.HashId, Is.EqualTo(14UL), "historical numbers keep persisted hashes valid");
        foreach (var op in Every()) Assert.That(Ops.TryParse(op.Name, out var found) && found == op, op.Name);
    }
}
