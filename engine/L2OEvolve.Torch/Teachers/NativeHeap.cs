using System.Runtime.InteropServices;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Asks glibc's malloc (which libtorch's CPU allocator uses) to keep freed memory for reuse instead of returning it
/// to the system: a process-wide execution setting for meta-training, like libtorch's thread count. Results do not
/// depend on it; time and page faults do.
/// </summary>
/// <remarks>
/// Why: a meta-training window saves every step's activations (about 20 MB per step for RNNprop on a 16k-weight
/// optimizee) and frees them all after its meta-backward. With glibc's defaults, tensors of a few MB are mapped and
/// unmapped one by one, and freed memory at the top of the heap is trimmed back to the system, so every window
/// faults its 400 MB in again (zeroed by the kernel page by page): measured, a third of the process's time went to
/// page faults. Here allocations up to 32 MB come from the heap and the heap is never trimmed, so the second window
/// reuses the first one's pages. Resident memory stays at the peak the first window reached (it reaches it either
/// way). Elsewhere than glibc (no <c>mallopt</c> export) this does nothing.
/// </remarks>
internal static class NativeHeap
{
    // glibc's malloc.h parameter numbers.
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3;
    private static int _done;

    /// <summary>Applies the setting once per process; later calls do nothing.</summary>
    public static unsafe void KeepFreedMemory()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0 || !OperatingSystem.IsLinux()) return;
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc)) return;
        if (!NativeLibrary.TryGetExport(libc, "mallopt", out var export)) return;
        var mallopt = (delegate* unmanaged<int, int, int>)export;
        // 32 MB is the largest mmap threshold glibc accepts; setting it also stops glibc's own adjustment of it.
        mallopt(MMmapThreshold, 32 << 20);
        mallopt(MTrimThreshold, int.MaxValue);
        // Grow the heap in steps of 64 MB rather than per request.
        mallopt(MTopPad, 64 << 20);
    }

    private const int MadvPopulateWrite = 23;   // Linux 5.14+; older kernels answer EINVAL and nothing happens
    private static readonly unsafe delegate* unmanaged<IntPtr, nuint, int, int> Madvise = ResolveMadvise();

    private static unsafe delegate* unmanaged<IntPtr, nuint, int, int> ResolveMadvise() =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "madvise", out var export)
            ? (delegate* unmanaged<IntPtr, nuint, int, int>)export : null;

    /// <summary>
    /// Maps in, writable, the whole pages inside [<paramref name="start"/>, start + <paramref name="bytes"/>) in one
    /// system call, so that writing them does not fault page by page (the kernel still zeroes each fresh page: about
    /// a fifth cheaper per page measured here than first-touch faults). A hint: where it is not supported, nothing.
    /// </summary>
    public static unsafe void Populate(IntPtr start, long bytes)
    {
        const long page = 4096;
        long from = ((long)start + page - 1) & ~(page - 1), to = ((long)start + bytes) & ~(page - 1);
        if (Madvise is null || to <= from) return;
        Madvise((IntPtr)from, (nuint)(to - from), MadvPopulateWrite);
    }
}
