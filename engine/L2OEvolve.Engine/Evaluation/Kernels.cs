using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Evaluation;

/// <summary>Element-wise float32 SIMD kernels with the semantics of <see cref="Ops.Apply(Op, double, double)"/>.</summary>
/// <remarks>
/// Every kernel allows its destination to be exactly one of its sources (in-place stack updates) and touches
/// element i of the destination only after reading element i of the sources. Arithmetic runs in hand-written
/// Vector512/Vector256 loops specialised per operator through static abstract members (no delegate calls);
/// transcendental functions go through TensorPrimitives.
/// </remarks>
internal static class Kernels
{
    internal interface IBin
    {
        static abstract float S(float x, float y);
        static abstract Vector256<float> V(Vector256<float> x, Vector256<float> y);
        static abstract Vector512<float> W(Vector512<float> x, Vector512<float> y);
    }

    internal interface IUn
    {
        static abstract float S(float x);
        static abstract Vector256<float> V(Vector256<float> x);
        static abstract Vector512<float> W(Vector512<float> x);
    }

    private readonly struct AddOp : IBin
    {
        public static float S(float x, float y) => x + y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x + y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x + y;
    }

    private readonly struct SubOp : IBin
    {
        public static float S(float x, float y) => x - y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x - y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x - y;
    }

    private readonly struct MulOp : IBin
    {
        public static float S(float x, float y) => x * y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x * y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x * y;
    }

