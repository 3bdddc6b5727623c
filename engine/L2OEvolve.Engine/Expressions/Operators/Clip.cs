using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>clip(x)</c>: x clipped to [-1, 1] (NaN stays NaN).</summary>
public sealed class ClipOp() : Op("clip", 1)
{
    private readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => MathF.Min(MathF.Max(x, -1f), 1f);
        public static Vector256<float> V(Vector256<float> x) => Vector256.Min(Vector256.Max(x, -Vector256<float>.One), Vector256<float>.One);
        public static Vector512<float> W(Vector512<float> x) => Vector512.Min(Vector512.Max(x, -Vector512<float>.One), Vector512<float>.One);
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Min(Math.Max(x, -1.0), 1.0);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Math.Abs(x) < 1 ? 1 : 0;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Minimum(t.Maximum(x, t.Constant(x, -1.0)), t.Constant(x, 1.0));
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && inner.Op == this ? inner : u;
}
