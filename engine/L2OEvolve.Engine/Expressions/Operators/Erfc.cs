using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>erfc(x)</c>, the complementary error function (|relative error| below 1.2e-7).</summary>
public sealed class ErfcOp() : Op("erfc", 1, null, null, 17)
{
    /// <summary>The exponent of the erfc Chebyshev fit (see <see cref="SpecialFunctions.Erfc"/>): -z² - 1.2655 + t·P(t).</summary>
    internal readonly struct Exponent : IUnaryLanes
    {
        public static float S(float x)
        {
            float z = MathF.Abs(x), t = 1f / (1f + 0.5f * z);
            return -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
                + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        }

        public static Vector256<float> V(Vector256<float> x)
        {
            var z = Vector256.Abs(x);
            var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.5f) * z);
            var p = Vector256.Create(0.17087277f);
            p = Vector256.Create(-0.82215223f) + t * p;
            p = Vector256.Create(1.48851587f) + t * p;
            p = Vector256.Create(-1.13520398f) + t * p;
            p = Vector256.Create(0.27886807f) + t * p;
            p = Vector256.Create(-0.18628806f) + t * p;
            p = Vector256.Create(0.09678418f) + t * p;
            p = Vector256.Create(0.37409196f) + t * p;
            p = Vector256.Create(1.00002368f) + t * p;
            return -z * z - Vector256.Create(1.26551223f) + t * p;
        }

        public static Vector512<float> W(Vector512<float> x)
        {
            var z = Vector512.Abs(x);
            var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
            var p = Vector512.Create(0.17087277f);
            p = Vector512.Create(-0.82215223f) + t * p;
            p = Vector512.Create(1.48851587f) + t * p;
            p = Vector512.Create(-1.13520398f) + t * p;
            p = Vector512.Create(0.27886807f) + t * p;
            p = Vector512.Create(-0.18628806f) + t * p;
            p = Vector512.Create(0.09678418f) + t * p;
            p = Vector512.Create(0.37409196f) + t * p;
            p = Vector512.Create(1.00002368f) + t * p;
            return -z * z - Vector512.Create(1.26551223f) + t * p;
        }
    }

    /// <summary>erfc from x and e = exp(exponent): r = t·e, and 2 - r for negative x.</summary>
    internal readonly struct Finish : IBinaryLanes
    {
        public static float S(float x, float e)
        {
            float r = e / (1f + 0.5f * MathF.Abs(x));
            return x >= 0f ? r : 2f - r;
        }

        public static Vector256<float> V(Vector256<float> x, Vector256<float> e)
        {
            var r = e / (Vector256<float>.One + Vector256.Create(0.5f) * Vector256.Abs(x));
            return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256.Create(2f) - r, r);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> e)
        {
            var r = e / (Vector512<float>.One + Vector512.Create(0.5f) * Vector512.Abs(x));
            return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512.Create(2f) - r, r);
        }
    }

    /// <summary>erfc over a block with the SIMD Chebyshev fit (also the core of erf).</summary>
    internal static void Span(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        x = x[..d.Length];
        var s = scratch[..d.Length];
        SpanKernels.Unary<Exponent>(x, s);
        TensorPrimitives.Exp(s, s);
        SpanKernels.Binary<Finish>(x, s, d);
    }

    /// <inheritdoc/>
    public override double Apply(double x) => SpecialFunctions.Erfc(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => -2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => Span(x, d, scratch);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Erfc(x);
}
