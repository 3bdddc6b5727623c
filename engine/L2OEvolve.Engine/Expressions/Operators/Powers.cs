using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

using Simplifier = L2OEvolve.Engine.Expressions.Simplify;

namespace L2OEvolve.Engine.Expressions;

/// <summary>Signed power <c>pow(x, y)</c> = sign(x)·|x|^y, as the paper's PySR runs.</summary>
public sealed class PowOp() : Op("pow", 2, null, null, 4)
{
    /// <summary>sign(x)·m, the final step of the signed power.</summary>
    private readonly struct SignTimes : IBinaryLanes
    {
        public static float S(float x, float m) => SignOp.Lanes.S(x) * m;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> m) => SignOp.Lanes.V(x) * m;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> m) => SignOp.Lanes.W(x) * m;
    }

    /// <summary>m·sign(x) with the magnitude first, for a broadcast base.</summary>
    private readonly struct SignTimesSwapped : IBinaryLanes
    {
        public static float S(float m, float x) => SignOp.Lanes.S(x) * m;
        public static Vector256<float> V(Vector256<float> m, Vector256<float> x) => SignOp.Lanes.V(x) * m;
        public static Vector512<float> W(Vector512<float> m, Vector512<float> x) => SignOp.Lanes.W(x) * m;
    }

    /// <inheritdoc/>
    public override double Apply(double x, double y) => double.IsNaN(x) ? double.NaN : Math.Sign(x) * Math.Pow(Math.Abs(x), y);

    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value)
    {
        if (x == 0) return (0, 0);
        double ax = Math.Abs(x);
        return (y * Math.Pow(ax, y - 1), value * Math.Log(ax)); // d/dx sign(x)|x|^y = y|x|^(y-1)
    }

    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        var s = scratch[..d.Length];
        SpanKernels.Unary<AbsOp.Lanes>(x, s);
        TensorPrimitives.Pow(s, y[..d.Length], s);
        SpanKernels.Binary<SignTimes>(x, s, d);
    }

    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch)
    {
        var s = scratch[..d.Length];
        SpanKernels.Unary<AbsOp.Lanes>(x, s);
        MagnitudePower(s, y, s);
        SpanKernels.Binary<SignTimes>(x, s, d);
    }

    // Doubles per step of the vectorised power (2 KB of stack).
    private const int PowerChunk = 256;

    /// <summary>
    /// d = a^y for a ≥ 0 (or NaN) and a scalar exponent: the teachers' p-norm features and every <c>pow(x, c)</c>
    /// candidate take this path. <c>TensorPrimitives.Pow</c> calls
    /// the scalar powf per element (~4.5 ns); instead a² and a^½ are one correctly rounded operation, and any other
    /// finite non-zero y is exp(y·ln a) in double precision, vectorised, then rounded to float: that is within an ulp
    /// of powf (the double result is far closer to a^y than float's spacing) at about half its cost. a = 0 or ∞ give
    /// 0 or ∞ through ln a = ∓∞, as pow does; y = 0 and non-finite y keep pow's own special cases.
    /// </summary>
    internal static void MagnitudePower(ReadOnlySpan<float> a, float y, Span<float> d)
    {
        a = a[..d.Length];
        if (y == 2f) TensorPrimitives.Multiply(a, a, d);
        else if (y == 0.5f) TensorPrimitives.Sqrt(a, d);
        else if (y == 0f || !float.IsFinite(y)) TensorPrimitives.Pow(a, y, d);
        else
        {
            Span<double> w = stackalloc double[PowerChunk];
            for (int i = 0; i < d.Length; i += PowerChunk)
            {
                int n = Math.Min(PowerChunk, d.Length - i);
                var wi = w[..n];
                TensorPrimitives.ConvertChecked(a.Slice(i, n), wi); // float → double is exact
                TensorPrimitives.Log(wi, wi);
                TensorPrimitives.Multiply(wi, (double)y, wi);
                TensorPrimitives.Exp(wi, wi);
                TensorPrimitives.ConvertTruncating(wi, d.Slice(i, n)); // double → float rounds to nearest
            }
        }
    }

    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        var s = scratch[..d.Length];
        TensorPrimitives.Pow(MathF.Abs(x), y[..d.Length], s);
        SpanKernels.Binary<SignTimesSwapped>(s, x, d);
    }

    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Mul(t.Sign(x), t.Pow(t.Abs(x), y));
    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> a) => $"(sp.sign({a[0]}) * sp.Abs({a[0]})**({a[1]}))";
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($"{a[0].Wrap(a[0].Level < LatexPiece.Atom || LatexPiece.IsFraction(((Expr.Binary)node).Left))}^{{{a[1].Text}}}", LatexPiece.Power);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b) =>
        Simplifier.IsConst(b.Right, 1) ? b.Left                          // sign(x)|x|^1 = x
        : Simplifier.IsConst(b.Right, 0) ? new Expr.Unary(Sign, b.Left) // sign(x)|x|^0 = sign(x)
        : b;
}

