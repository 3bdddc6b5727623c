using System.Buffers.Binary;
using System.IO.Compression;

namespace L2OEvolve.Torch.Data;

/// <summary>An unsigned-byte IDX array (the MNIST file format): its dimensions and its values in C order.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Values)
{
    /// <summary>Number of items along the first dimension (images or labels).</summary>
    public int Count => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Values per item (e.g. 28·28 for MNIST images, 1 for labels).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, d) => a * d);
}

/// <summary>
/// Reads IDX files (LeCun's MNIST format), raw or gzip-compressed; compression is detected from the gzip magic
/// bytes, not the file name. Only the unsigned-byte element type (0x08) is accepted: it is what MNIST-format data
/// sets use, and anything else is reported rather than guessed at.
/// </summary>
/// <remarks>
/// Layout: two zero bytes, a type byte, a dimension-count byte, one big-endian int32 per dimension, then the values.
/// </remarks>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads <paramref name="path"/>; a malformed or truncated file fails with the path and the fault.</summary>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist", path);
        byte[] bytes;
        try
        {
            bytes = Decompress(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IDX file '{path}': gzip data is corrupt ({e.Message})", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses IDX bytes (already decompressed); <paramref name="source"/> names the origin in errors.</summary>
    public static IdxArray Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"IDX file '{source}': {bytes.Length} bytes is too short for the 4-byte header");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"IDX file '{source}': bytes 0-1 are {bytes[0]:x2} {bytes[1]:x2}, expected 00 00 (not an IDX file?)");
        if (bytes[2] != UnsignedByteType)
            throw new InvalidDataException($"IDX file '{source}': element type 0x{bytes[2]:x2} at byte 2 is not supported (only unsigned bytes, 0x08)");
        int rank = bytes[3];
        if (rank == 0) throw new InvalidDataException($"IDX file '{source}': rank 0 at byte 3, expected at least one dimension");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new InvalidDataException($"IDX file '{source}': truncated header ({bytes.Length} bytes, rank {rank} needs {headerLength})");
        var dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 + 4 * i, 4));
            if (dims[i] < 0) throw new InvalidDataException($"IDX file '{source}': dimension {i} is negative ({dims[i]})");
            total *= dims[i];
        }
        long available = bytes.Length - headerLength;
        if (available != total)
            throw new InvalidDataException(
                $"IDX file '{source}': dimensions [{string.Join(", ", dims)}] need {total} value bytes but the file has {available}" +
                (available < total ? " (truncated?)" : " (trailing data)"));
        return new IdxArray(dims, bytes[headerLength..].ToArray());
    }

    /// <summary>Writes an unsigned-byte IDX file (gzip-compressed when the name ends in <c>.gz</c>); used by tests and tools.</summary>
    public static void Write(string path, IdxArray array)
    {
        long total = array.Dimensions.Aggregate(1L, (a, d) => a * d);
        if (total != array.Values.Length)
            throw new ArgumentException($"dimensions [{string.Join(", ", array.Dimensions)}] need {total} values, got {array.Values.Length}");
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Fastest)
            : file;
        Span<byte> word = stackalloc byte[4];
        stream.Write([0, 0, UnsignedByteType, (byte)array.Dimensions.Length]);
        foreach (int d in array.Dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(array.Values);
    }

    private static byte[] Decompress(byte[] bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
        using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
