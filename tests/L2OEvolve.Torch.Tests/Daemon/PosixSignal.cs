using System.Runtime.InteropServices;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>kill(2) for the process tests: stop, continue and terminate the servers and silos they start.</summary>
internal static partial class PosixSignal
{
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>, or throws with the errno.</summary>
    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
