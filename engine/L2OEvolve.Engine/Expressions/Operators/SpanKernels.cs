using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary>An element-wise binary function in scalar, 256-bit and 512-bit lanes (a static-abstract "functor", so loops specialise without delegate calls).</summary>
public interface IBinaryLanes
{
    /// <summary>One element.</summary>
    static abstract float S(float x, float y);
    /// <summary>Eight elements.</summary>
    static abstract Vector256<float> V(Vector256<float> x, Vector256<float> y);
    /// <summary>Sixteen elements.</summary>
    static abstract Vector512<float> W(Vector512<float> x, Vector512<float> y);
}

/// <summary>An element-wise unary function in scalar, 256-bit and 512-bit lanes.</summary>
public interface IUnaryLanes
{
    /// <summary>One element.</summary>
    static abstract float S(float x);
    /// <summary>Eight elements.</summary>
    static abstract Vector256<float> V(Vector256<float> x);
    /// <summary>Sixteen elements.</summary>
    static abstract Vector512<float> W(Vector512<float> x);
}

/// <summary>
/// The span-kernel library every CPU backend shares: hand-written Vector512/Vector256 loops specialised per
/// operator through <see cref="IUnaryLanes"/>/<see cref="IBinaryLanes"/>. Each allows its destination to be exactly
/// one of its sources and touches element i of the destination only after reading element i of the sources.
/// </summary>
public static class SpanKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<T>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) where T : struct, IBinaryLanes
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
    public static void Binary<T>(ReadOnlySpan<float> x, float y, Span<float> d) where T : struct, IBinaryLanes
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
    public static void Binary<T>(float x, ReadOnlySpan<float> y, Span<float> d) where T : struct, IBinaryLanes
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
    public static void Unary<T>(ReadOnlySpan<float> x, Span<float> d) where T : struct, IUnaryLanes
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

}
