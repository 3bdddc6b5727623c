using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>softsign(x)</c> = x / (1 + |x|), a bounded odd squashing function.</summary>
public sealed class SoftsignOp() : Op("softsign", 1)
{
    private readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => x / (1f + MathF.Abs(x));
        public static Vector256<float> V(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Abs(x));
        public static Vector512<float> W(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Abs(x));
    }

    /// <inheritdoc/>
    public override double Apply(double x) => x / (1.0 + Math.Abs(x));
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 1.0 / ((1.0 + Math.Abs(x)) * (1.0 + Math.Abs(x)));
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Div(x, t.AddScalar(t.Abs(x), 1.0)); // 1 + |x| > 0: no guard
}
