using System.Runtime.InteropServices;
using TorchSharp;

namespace L2OEvolve.Torch;

/// <summary>Process-wide TorchSharp settings: device choice and thread count, applied once at the top of a run.</summary>
public static class TorchSetup
{
    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>, failing clearly when CUDA is asked for but absent.</summary>
    public static torch.Device ParseDevice(string name)
    {
        var d = name.Trim().ToLowerInvariant();
        if (d == "cpu") return torch.CPU;
        if (d.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{name}': CUDA is not available in this build of libtorch (only the CPU package is installed)");
            return torch.device(d);
        }
        throw new ArgumentException($"device '{name}': expected cpu, cuda or cuda:N");
    }

    /// <summary>Sets libtorch's intra-op thread count (1 when several workers run side by side: libtorch collapses on a busy core).</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>
    /// Sets the environment libtorch's native libraries read, keeping any value the user already set. Call it first
    /// thing in a process, before any TorchSharp call loads libtorch:
    /// <list type="bullet">
    /// <item><c>MKL_CBWR=AUTO,STRICT</c> makes MKL's kernels bit-reproducible run to run. Without it MKL picks code
    /// paths by memory alignment, so one seed gives last-bit differences that grow through meta-training and break
    /// exact resume. (MKL reads it at the first matrix product.)</item>
    /// <item><c>GOMP_SPINCOUNT=1000</c>: libtorch's OpenMP workers wait about a microsecond for the next parallel
    /// region, then sleep, instead of spinning for milliseconds. Spinning workers held the second core while the
    /// fused LSTM passes (run on .NET threads) wanted it: with 2 threads a meta-training unroll took 0.27–0.31 s with
    /// the default and 0.22–0.24 s with this (experiments/teacher/README.md). (libgomp reads it when it loads.)</item>
    /// </list>
    /// Then it loads libtorch and turns its oneDNN kernels off (<see cref="UseAtenConvolutions"/>).
    /// </summary>
    public static void PrepareNativeRuntime()
    {
        SetDefault("MKL_CBWR", "AUTO,STRICT");
        SetDefault("GOMP_SPINCOUNT", "1000");
        UseAtenConvolutions();
    }

    private static readonly object OneDnnGate = new();
    private static bool _oneDnnSwitched;

    /// <summary>
    /// Turns libtorch's oneDNN ("mkldnn") and NNPACK kernels off for the process, so convolutions run on ATen's own
    /// kernels (im2col and a matrix product). Idempotent and thread-safe; loads libtorch. Every optimizee with a
    /// convolution calls it, so the library is right without the CLI's set-up.
    /// </summary>
    /// <remarks>
    /// The oneDNN build inside libtorch 2.10 (CPU package) computes a wrong gradient with respect to a convolution's
    /// input when the channel counts are not a multiple of its block: on an AVX-512 AMD EPYC, 3×3 kernels with 6→12,
    /// 4→8 and 1→6 channels gave errors as large as the gradient itself, and NaN from uninitialised memory in some
    /// runs, while 8→16 was right. The small CNN (1→6→12 channels) then got a wrong first-layer gradient in every
    /// rollout and every lr-tuning run. ATen's kernels agree with float64 to rounding on every shape tested
    /// (tests/L2OEvolve.Torch.Tests/TorchSetupTests.cs), and they do not pick code by instruction set, so
    /// one seed gives the same numbers on more machines. The cost is speed on large convolutions, which this project
    /// does not train. libtorch has no C API for the switch, so it is set through the C++ entry points
    /// <c>at::globalContext()</c> and <c>at::Context::setUserEnabledMkldnn(bool)</c>; where they are absent
    /// (another libtorch build or platform) the switch is left alone and <see cref="OneDnnEnabled"/> says so.
    /// </remarks>
    public static void UseAtenConvolutions()
    {
        lock (OneDnnGate)
        {
            if (_oneDnnSwitched) return;
            torch.InitializeDeviceType(DeviceType.CPU);
            try
            {
                SetUserEnabledMkldnn(GlobalContext(), false);
                // Without oneDNN, libtorch tries NNPACK for batched convolutions; on CPUs NNPACK does not know it
                // fails to initialise and logs a warning at every call (188,197 lines in one pipeline run), then
                // falls back to the same ATen kernels. Asked not to, it goes there directly.
                SetUserEnabledNnpack(GlobalContext(), false);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
            _oneDnnSwitched = true;
        }
    }

    /// <summary>Whether libtorch may still use oneDNN kernels (null when this libtorch build cannot be asked).</summary>
    public static bool? OneDnnEnabled => AskContext(UserEnabledMkldnn);

    /// <summary>Whether libtorch may still try NNPACK kernels (null when this libtorch build cannot be asked).</summary>
    public static bool? NnpackEnabled => AskContext(UserEnabledNnpack);

    private static bool? AskContext(Func<IntPtr, bool> flag)
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        try { return flag(GlobalContext()); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return null; }
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledNnpack(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);

    private static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is { Length: > 0 }) return;
        Environment.SetEnvironmentVariable(name, value);
        // .NET keeps its own copy of the environment on Unix; native libraries read the process's.
        if (!OperatingSystem.IsWindows()) _ = setenv(name, value, 0);
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
