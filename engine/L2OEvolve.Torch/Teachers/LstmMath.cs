using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The logistic function for the fused LSTM cell, in 8-wide vectors and in scalars that give the same bits.
/// </summary>
/// <remarks>
/// Why not TensorPrimitives: its σ computes exp in double and reaches its fast code only after the JIT has promoted
/// a chain of generic helpers, so a training run spends its first minutes in slow code. This one is a float-only
/// Cephes-style exp (range reduction to |r| ≤ ln2/2, degree-6 polynomial, ≈1 ulp), written once for vectors and
/// once for scalars with the same operations in the same order (the same fused multiply-adds: exact in both), so
/// where a row's tail falls never changes a value. Inputs are clamped to ±80, which keeps exp(−x) and σ(x) normal floats (σ(±80)
/// is 1 or 1.8e-35 either way) and exp's last step y·2^k exact, so the vectors may take it with AVX-512's vscalefps
/// and the scalars as a multiplication, with the same bits; NaN stays NaN. tanh is 2σ(2x) − 1: exact to ≈6e-8 absolute, the rounding of
/// O(1) LSTM quantities.
/// </remarks>
internal static class LstmMath
{
    private const float Clamp = 80f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    // Adding and subtracting 1.5·2²³ rounds a float of magnitude < 2²² to the nearest integer (ties to even).
    private const float RoundMagic = 12582912f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
        P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>σ(x) = 1 / (1 + e^(−x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => Reciprocal(1f + Exp(-x));

    /// <summary>σ on 8 lanes, bit-identical to <see cref="Sigmoid(float)"/> per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Reciprocal(Vector256<float>.One + Exp(-x));

    // 1/d. With AVX-512, a 14-bit estimate refined by one Newton step (relative error about 2⁻²⁸ before rounding,
    // so within an ulp of the quotient): a division costs several times as much and σ is the cell's costliest
    // elementwise operation. The scalar form uses the same instruction on one lane, so both agree bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reciprocal(float d)
    {
        if (!Avx512F.IsSupported) return 1f / d;
        float r = Avx512F.Reciprocal14Scalar(Vector128.CreateScalar(d)).ToScalar();
        return MathF.FusedMultiplyAdd(r, MathF.FusedMultiplyAdd(-d, r, 1f), r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reciprocal(Vector256<float> d)
    {
        if (!Avx512F.VL.IsSupported) return Vector256<float>.One / d;
        var r = Avx512F.VL.Reciprocal14(d);
        return Vector256.FusedMultiplyAdd(r, Vector256.FusedMultiplyAdd(-d, r, Vector256<float>.One), r);
    }

    // Only reached where Vector512 is accelerated, which implies AVX-512F.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reciprocal(Vector512<float> d)
    {
        var r = Avx512F.Reciprocal14(d);
        return Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-d, r, Vector512<float>.One), r);
    }

    /// <summary>σ on 16 lanes, bit-identical to <see cref="Sigmoid(float)"/> per lane (AVX-512 only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Reciprocal(Vector512<float>.One + Exp(-x));

    /// <summary>e^x for x clamped to [−80, 80].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        x = Math.Clamp(x, -Clamp, Clamp);
        float k = MathF.FusedMultiplyAdd(x, Log2E, RoundMagic) - RoundMagic;
        float r = MathF.FusedMultiplyAdd(k, -Ln2Lo, MathF.FusedMultiplyAdd(k, -Ln2Hi, x));
        float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(
            MathF.FusedMultiplyAdd(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float y = MathF.FusedMultiplyAdd(p, r * r, r) + 1f;
        return y * BitConverter.Int32BitsToSingle(((int)k + 127) << 23);
    }

    /// <summary>e^x on 8 lanes, bit-identical to <see cref="Exp(float)"/> per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-Clamp)), Vector256.Create(Clamp));
        var k = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(RoundMagic)) - Vector256.Create(RoundMagic);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), x));
        var p = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(
            Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1)), r, Vector256.Create(P2)), r, Vector256.Create(P3)),
            r, Vector256.Create(P4)), r, Vector256.Create(P5));
        var y = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        if (Avx512F.VL.IsSupported) return Avx512F.VL.Scale(y, k);
        var scale = (Vector256.ConvertToInt32(k) + Vector256.Create(127)) << 23;
        return y * scale.AsSingle();
    }

    /// <summary>e^x on 16 lanes, bit-identical to <see cref="Exp(float)"/> per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-Clamp)), Vector512.Create(Clamp));
        var k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(RoundMagic)) - Vector512.Create(RoundMagic);
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo), Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi), x));
        var p = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(
            Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1)), r, Vector512.Create(P2)), r, Vector512.Create(P3)),
            r, Vector512.Create(P4)), r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        // y·2^k in one operation (vscalefps) instead of four; y·2^k is exact here, so the same bits.
        if (Avx512F.IsSupported) return Avx512F.Scale(y, k);
        var scale = (Vector512.ConvertToInt32(k) + Vector512.Create(127)) << 23;
        return y * scale.AsSingle();
    }

    /// <summary>
    /// σ in place over <paramref name="values"/>: 16 lanes at a time where AVX-512 runs (on a CPU that splits
    /// 512-bit operations in two, still about a third faster than 8 lanes: σ is bound by issuing its two dozen
    /// operations, not by their arithmetic), then 8, then one; every path gives the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void SigmoidInPlace(float* values, long count)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
                Sigmoid(Vector512.Load(values + i)).Store(values + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
                Sigmoid(Vector256.Load(values + i)).Store(values + i);
        // In place, so no overlapping last vector: the tail runs scalar, with the same bits.
        for (; i < count; i++) values[i] = Sigmoid(values[i]);
    }

    /// <summary>tanh in place over <paramref name="values"/>, as 2σ(2x) − 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void TanhInPlace(float* values, long count)
    {
        long i = 0;
        var one = Vector256<float>.One;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
                (Sigmoid(Vector512.Load(values + i) * 2f) * 2f - Vector512<float>.One).Store(values + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
                (Sigmoid(Vector256.Load(values + i) * 2f) * 2f - one).Store(values + i);
        for (; i < count; i++) values[i] = 2f * Sigmoid(2f * values[i]) - 1f;
    }

    /// <summary>
    /// values += addend, elementwise (exact per element, so any vector width gives the same bits). Compiled
    /// optimised at once: TensorPrimitives' generic add runs as slow tier-0 code through a training run's first
    /// seconds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AddInPlace(float* values, float* addend, long count)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
                (Vector512.Load(values + i) + Vector512.Load(addend + i)).Store(values + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
                (Vector256.Load(values + i) + Vector256.Load(addend + i)).Store(values + i);
        for (; i < count; i++) values[i] += addend[i];
    }

    /// <summary>ELU (α = 1) in place: x where x &gt; 0, else e^x − 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void EluInPlace(float* values, long count)
    {
        long i = 0;
        var one = Vector256<float>.One;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
            {
                var x = Vector512.Load(values + i);
                Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, Exp(x) - Vector512<float>.One).Store(values + i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
            {
                var x = Vector256.Load(values + i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Exp(x) - one).Store(values + i);
            }
        for (; i < count; i++) values[i] = values[i] > 0f ? values[i] : Exp(values[i]) - 1f;
    }

    /// <summary>
    /// Gradient through ELU in place, from its output y: g ← g where y &gt; 0, else g·(y + 1) (= g·e^x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void EluBackwardInPlace(float* grads, float* outputs, long count)
    {
        long i = 0;
        var one = Vector256<float>.One;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
            {
                var y = Vector256.Load(outputs + i);
                var slope = Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), one, y + one);
                (Vector256.Load(grads + i) * slope).Store(grads + i);
            }
        for (; i < count; i++) grads[i] *= outputs[i] > 0f ? 1f : outputs[i] + 1f;
    }
}
