using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>abs(x)</c> = |x|.</summary>
public sealed class AbsOp() : Op("abs", 1, null, null, 9)
{
    internal readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => MathF.Abs(x);
        public static Vector256<float> V(Vector256<float> x) => Vector256.Abs(x);
        public static Vector512<float> W(Vector512<float> x) => Vector512.Abs(x);
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Abs(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Math.Sign(x);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Abs(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\left|{a[0].Text}\right|", LatexPiece.Atom);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg switch
    {
        Expr.Unary inner when inner.Op == Abs || inner.Op == Neg => u with { Arg = inner.Arg },
        Expr.Unary nonNegative when nonNegative.Op == Square || nonNegative.Op == Sqrt || nonNegative.Op == Exp => nonNegative,
        _ => u,
    };
}

/// <summary><c>sign(x)</c>: -1, 0 or 1; NaN stays NaN.</summary>
public sealed class SignOp() : Op("sign", 1, null, null, 10)
{
    internal readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => x > 0f ? 1f : x < 0f ? -1f : x == 0f ? 0f : x;
        public static Vector256<float> V(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One,
                Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -Vector256<float>.One,
                    x * Vector256<float>.Zero));
        public static Vector512<float> W(Vector512<float> x) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One,
                Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -Vector512<float>.One,
                    x * Vector512<float>.Zero));
    }

    /// <inheritdoc/>
    public override double Apply(double x) => SignOf(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 0;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Sign(x);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && inner.Op == Sign ? inner : u;
}

/// <summary><c>relu(x)</c>: x where x &gt; 0, else 0 (NaN gives 0).</summary>
public sealed class ReluOp() : Op("relu", 1, null, null, 20)
{
    internal readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => x > 0f ? x : 0f;
        public static Vector256<float> V(Vector256<float> x) => Vector256.GreaterThan(x, Vector256<float>.Zero) & x;
        public static Vector512<float> W(Vector512<float> x) => Vector512.GreaterThan(x, Vector512<float>.Zero) & x;
    }

    /// <inheritdoc/>
    public override double Apply(double x) => x > 0 ? x : 0.0;
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => x > 0 ? 1 : 0;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Relu(x);
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && inner.Op == Relu ? inner : u;
}