/// <summary><c>square(x)</c> = x².</summary>
public sealed class SquareOp() : Op("square", 1, null, null, 18)
{
    private readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => x * x;
        public static Vector256<float> V(Vector256<float> x) => x * x;
        public static Vector512<float> W(Vector512<float> x) => x * x;
    }

    /// <inheritdoc/>
    public override bool FiniteOnFinite => false;
    /// <inheritdoc/>
    public override double Apply(double x) => x * x;
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 2 * x;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Mul(x, x);
    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> a) => $"({a[0]})**2";
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($"{a[0].Wrap(a[0].Level < LatexPiece.Atom || LatexPiece.IsFraction(((Expr.Unary)node).Arg))}^{{2}}", LatexPiece.Power);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && (inner.Op == Abs || inner.Op == Neg) ? u with { Arg = inner.Arg } : u;
}

/// <summary><c>cube(x)</c> = x³.</summary>
public sealed class CubeOp() : Op("cube", 1, null, null, 19)
{
    private readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => x * x * x;
        public static Vector256<float> V(Vector256<float> x) => x * x * x;
        public static Vector512<float> W(Vector512<float> x) => x * x * x;
    }

    /// <inheritdoc/>
    public override bool FiniteOnFinite => false;
    /// <inheritdoc/>
    public override double Apply(double x) => x * x * x;
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 3 * x * x;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Mul(t.Mul(x, x), x);
    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> a) => $"({a[0]})**3";
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($"{a[0].Wrap(a[0].Level < LatexPiece.Atom || LatexPiece.IsFraction(((Expr.Unary)node).Arg))}^{{3}}", LatexPiece.Power);
}

/// <summary><c>sqrt(x)</c> = √|x| (PySR's <c>sqrtm</c>).</summary>
public sealed class SqrtOp() : Op("sqrt", 1, "sqrtm", null, 11)
{
    private readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => MathF.Sqrt(MathF.Abs(x));
        public static Vector256<float> V(Vector256<float> x) => Vector256.Sqrt(Vector256.Abs(x));
        public static Vector512<float> W(Vector512<float> x) => Vector512.Sqrt(Vector512.Abs(x));
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Sqrt(Math.Abs(x));
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => x == 0 ? 0 : Math.Sign(x) / (2 * value);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Sqrt(t.Abs(x));
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new(((Expr.Unary)node).Arg is Expr.Unary inner && (inner.Op == Abs || inner.Op == Square || inner.Op == Exp || inner.Op == Sqrt)
            ? $@"\sqrt{{{a[0].Text}}}" : $@"\sqrt{{\left|{a[0].Text}\right|}}", LatexPiece.Atom);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && (inner.Op == Abs || inner.Op == Neg) ? u with { Arg = inner.Arg } : u;
}
