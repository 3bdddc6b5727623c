using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Memory for the fused teacher step's outputs and saved gates, kept by size and handed out again once libtorch
/// frees the tensor: a meta-training run allocates a window's worth once and every later window reuses it.
/// </summary>
/// <remarks>
/// Why: a window keeps about 300 MB of step tensors (RNNprop on a 16k-weight optimizee) until its meta-backward
/// frees them. Through glibc's heap the next window gets them back in other places and sizes, and the heap still
/// grew by a hundred MB over the first windows, page by freshly zeroed page. Here a tensor of a size seen before
/// takes a freed block of exactly that size:
/// <code>
/// rent(shape):   bytes ← 4·Π shape;  block ← free[bytes].pop() or a new 64-byte aligned allocation
///                tensor ← a libtorch tensor over block whose deleter calls give_back(block)
/// give_back(b):  free[size of b].push(b), or release b if the pool was disposed
/// dispose:       release every free block; blocks still in tensors are released by their deleters
/// </code>
/// Values never depend on where a tensor lives, so results are the same bits with or without a pool. Blocks are
/// only ever given back by libtorch (on whatever thread drops the last reference), so the pool is thread-safe.
/// </remarks>
internal sealed unsafe class ActivationPool : IDisposable
{
    private const nuint Alignment = 64;

    // Which pool a lent block belongs to and its size; shared because the deleter only gets the block's address.
    private static readonly Dictionary<IntPtr, (ActivationPool Pool, long Bytes)> Lent = [];
    private static readonly object Gate = new();

    private readonly Dictionary<long, Stack<IntPtr>> _free = [];
    private bool _disposed;

    /// <summary>Blocks held, in use or free (each reused any number of times).</summary>
    public int Blocks { get; private set; }

    /// <summary>Bytes held, in use or free.</summary>
    public long Bytes { get; private set; }

    /// <summary>Blocks currently inside live tensors.</summary>
    public int InUse { get; private set; }

    /// <summary>
    /// A contiguous float32 CPU tensor of <paramref name="shape"/> (contents undefined) over a pooled block; null when
    /// libtorch's entry point for foreign memory is missing, for the caller to allocate as usual.
    /// </summary>
    public Tensor? Rent(params long[] shape)
    {
        if (Create is null) return null;
        long bytes = sizeof(float);
        foreach (var d in shape) bytes *= d;
        IntPtr block;
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_free.TryGetValue(bytes, out var stack) || !stack.TryPop(out block))
            {
                block = (IntPtr)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), Alignment);
                // A new block is written whole by the step that rents it: map its pages in at once.
                NativeHeap.Populate(block, bytes);
                Blocks++; Bytes += bytes;
            }
            Lent[block] = (this, bytes);
            InUse++;
        }
        IntPtr handle;
        fixed (long* dims = shape)
            handle = Create(block, (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, void>)&GiveBackFromLibTorch, (IntPtr)dims, shape.Length,
                (sbyte)ScalarType.Float32, (sbyte)ScalarType.Float32, (int)DeviceType.CPU, -1, 0);
        if (handle == IntPtr.Zero)
        {
            GiveBack(block);
            torch.CheckForErrors();
            return null;
        }
        return Tensor.UnsafeCreateTensor(handle);
    }

    // libtorch's deleter: the last tensor over the block is gone.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void GiveBackFromLibTorch(IntPtr block) => GiveBack(block);

    private static void GiveBack(IntPtr block)
    {
        lock (Gate)
        {
            if (!Lent.Remove(block, out var owner)) return;
            var pool = owner.Pool;
            pool.InUse--;
            if (pool._disposed) { pool.Release(block, owner.Bytes); return; }
            if (!pool._free.TryGetValue(owner.Bytes, out var stack)) pool._free[owner.Bytes] = stack = new Stack<IntPtr>();
            stack.Push(block);
        }
    }

    /// <summary>
    /// Returns the free blocks to the system: for when the sizes change (a mixture's next optimizee has another
    /// parameter count), so blocks of a size no longer asked for do not stay on top of the new ones.
    /// </summary>
    public void ReleaseFree()
    {
        lock (Gate)
        {
            foreach (var (bytes, stack) in _free)
                while (stack.TryPop(out var block)) Release(block, bytes);
        }
    }

    /// <summary>Releases the free blocks now and the lent ones when their tensors go.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        ReleaseFree();
    }

    // Under Gate.
    private void Release(IntPtr block, long bytes)
    {
        NativeMemory.AlignedFree((void*)block);
        Blocks--; Bytes -= bytes;
    }

    // THSTensor_new(data, deleter, dims, ndims, source type, dtype, device type, device index, requires_grad): the
    // entry TorchSharp itself uses to wrap foreign memory; resolved once from its native library.
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, int, sbyte, sbyte, int, int, byte, IntPtr> Create = Resolve();

    private static delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, int, sbyte, sbyte, int, int, byte, IntPtr> Resolve()
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        if (!NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out var lib)) return null;
        return NativeLibrary.TryGetExport(lib, "THSTensor_new", out var export)
            ? (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, int, sbyte, sbyte, int, int, byte, IntPtr>)export
            : null;
    }
}
