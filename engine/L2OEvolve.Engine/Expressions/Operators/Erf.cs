using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>erf(x)</c>, the error function: 1 - erfc(x), with a Taylor series near 0 where that difference cancels.</summary>
public sealed class ErfOp() : Op("erf", 1)
{
    private const double Small = 0.5;
    private const double TwoOverSqrtPi = 1.1283791670955126;

    // erf(x) = 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1)); to x^13 the truncation is below 1e-9 relative for |x| < 0.5.
    private const float C1 = 1f, C3 = -1f / 3, C5 = 1f / 10, C7 = -1f / 42, C9 = 1f / 216, C11 = -1f / 1320, C13 = 1f / 9360;

    private static double Series(double x)
    {
        double z = x * x;
        return TwoOverSqrtPi * x * (C1 + z * (C3 + z * (C5 + z * (C7 + z * (C9 + z * (C11 + z * (double)C13))))));
    }

    /// <summary>From x and e = erfc(x): the series below |x| = 0.5, else 1 - e.</summary>
    private readonly struct Finish : IBinaryLanes
    {
        public static float S(float x, float e) => MathF.Abs(x) < (float)Small ? (float)Series(x) : 1f - e;

        public static Vector256<float> V(Vector256<float> x, Vector256<float> e)
        {
            var z = x * x;
            var p = Vector256.Create(C11) + z * Vector256.Create(C13);
            p = Vector256.Create(C9) + z * p;
            p = Vector256.Create(C7) + z * p;
            p = Vector256.Create(C5) + z * p;
            p = Vector256.Create(C3) + z * p;
            p = Vector256.Create(C1) + z * p;
            var series = Vector256.Create((float)TwoOverSqrtPi) * x * p;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create((float)Small)), series, Vector256<float>.One - e);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> e)
        {
            var z = x * x;
            var p = Vector512.Create(C11) + z * Vector512.Create(C13);
            p = Vector512.Create(C9) + z * p;
            p = Vector512.Create(C7) + z * p;
            p = Vector512.Create(C5) + z * p;
            p = Vector512.Create(C3) + z * p;
            p = Vector512.Create(C1) + z * p;
            var series = Vector512.Create((float)TwoOverSqrtPi) * x * p;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create((float)Small)), series, Vector512<float>.One - e);
        }
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Abs(x) < Small ? Series(x) : 1.0 - SpecialFunctions.Erfc(x);

    /// <inheritdoc/>
    public override double Derivative(double x, double value) => TwoOverSqrtPi * Math.Exp(-x * x);

    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        // Finish needs x after erfc has been written to d, which may be x itself (and erfc clobbers scratch), so x
        // is copied per chunk.
        const int Chunk = 256;
        Span<float> xs = stackalloc float[Chunk];
        for (int i = 0; i < d.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, d.Length - i);
            var xi = xs[..n];
            x.Slice(i, n).CopyTo(xi);
            ErfcOp.Span(xi, d.Slice(i, n), scratch);
            SpanKernels.Binary<Finish>(xi, d.Slice(i, n), d.Slice(i, n));
        }
    }

    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.AddScalar(t.Neg(t.Erfc(x)), 1.0);
}
