using System.Security.Cryptography;
using System.Text;

namespace L2OEvolve.Cli.Web;

/// <summary>
/// The secret that stop/resume requests over HTTP must carry as <c>Authorization: Bearer TOKEN</c>. A new one is
/// made at each daemon start and kept in <c>HOME/http.token</c>, readable by its owner only.
/// </summary>
public sealed class ControlToken
{
    /// <summary>The token file's name inside the home.</summary>
    public const string FileName = "http.token";

    private readonly byte[] _bytes;

    private ControlToken(string value, string path)
    {
        Value = value;
        Path = path;
        _bytes = Encoding.ASCII.GetBytes(value);
    }

    /// <summary>The token text (64 hex digits).</summary>
    public string Value { get; }

    /// <summary>Where it is stored.</summary>
    public string Path { get; }

    /// <summary>Makes a fresh random token and stores it in <paramref name="home"/> with mode 0600.</summary>
    public static ControlToken Create(string home)
    {
        Directory.CreateDirectory(home);
        string value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        string path = System.IO.Path.Combine(home, FileName);
        // A new file, so the owner-only mode is set at creation and no other user ever sees a readable copy.
        File.Delete(path);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var f = new FileStream(path, create)) f.Write(Encoding.ASCII.GetBytes(value + "\n"));
        return new ControlToken(value, path);
    }

    /// <summary>True when <paramref name="authorization"/> is <c>Bearer</c> followed by this token (compared in constant time).</summary>
    public bool Accepts(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(authorization[scheme.Length..].Trim()), _bytes);
    }
}
