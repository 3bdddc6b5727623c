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
}
