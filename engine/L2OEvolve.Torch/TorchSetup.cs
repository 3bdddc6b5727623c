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
    /// Makes libtorch's MKL kernels bit-reproducible run to run (MKL_CBWR=AUTO,STRICT): without it MKL picks code paths
    /// by memory alignment, so one seed gives last-bit differences that grow through meta-training and break exact
    /// resume. Must run before the first matrix product; a value the user already set is kept.
    /// </summary>
    public static void MakeBlasReproducible()
    {
        if (Environment.GetEnvironmentVariable("MKL_CBWR") is { Length: > 0 }) return;
        Environment.SetEnvironmentVariable("MKL_CBWR", "AUTO,STRICT");
        // .NET keeps its own copy of the environment on Unix; MKL reads the native one.
        if (!OperatingSystem.IsWindows()) _ = setenv("MKL_CBWR", "AUTO,STRICT", 0);
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