    /// <summary>Protected division: x/0 = 1.</summary>
    private readonly struct DivOp : IBin
    {
        public static float S(float x, float y) => y == 0f ? 1f : x / y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.Equals(y, Vector256<float>.Zero), Vector256<float>.One, x / y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) =>
            Vector512.ConditionalSelect(Vector512.Equals(y, Vector512<float>.Zero), Vector512<float>.One, x / y);
    }

    /// <summary>1 where x &gt; y, else 0 (so NaN compares give 0, as the reference).</summary>
    private readonly struct GreaterOp : IBin
    {
        public static float S(float x, float y) => x > y ? 1f : 0f;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.GreaterThan(x, y) & Vector256<float>.One;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.GreaterThan(x, y) & Vector512<float>.One;
    }

    /// <summary>IEEE 754-2019 minimum (NaN propagates, -0 &lt; +0), as Math.Min.</summary>
    private readonly struct MinOp : IBin
    {
        public static float S(float x, float y) => MathF.Min(x, y);
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.Min(x, y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
    }

    private readonly struct MaxOp : IBin
    {
        public static float S(float x, float y) => MathF.Max(x, y);
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    }

    private readonly struct NegOp : IUn
    {
        public static float S(float x) => -x;
        public static Vector256<float> V(Vector256<float> x) => -x;
        public static Vector512<float> W(Vector512<float> x) => -x;
    }

    private readonly struct AbsOp : IUn
    {
        public static float S(float x) => MathF.Abs(x);
        public static Vector256<float> V(Vector256<float> x) => Vector256.Abs(x);
        public static Vector512<float> W(Vector512<float> x) => Vector512.Abs(x);
    }

    /// <summary>-1, 0 or 1; NaN stays NaN (x itself is returned for 0 and NaN).</summary>
    private readonly struct SignOp : IUn
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

    private readonly struct SquareOp : IUn
    {
        public static float S(float x) => x * x;
        public static Vector256<float> V(Vector256<float> x) => x * x;
        public static Vector512<float> W(Vector512<float> x) => x * x;
    }

    private readonly struct CubeOp : IUn
    {
        public static float S(float x) => x * x * x;
        public static Vector256<float> V(Vector256<float> x) => x * x * x;
        public static Vector512<float> W(Vector512<float> x) => x * x * x;
    }

    /// <summary>x where x &gt; 0, else 0 (NaN gives 0, as the reference).</summary>
    private readonly struct ReluOp : IUn
    {
        public static float S(float x) => x > 0f ? x : 0f;
        public static Vector256<float> V(Vector256<float> x) => Vector256.GreaterThan(x, Vector256<float>.Zero) & x;
        public static Vector512<float> W(Vector512<float> x) => Vector512.GreaterThan(x, Vector512<float>.Zero) & x;
    }

    private readonly struct SqrtAbsOp : IUn
    {
        public static float S(float x) => MathF.Sqrt(MathF.Abs(x));
        public static Vector256<float> V(Vector256<float> x) => Vector256.Sqrt(Vector256.Abs(x));
        public static Vector512<float> W(Vector512<float> x) => Vector512.Sqrt(Vector512.Abs(x));
    }

    /// <summary>|x| + eps, the argument of the protected log.</summary>
    private readonly struct AbsEpsOp : IUn
    {
        private const float Eps = (float)Ops.LogEpsilon;
        public static float S(float x) => MathF.Abs(x) + Eps;
        public static Vector256<float> V(Vector256<float> x) => Vector256.Abs(x) + Vector256.Create(Eps);
        public static Vector512<float> W(Vector512<float> x) => Vector512.Abs(x) + Vector512.Create(Eps);
    }

    /// <summary>The exponent of the erfc Chebyshev fit (see <see cref="SpecialFunctions.Erfc"/>): -z² - 1.2655 + t·P(t).</summary>
    private readonly struct ErfcExponentOp : IUn
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
    private readonly struct ErfcFinishOp : IBin
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

    /// <summary>sign(x)·m, the final step of the signed power sign(x)|x|^y.</summary>
    private readonly struct SignTimesOp : IBin
    {
        public static float S(float x, float m) => SignOp.S(x) * m;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> m) => SignOp.V(x) * m;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> m) => SignOp.W(x) * m;
    }

    /// <summary>
    /// tanh with full relative accuracy near 0: TensorPrimitives.Tanh (in <c>t</c>) loses it below |x| ≈ 0.5 (it
    /// cancels 1 - 2/(e^2x+1)), so small |x| takes the Taylor series to x^19 (truncation below 1e-8 relative).
    /// </summary>
    private readonly struct TanhFixOp : IBin
    {
        private const float Small = 0.6f;
        private const float C3 = -0.333333333f, C5 = 0.133333333f, C7 = -0.0539682540f, C9 = 0.0218694885f,
            C11 = -0.00886323553f, C13 = 0.00359212803f, C15 = -0.00145583438f, C17 = 0.000590027440f, C19 = -0.000239129114f;

        public static float S(float x, float t)
        {
            if (!(MathF.Abs(x) < Small)) return t;
            float z = x * x;
            return x + x * z * (C3 + z * (C5 + z * (C7 + z * (C9 + z * (C11 + z * (C13 + z * (C15 + z * (C17 + z * C19))))))));
        }

        public static Vector256<float> V(Vector256<float> x, Vector256<float> t)
        {
            var z = x * x;
            var p = Vector256.Create(C19);
            p = Vector256.Create(C17) + z * p;
            p = Vector256.Create(C15) + z * p;
            p = Vector256.Create(C13) + z * p;
            p = Vector256.Create(C11) + z * p;
            p = Vector256.Create(C9) + z * p;
            p = Vector256.Create(C7) + z * p;
            p = Vector256.Create(C5) + z * p;
            p = Vector256.Create(C3) + z * p;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Small)), x + x * z * p, t);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> t)
        {
            var z = x * x;
            var p = Vector512.Create(C19);
            p = Vector512.Create(C17) + z * p;
            p = Vector512.Create(C15) + z * p;
            p = Vector512.Create(C13) + z * p;
            p = Vector512.Create(C11) + z * p;
            p = Vector512.Create(C9) + z * p;
            p = Vector512.Create(C7) + z * p;
            p = Vector512.Create(C5) + z * p;
            p = Vector512.Create(C3) + z * p;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Small)), x + x * z * p, t);
        }
    }

    /// <summary>sinh with full relative accuracy near 0 (TensorPrimitives.Sinh cancels e^x - e^-x): Taylor to x^13 below |x| = 1.</summary>
    private readonly struct SinhFixOp : IBin
    {
        private const float C3 = 1f / 6, C5 = 1f / 120, C7 = 1f / 5040, C9 = 1f / 362880, C11 = 1f / 39916800, C13 = 1f / 6227020800;

        public static float S(float x, float t)
        {
            if (!(MathF.Abs(x) < 1f)) return t;
            float z = x * x;
            return x + x * z * (C3 + z * (C5 + z * (C7 + z * (C9 + z * (C11 + z * C13)))));
        }

        public static Vector256<float> V(Vector256<float> x, Vector256<float> t)
        {
            var z = x * x;
            var p = Vector256.Create(C11) + z * Vector256.Create(C13);
            p = Vector256.Create(C9) + z * p;
            p = Vector256.Create(C7) + z * p;
            p = Vector256.Create(C5) + z * p;
            p = Vector256.Create(C3) + z * p;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256<float>.One), x + x * z * p, t);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> t)
        {
            var z = x * x;
            var p = Vector512.Create(C11) + z * Vector512.Create(C13);
            p = Vector512.Create(C9) + z * p;
            p = Vector512.Create(C7) + z * p;
            p = Vector512.Create(C5) + z * p;
            p = Vector512.Create(C3) + z * p;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512<float>.One), x + x * z * p, t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void VV<T>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) where T : struct, IBin
    {
        int n = d.Length, i = 0;
        if (x.Length < n || y.Length < n) throw new ArgumentException("kernel operand shorter than destination");
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pd = ref MemoryMarshal.GetReference(d);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
                T.W(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
                T.V(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = T.S(Unsafe.Add(ref px, i), Unsafe.Add(ref py, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void VS<T>(ReadOnlySpan<float> x, float y, Span<float> d) where T : struct, IBin
    {
        int n = d.Length, i = 0;
        if (x.Length < n) throw new ArgumentException("kernel operand shorter than destination");
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(d);
        if (Vector512.IsHardwareAccelerated)
        {
            var vy = Vector512.Create(y);
            for (; i <= n - 16; i += 16) T.W(Vector512.LoadUnsafe(ref px, (nuint)i), vy).StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vy = Vector256.Create(y);
            for (; i <= n - 8; i += 8) T.V(Vector256.LoadUnsafe(ref px, (nuint)i), vy).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = T.S(Unsafe.Add(ref px, i), y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SV<T>(float x, ReadOnlySpan<float> y, Span<float> d) where T : struct, IBin
    {
        int n = d.Length, i = 0;
        if (y.Length < n) throw new ArgumentException("kernel operand shorter than destination");
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pd = ref MemoryMarshal.GetReference(d);
        if (Vector512.IsHardwareAccelerated)
        {
            var vx = Vector512.Create(x);
            for (; i <= n - 16; i += 16) T.W(vx, Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vx = Vector256.Create(x);
            for (; i <= n - 8; i += 8) T.V(vx, Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = T.S(x, Unsafe.Add(ref py, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void U<T>(ReadOnlySpan<float> x, Span<float> d) where T : struct, IUn
    {
        int n = d.Length, i = 0;
        if (x.Length < n) throw new ArgumentException("kernel operand shorter than destination");
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(d);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16) T.W(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8) T.V(Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = T.S(Unsafe.Add(ref px, i));
    }

    /// <summary>d = op(x, y) element-wise; <paramref name="scratch"/> (length ≥ d) is clobbered by pow.</summary>
    public static void Binary(Op op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        switch (op)
        {
            case Op.Add: VV<AddOp>(x, y, d); break;
            case Op.Sub: VV<SubOp>(x, y, d); break;
            case Op.Mul: VV<MulOp>(x, y, d); break;
            case Op.Div: VV<DivOp>(x, y, d); break;
            case Op.Greater: VV<GreaterOp>(x, y, d); break;
            case Op.Min: VV<MinOp>(x, y, d); break;
            case Op.Max: VV<MaxOp>(x, y, d); break;
            case Op.Pow:
                var s = scratch[..d.Length];
                U<AbsOp>(x, s);
                TensorPrimitives.Pow(s, y[..d.Length], s);
                VV<SignTimesOp>(x, s, d);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary operator");
        }
    }

    /// <summary>d = op(x, y) with a broadcast right operand.</summary>
    public static void Binary(Op op, ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch)
    {
        switch (op)
        {
            case Op.Add: VS<AddOp>(x, y, d); break;
            case Op.Sub: VS<SubOp>(x, y, d); break;
            case Op.Mul: VS<MulOp>(x, y, d); break;
            case Op.Div: VS<DivOp>(x, y, d); break;
            case Op.Greater: VS<GreaterOp>(x, y, d); break;
            case Op.Min: VS<MinOp>(x, y, d); break;
            case Op.Max: VS<MaxOp>(x, y, d); break;
            case Op.Pow:
                var s = scratch[..d.Length];
                U<AbsOp>(x, s);
                TensorPrimitives.Pow(s, y, s);
                VV<SignTimesOp>(x, s, d);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary operator");
        }
    }

    /// <summary>d = op(x, y) with a broadcast left operand.</summary>
    public static void Binary(Op op, float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        switch (op)
        {
            case Op.Add: SV<AddOp>(x, y, d); break;
            case Op.Sub: SV<SubOp>(x, y, d); break;
            case Op.Mul: SV<MulOp>(x, y, d); break;
            case Op.Div: SV<DivOp>(x, y, d); break;
            case Op.Greater: SV<GreaterOp>(x, y, d); break;
            case Op.Min: SV<MinOp>(x, y, d); break;
            case Op.Max: SV<MaxOp>(x, y, d); break;
            case Op.Pow:
                var s = scratch[..d.Length];
                TensorPrimitives.Pow(MathF.Abs(x), y[..d.Length], s);
                VS<SignTimesOpSwapped>(s, x, d);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary operator");
        }
    }

    /// <summary>m·sign(x) with the magnitude first, for a broadcast base.</summary>
    private readonly struct SignTimesOpSwapped : IBin
    {
        public static float S(float m, float x) => SignOp.S(x) * m;
        public static Vector256<float> V(Vector256<float> m, Vector256<float> x) => SignOp.V(x) * m;
        public static Vector512<float> W(Vector512<float> m, Vector512<float> x) => SignOp.W(x) * m;
    }

    /// <summary>d = op(x) element-wise; <paramref name="scratch"/> (length ≥ d) is clobbered by erfc.</summary>
    public static void Unary(Op op, ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        x = x[..d.Length];
        switch (op)
        {
            case Op.Neg: U<NegOp>(x, d); break;
            case Op.Abs: U<AbsOp>(x, d); break;
            case Op.Sign: U<SignOp>(x, d); break;
            case Op.Square: U<SquareOp>(x, d); break;
            case Op.Cube: U<CubeOp>(x, d); break;
            case Op.Relu: U<ReluOp>(x, d); break;
            case Op.Sqrt: U<SqrtAbsOp>(x, d); break;
            case Op.Log:
                U<AbsEpsOp>(x, d);
                TensorPrimitives.Log(d, d);
                break;
            case Op.Exp: TensorPrimitives.Exp(x, d); break;
            case Op.Tanh:
                TensorPrimitives.Tanh(x, scratch[..d.Length]);
                VV<TanhFixOp>(x, scratch, d);
                break;
            case Op.Sinh:
                TensorPrimitives.Sinh(x, scratch[..d.Length]);
                VV<SinhFixOp>(x, scratch, d);
                break;
            case Op.Asinh: TensorPrimitives.Asinh(x, d); break;
            case Op.Sin: TensorPrimitives.Sin(x, d); break;
            case Op.Cos: TensorPrimitives.Cos(x, d); break;
            case Op.Erfc:
                var s = scratch[..d.Length];
                U<ErfcExponentOp>(x, s);
                TensorPrimitives.Exp(s, s);
                VV<ErfcFinishOp>(x, s, d);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a unary operator");
        }
    }

    /// <summary>True when every element is finite (x·0 is NaN exactly for ±Inf and NaN).</summary>
    public static bool AllFinite(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) acc += Vector512.LoadUnsafe(ref px, (nuint)i) * Vector512<float>.Zero;
            if (!Vector512.EqualsAll(acc, Vector512<float>.Zero)) return false;
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) acc += Vector256.LoadUnsafe(ref px, (nuint)i) * Vector256<float>.Zero;
            if (!Vector256.EqualsAll(acc, Vector256<float>.Zero)) return false;
        }
        for (; i < n; i++)
            if (!float.IsFinite(Unsafe.Add(ref px, i))) return false;
        return true;
    }

    /// <summary>Σ (p - y)²: residuals in float, squares summed in double lanes (no overflow below 1e154).</summary>
    public static double SumSquaredError(ReadOnlySpan<float> p, ReadOnlySpan<float> y)
    {
        int n = p.Length, i = 0;
        if (y.Length < n) throw new ArgumentException("target shorter than predictions");
        ref float pp = ref MemoryMarshal.GetReference(p);
        ref float py = ref MemoryMarshal.GetReference(y);
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pp, (nuint)i) - Vector512.LoadUnsafe(ref py, (nuint)i));
                acc += lo * lo + hi * hi;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref pp, (nuint)i) - Vector256.LoadUnsafe(ref py, (nuint)i));
                acc += lo * lo + hi * hi;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            double r = Unsafe.Add(ref pp, i) - Unsafe.Add(ref py, i);
            sum += r * r;
        }
        return sum;
    }

    /// <summary>Exchanges the contents of <paramref name="a"/> and <paramref name="b"/> (equal lengths).</summary>
    public static void Swap(Span<float> a, Span<float> b, Span<float> scratch)
    {
        if (a.Length < 8)
        {
            for (int i = 0; i < a.Length; i++) (a[i], b[i]) = (b[i], a[i]);
            return;
        }
        var t = scratch[..a.Length];
        a.CopyTo(t);
        b.CopyTo(a);
        t.CopyTo(b);
    }

    /// <summary>One ema step per coordinate: s = beta·s + (1-beta)·x, then x = s·scale (scale = bias correction or 1).</summary>
    public static void EmaStep(Span<float> s, Span<float> x, float beta, float scale)
    {
        int n = x.Length, i = 0;
        if (s.Length < n) throw new ArgumentException("ema state shorter than block");
        ref float ps = ref MemoryMarshal.GetReference(s);
        ref float px = ref MemoryMarshal.GetReference(x);
        float alpha = 1f - beta;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vb = Vector256.Create(beta);
            var va = Vector256.Create(alpha);
            var vc = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
            {
                var v = vb * Vector256.LoadUnsafe(ref ps, (nuint)i) + va * Vector256.LoadUnsafe(ref px, (nuint)i);
                v.StoreUnsafe(ref ps, (nuint)i);
                (v * vc).StoreUnsafe(ref px, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = beta * Unsafe.Add(ref ps, i) + alpha * Unsafe.Add(ref px, i);
            Unsafe.Add(ref ps, i) = v;
            Unsafe.Add(ref px, i) = v * scale;
        }
    }

    /// <summary>
    /// Runs an ema over <paramref name="steps"/> consecutive steps of <paramref name="width"/> coordinates each
    /// (x holds them time-major): per step s = beta·s + (1-beta)·x, x = s / (1 - beta^(t+1)) when bias corrected.
    /// </summary>
    /// <param name="power">beta^(t0+1) in double, for the bias correction of the first step.</param>
    public static void EmaRun(Span<float> state, Span<float> x, int steps, int width, float beta, double betaD, bool biasCorrected, double power)
    {
        if (width >= 8)
        {
            for (int j = 0; j < steps; j++)
            {
                float scale = biasCorrected ? (float)(1.0 / (1.0 - power)) : 1f;
                power *= betaD;
                EmaStep(state, x.Slice(j * width, width), beta, scale);
            }
            return;
        }
        // Few coordinates: a scalar recurrence, without a call per step.
        float alpha = 1f - beta;
        for (int c = 0; c < width; c++)
        {
            float st = state[c];
            double p = power;
            for (int j = 0, i = c; j < steps; j++, i += width)
            {
                st = beta * st + alpha * x[i];
                if (biasCorrected)
                {
                    x[i] = st * (float)(1.0 / (1.0 - p));
                    p *= betaD;
                }
                else x[i] = st;
            }
            state[c] = st;
        }
    }

    /// <summary>
    /// Runs a lag of k steps over <paramref name="steps"/> consecutive steps: the ring (k rows of all coordinates,
    /// row t mod k holding the value from step t-k) is swapped with x step by step.
    /// </summary>
    public static void LagRun(Span<float> ring, Span<float> x, int t0, int steps, int k, int coordinates, int c0, int width, Span<float> scratch)
    {
        if (width >= 8)
        {
            for (int j = 0; j < steps; j++)
                Swap(ring.Slice(((t0 + j) % k) * coordinates + c0, width), x.Slice(j * width, width), scratch);
            return;
        }
        for (int j = 0; j < steps; j++)
        {
            int h = ((t0 + j) % k) * coordinates + c0, i = j * width;
            for (int c = 0; c < width; c++) (ring[h + c], x[i + c]) = (x[i + c], ring[h + c]);
        }
    }
}
