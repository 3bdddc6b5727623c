namespace L2OEvolve.Cli.Daemon;

/// <summary>
/// An exclusive lock on <c>HOME/daemon.lock</c>, held while a daemon runs so a second daemon on the same home
/// refuses to start instead of running every job twice. The operating system releases it when the process dies,
/// even by kill -9, so a crash never leaves a stale lock.
/// </summary>
/// <remarks>.NET opens a file with <see cref="FileShare.None"/> under an advisory <c>flock</c> on Unix.</remarks>
public sealed class DaemonLock : IDisposable
{
    private readonly FileStream _stream;

    private DaemonLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock or throws <see cref="DaemonLockedException"/> naming the holder's process id.</summary>
    public static DaemonLock Acquire(string home)
    {
        Directory.CreateDirectory(home);
        string path = LockFile(home);
        string pidPath = Path.Combine(home, "daemon.pid");
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                File.WriteAllText(pidPath, Environment.ProcessId + "\n");
                return new DaemonLock(stream);
            }
            // A few quick retries ride out `status` probing the lock at the same moment; a running daemon holds it for good.
            catch (IOException) when (attempt < 5) { Thread.Sleep(50); }
            catch (IOException e)
            {
                string holder = File.Exists(pidPath) ? File.ReadAllText(pidPath).Trim() : "unknown";
                throw new DaemonLockedException($"another daemon (pid {holder}) is already running on {Path.GetFullPath(home)} (it holds {path})", e);
            }
        }
    }

    /// <summary>True when some process holds the lock on <paramref name="home"/> (used by `status` to tell stale "running" states).</summary>
    public static bool IsHeld(string home)
    {
        string path = LockFile(home);
        if (!File.Exists(path)) return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException) { return true; }
    }

    private static string LockFile(string home) => Path.Combine(home, "daemon.lock");

    public void Dispose() => _stream.Dispose();
}

/// <summary>Another daemon already runs on this home.</summary>
public sealed class DaemonLockedException(string message, Exception inner) : Exception(message, inner);
