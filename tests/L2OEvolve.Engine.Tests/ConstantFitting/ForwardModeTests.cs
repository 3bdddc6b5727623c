using L2OEvolve.Engine.ConstantFitting;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Tests.RowEvaluation;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.ConstantFitting;

/// <summary>
/// Forward mode's fast paths (values-only trial passes, operators bound without a virtual call per row, widened
/// feature columns kept between passes) give exactly the numbers of the generic path: the same bits, NaN and ±inf included.
/// </summary>
public class ForwardModeTests
{
    private static readonly Op[] Unaries = [Op.Neg, Op.Square, Op.Cube, Op.Sqrt, Op.Exp, Op.Log, Op.Sin, Op.Cos, Op.Tanh];
    private static readonly Op[] Binaries = [Op.Add, Op.Sub, Op.Mul, Op.Div];
    private static readonly string[] Names = ["x0", "x1"];

    /// <summary>The same operator behind a type no fast path knows: forward mode then takes its generic, virtual route.</summary>
    private sealed class Opaque(Op inner) : Op("opaque_" + inner.Name, inner.Arity)
    {
        public override double Apply(double x) => inner.Apply(x);
        public override double Apply(double x, double y) => inner.Apply(x, y);
        public override double Derivative(double x, double value) => inner.Derivative(x, value);
        public override (double Dx, double Dy) Partials(double x, double y, double value) => inner.Partials(x, y, value);

