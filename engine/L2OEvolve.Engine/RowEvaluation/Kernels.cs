using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>The evaluator's block kernels: operators (each operator's own span kernel, see <see cref="Op.Kernel(ReadOnlySpan{float}, Span{float}, Span{float})"/>
/// and <see cref="SpanKernels"/>), finiteness checks, squared error, and the ema/lag recurrences.</summary>
internal static class Kernels
{
    /// <summary>d = op(x, y) element-wise; <paramref name="scratch"/> (length ≥ d) may be clobbered.</summary>
    public static void Binary(Op op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => op.Kernel(x, y, d, scratch);

    /// <summary>d = op(x, y) with a broadcast right operand.</summary>
    public static void Binary(Op op, ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => op.Kernel(x, y, d, scratch);

    /// <summary>d = op(x, y) with a broadcast left operand.</summary>
    public static void Binary(Op op, float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => op.Kernel(x, y, d, scratch);

    /// <summary>d = op(x) element-wise; <paramref name="scratch"/> (length ≥ d) may be clobbered.</summary>
    public static void Unary(Op op, ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => op.Kernel(x[..d.Length], d, scratch);

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
