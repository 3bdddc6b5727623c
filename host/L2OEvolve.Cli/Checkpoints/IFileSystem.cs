namespace L2OEvolve.Cli.Checkpoints;

/// <summary>
/// The few file operations the daemon's persistence needs, behind a seam so tests can inject faults
/// (a full disk, a flaky rename) without touching the real disk's behaviour.
/// </summary>
public interface IFileSystem
{
    /// <summary>Creates (or truncates) a file for writing.</summary>
    Stream Create(string path);

    /// <summary>Reads a whole file.</summary>
    byte[] ReadAllBytes(string path);

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/>, replacing it (atomic on one file system).</summary>
    void Move(string from, string to);

    /// <summary>Deletes a file if it exists.</summary>
    void Delete(string path);

    /// <summary>True when the file exists.</summary>
    bool Exists(string path);

    /// <summary>The files in <paramref name="directory"/> matching <paramref name="pattern"/> (empty when it is missing).</summary>
    IReadOnlyList<string> List(string directory, string pattern);

    /// <summary>Creates a directory and its parents.</summary>
    void CreateDirectory(string path);

    /// <summary>
    /// Flushes <paramref name="directory"/>'s entries to disk, so a rename into it survives a power loss (on Linux a
    /// file's own flush does not cover the name that points at it). Nothing to do for a file system in memory.
    /// </summary>
    void SyncDirectory(string directory) { }
}

/// <summary>The real file system.</summary>
public sealed class PhysicalFileSystem : IFileSystem
{
    /// <summary>The shared instance (the type holds no state).</summary>
    public static PhysicalFileSystem Instance { get; } = new();

    public Stream Create(string path) =>
        new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None);

    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(path);

    public void Move(string from, string to) => File.Move(from, to, overwrite: true);

    public void Delete(string path) => File.Delete(path);

    public bool Exists(string path) => File.Exists(path);

    public IReadOnlyList<string> List(string directory, string pattern) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, pattern) : [];

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public void SyncDirectory(string directory)
    {
        // .NET cannot open a directory as a file, so this goes to libc; elsewhere than Unix renames are durable
        // by the file system's own journaling, and there is nothing to do.
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Native.open(directory, Native.ReadOnly | (OperatingSystem.IsLinux() ? Native.LinuxDirectory : Native.MacDirectory));
        if (fd < 0) throw new IOException($"cannot open directory {directory} to flush it (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        try
        {
            if (Native.fsync(fd) != 0)
                throw new IOException($"cannot flush directory {directory} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }
        finally { Native.close(fd); }
    }

    private static class Native
    {
        public const int ReadOnly = 0, LinuxDirectory = 0x10000, MacDirectory = 0x100000;

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int open(string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc")]
        public static extern int close(int fd);
    }
}