        // The operator's own block form of value and partials (+ − × give ±1 even beside a NaN, as forward mode's
        // vector path for them must too).
        public override void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy) =>
            inner.ValueAndPartials(x, y, v, dx, dy);
    }

    private static Expr Tree(ref Rng rng, int size)
    {
        if (size <= 1)
            return rng.NextBool(0.5) ? new Var(Names[rng.NextInt(Names.Length)]) : new Const(Math.Round(rng.NextDouble() * 6 - 3, 2));
        if (size == 2 || rng.NextBool(0.4)) return new Unary(Unaries[rng.NextInt(Unaries.Length)], Tree(ref rng, size - 1));
        int left = 1 + rng.NextInt(size - 2);
        return new Binary(Binaries[rng.NextInt(Binaries.Length)], Tree(ref rng, left), Tree(ref rng, size - 1 - left));
    }

    /// <summary>The tree with its unary operators (and, when asked, its binary ones) made opaque.</summary>
    private static Expr Opaqued(Expr e, bool binaries) => e switch
    {
        Unary u => new Unary(new Opaque(u.Op), Opaqued(u.Arg, binaries)),
        Binary b => new Binary(binaries ? new Opaque(b.Op) : b.Op, Opaqued(b.Left, binaries), Opaqued(b.Right, binaries)),
        _ => e,
    };

    /// <summary>Rows across every operator's awkward inputs: zeros, negatives for sqrt/log, overflow for exp and cube, a NaN.</summary>
    private static float[][] Columns(int rows)
    {
        var rng = new Rng(5);
        var cols = new float[Names.Length][];
        for (int j = 0; j < cols.Length; j++)
        {
            cols[j] = new float[rows];
            for (int i = 0; i < rows; i++)
                cols[j][i] = (i % 37) switch { 0 => 0f, 1 => -0f, 2 => 800f, 3 => -1e13f, 4 when j == 1 => float.NaN, _ => (float)(rng.NextDouble() * 8 - 4) };
        }
        return cols;
    }

    private static (double Sse, double[] JtJ, double[] Jtr) Pass(Expr e, float[][] cols, int coordinates, int steps, float[] target, bool derivatives,
        bool afterTrial = false)
    {
        var rule = Compiler.Compile(e, Names);
        int k = rule.Constants.Length;
        var fm = new ForwardMode(rule, Enumerable.Range(0, k).ToArray(), k, coordinates, cols.Length);
        try
        {
            var theta = rule.Constants.ToArray();
            var (jtj, jtr) = derivatives ? (new double[k * k], new double[k]) : (Array.Empty<double>(), Array.Empty<double>());
            // Twice on one instance: the second pass reads the widened columns the first one kept, and after a
            // values-only pass at the same constants, the unary values that pass recorded.
            fm.Accumulate(theta, cols, steps, target, afterTrial ? [] : jtj, afterTrial ? [] : jtr);
            double sse = fm.Accumulate(theta, cols, steps, target, jtj, jtr);
            return (sse, jtj, jtr);
        }
        finally { fm.Release(); }
    }

    private static long[] Bits(double sse, double[] jtj, double[] jtr) =>
        [BitConverter.DoubleToInt64Bits(sse), .. jtj.Select(BitConverter.DoubleToInt64Bits), .. jtr.Select(BitConverter.DoubleToInt64Bits)];

    [TestCase(300, 1)]   // row data in two blocks, the last one partial
    [TestCase(200, 1)]   // row data in one block (values recorded by a trial pass are reused)
    [TestCase(7, 30)]    // a stateless rule over a trajectory in one block
    [TestCase(7, 40)]    // a trajectory: several steps per block
    public void Accumulate_FastPaths_GiveTheGenericPathsBits(int coordinates, int steps)
    {
        var cols = Columns(coordinates * steps);
        var target = Columns(coordinates * steps)[0].Select(v => float.IsNaN(v) ? 1f : v / 3).ToArray();
        var rng = new Rng(21);
        int compared = 0, infinite = 0;
        for (int t = 0; t < 400; t++)
        {
            var e = Tree(ref rng, 2 + rng.NextInt(12));
            if (Compiler.Compile(e, Names).Constants.Length == 0) continue;
            var full = Pass(e, cols, coordinates, steps, target, derivatives: true);
            // Unary operators are bound directly with derivatives, and + − × run a vector at a time; the generic path
            // multiplies each operator's own partials (block form) into the gradients row by row.
            var generic = Pass(Opaqued(e, binaries: true), cols, coordinates, steps, target, derivatives: true);
            Assert.That(Bits(full.Sse, full.JtJ, full.Jtr), Is.EqualTo(Bits(generic.Sse, generic.JtJ, generic.Jtr)), Show.Of(e));
            var relinearised = Pass(e, cols, coordinates, steps, target, derivatives: true, afterTrial: true);
            Assert.That(Bits(relinearised.Sse, relinearised.JtJ, relinearised.Jtr), Is.EqualTo(Bits(generic.Sse, generic.JtJ, generic.Jtr)), Show.Of(e));
            // A trial pass (values only) gives the SSE of the full pass, and so does the generic values-only pass.
            double trial = Pass(e, cols, coordinates, steps, target, derivatives: false).Sse;
            double genericTrial = Pass(Opaqued(e, binaries: true), cols, coordinates, steps, target, derivatives: false).Sse;
            Assert.That(BitConverter.DoubleToInt64Bits(trial), Is.EqualTo(BitConverter.DoubleToInt64Bits(full.Sse)), Show.Of(e));
            Assert.That(BitConverter.DoubleToInt64Bits(genericTrial), Is.EqualTo(BitConverter.DoubleToInt64Bits(full.Sse)), Show.Of(e));
            compared++;
            if (double.IsInfinity(full.Sse)) infinite++;
        }
        Assert.That(compared, Is.GreaterThan(200));
        Assert.That(infinite, Is.GreaterThan(0), "some rules must reach the non-finite cases");
        Assert.That(infinite, Is.LessThan(compared), "and most must not");
    }

    [Test]
    public void Fit_SameRuleTwice_SameConstantsAndLoss()
    {
        // The fitter's pooled scratch and kept columns carry nothing from one fit into the next.
        var rng = new Rng(8);
        float[][] cols = [.. Names.Select(_ => Enumerable.Range(0, 256).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray())];
        var target = cols[1].Select(v => 1.5f * MathF.Sin(v) + 0.3f).ToArray();
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Const(1), new Unary(Op.Sin, new Var("x1"))), new Const(0));
        var ws = new EvalWorkspace();
        var first = ConstantOptimizer.Fit(e, Names, cols, 256, target, ws);
        ConstantOptimizer.Fit(new Unary(Op.Exp, new Binary(Op.Mul, new Const(0.5), new Var("x0"))), Names, cols, 256, target, ws);
        var again = ConstantOptimizer.Fit(e, Names, cols, 256, target, ws);
        Assert.That(again.Expr, Is.EqualTo(first.Expr));
        Assert.That(again.Loss, Is.EqualTo(first.Loss));
        Assert.That(first.Improved, Is.True);
    }
}
