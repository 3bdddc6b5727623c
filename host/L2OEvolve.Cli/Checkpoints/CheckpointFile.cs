using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace L2OEvolve.Cli.Checkpoints;

/// <summary>
/// The on-disk framing of one checkpoint: a fixed header (magic, schema version, payload length, SHA-256 of the
/// payload) followed by the MessagePack payload. The header lets a reader tell a truncated or corrupted file from
/// a good one before it deserialises anything.
/// </summary>
/// <remarks>
/// Layout (little-endian): <c>"L2OECKPT"</c> (8 bytes) | schema version (u32) | payload length (u64) |
/// SHA-256 of the payload (32 bytes) | payload.
/// </remarks>
public static class CheckpointFile
{
    /// <summary>The framing and payload schema this build writes and reads.</summary>
    public const uint SchemaVersion = 1;

    /// <summary>Size of the header in bytes.</summary>
    public const int HeaderSize = 8 + 4 + 8 + 32;

    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("L2OECKPT");

    /// <summary>Frames <paramref name="payload"/> with a header.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[HeaderSize + payload.Length];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), SchemaVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), (ulong)payload.Length);
        SHA256.HashData(payload, bytes.AsSpan(20, 32));
        payload.CopyTo(bytes.AsSpan(HeaderSize));
        return bytes;
    }

    /// <summary>
    /// Writes <paramref name="payload"/> framed, atomically: a temporary file flushed to disk, renamed over
    /// <paramref name="path"/>, then the directory flushed, so a crash at any point leaves the old file or the new
    /// one, never a mix. A failed write removes its temporary file and rethrows.
    /// </summary>
    public static void WriteAtomically(IFileSystem fileSystem, string path, ReadOnlySpan<byte> payload)
    {
        var framed = Frame(payload);
        string temp = path + ".tmp";
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        fileSystem.CreateDirectory(directory);
        try
        {
            using (var stream = fileSystem.Create(temp))
            {
                stream.Write(framed);
                // Flush(true) reaches the disk, not just the OS cache: the rename below must never
                // publish a file whose bytes are still in flight.
                if (stream is FileStream fs) fs.Flush(flushToDisk: true); else stream.Flush();
            }
            fileSystem.Move(temp, path);
            fileSystem.SyncDirectory(directory);
        }
        catch
        {
            try { fileSystem.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a leftover costs space, not correctness
            throw;
        }
    }

    /// <summary>Checks the header and checksum and returns the payload; throws <see cref="CheckpointCorruptException"/> naming the fault.</summary>
    public static ReadOnlyMemory<byte> Unframe(byte[] bytes, string path)
    {
        if (bytes.Length < HeaderSize)
            throw new CheckpointCorruptException(path, $"truncated: {bytes.Length} bytes, shorter than the {HeaderSize}-byte header");
        if (!bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new CheckpointCorruptException(path, "not a checkpoint (bad magic number)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != SchemaVersion)
            throw new CheckpointCorruptException(path, $"schema version {version}, this build reads version {SchemaVersion}");
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12));
        if ((ulong)(bytes.Length - HeaderSize) != length)
            throw new CheckpointCorruptException(path, $"truncated: payload has {bytes.Length - HeaderSize} bytes, header says {length}");
        var payload = bytes.AsMemory(HeaderSize);
        Span<byte> actual = stackalloc byte[32];
        SHA256.HashData(payload.Span, actual);
        if (!actual.SequenceEqual(bytes.AsSpan(20, 32)))
            throw new CheckpointCorruptException(path, "checksum mismatch (SHA-256 of the payload differs from the header)");
        return payload;
    }
}

/// <summary>A checkpoint file that cannot be used: truncated, corrupted, or written by another schema.</summary>
public sealed class CheckpointCorruptException(string path, string fault)
    : Exception($"{path}: {fault}")
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong with it.</summary>
    public string Fault { get; } = fault;
}
