using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>greater(x, y)</c>: 1 where x &gt; y, else 0 (NaN compares give 0).</summary>
public sealed class GreaterOp() : Op("greater", 2, null, null, 5)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => x > y ? 1f : 0f;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.GreaterThan(x, y) & Vector256<float>.One;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.GreaterThan(x, y) & Vector512<float>.One;
    }

    /// <inheritdoc/>
    public override bool AlwaysFinite => true;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => x > y ? 1.0 : 0.0;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => (0, 0);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Greater(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\left[{a[0].Text} > {a[1].Text}\right]", LatexPiece.Atom);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b) => b.Left.Equals(b.Right) ? new Expr.Const(0) : b; // x > x is false even for NaN and ±inf
}

/// <summary><c>min(x, y)</c>, IEEE 754-2019 minimum (NaN propagates, -0 &lt; +0), as Math.Min.</summary>
public sealed class MinOp() : Op("min", 2, null, null, 6)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => MathF.Min(x, y);
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.Min(x, y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
    }

    /// <inheritdoc/>
    public override bool FiniteOnFinite => true;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => Math.Min(x, y);
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => x <= y ? (1.0, 0.0) : (0.0, 1.0);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Minimum(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\min\left({a[0].Text}, {a[1].Text}\right)", LatexPiece.Atom);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b) => b.Left.Equals(b.Right) ? b.Left : b;
}

/// <summary><c>max(x, y)</c>, IEEE 754-2019 maximum, as Math.Max.</summary>
public sealed class MaxOp() : Op("max", 2, null, null, 7)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => MathF.Max(x, y);
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    }

    /// <inheritdoc/>
    public override bool FiniteOnFinite => true;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => Math.Max(x, y);
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => x >= y ? (1.0, 0.0) : (0.0, 1.0);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Maximum(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\max\left({a[0].Text}, {a[1].Text}\right)", LatexPiece.Atom);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b) => b.Left.Equals(b.Right) ? b.Left : b;
}
