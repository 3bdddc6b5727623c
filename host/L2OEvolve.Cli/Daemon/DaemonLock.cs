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

    /// <summary>
    /// Takes the lock or throws <see cref="DaemonLockedException"/> naming the holder's process id; a home the daemon
    /// cannot write (a full disk, a read-only file system, no permission) throws <see cref="DaemonHomeException"/>
    /// saying so, since "another daemon is running" would send the user looking for a process that does not exist.
    /// </summary>
    public static DaemonLock Acquire(string home)
    {
        string path = LockFile(home);
        string pidPath = Path.Combine(home, "daemon.pid");
        for (int attempt = 1; ; attempt++)
        {
            FileStream stream;
            try
            {
                Directory.CreateDirectory(home);
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            // A few quick retries ride out `status` probing the lock at the same moment; a running daemon holds it for good.
            catch (IOException e) when (IsLockConflict(e) && attempt < 5) { Thread.Sleep(50); continue; }
            catch (IOException e) when (IsLockConflict(e))
            {
                string holder = "unknown";
                try { if (File.Exists(pidPath)) holder = File.ReadAllText(pidPath).Trim(); }
                catch (IOException) { }
                throw new DaemonLockedException($"another daemon (pid {holder}) is already running on {Path.GetFullPath(home)} (it holds {path})", e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw HomeFault(home, e); }
            try { File.WriteAllText(pidPath, Environment.ProcessId + "\n"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stream.Dispose();
                throw HomeFault(home, e);
            }
            return new DaemonLock(stream);
        }
    }

    // .NET takes the lock with flock(LOCK_EX | LOCK_NB); only its EWOULDBLOCK (11 on Linux) means another holder.
    private const int WouldBlock = 11, NoSpace = 28, ReadOnlyFileSystem = 30;

    private static bool IsLockConflict(IOException e) => e.HResult == WouldBlock;

    private static DaemonHomeException HomeFault(string home, Exception e)
    {
        string full = Path.GetFullPath(home);
        string why = e switch
        {
            IOException { HResult: NoSpace } => "its disk is full (no space left on device); free some space",
            IOException { HResult: ReadOnlyFileSystem } => "it is on a read-only file system",
            UnauthorizedAccessException => "permission denied",
            _ => e.Message,
        };
        return new DaemonHomeException($"cannot use {full} as the daemon's home: {why}", e);
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

/// <summary>The home cannot be written (full disk, read-only file system, no permission).</summary>
public sealed class DaemonHomeException(string message, Exception inner) : Exception(message, inner);

/// <summary>Another daemon already runs on this home.</summary>
public sealed class DaemonLockedException(string message, Exception inner) : Exception(message, inner);
