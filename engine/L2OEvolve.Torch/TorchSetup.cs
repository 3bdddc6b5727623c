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
    /// </summary>
    public static void PrepareNativeRuntime()
    {
        SetDefault("MKL_CBWR", "AUTO,STRICT");
        SetDefault("GOMP_SPINCOUNT", "1000");
    }

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
