using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace L2OEvolve.Engine.Data;

/// <summary>An n-dimensional array read from a <c>.npy</c> file: its shape and its values in C (row-major) order.</summary>
public sealed record NpyArray(ImmutableArray<int> Shape, float[] Data);

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1-3): float32 or float64, either byte order, C order,
/// any rank. Values are converted to float32, the precision every evaluator works in.
/// </summary>
/// <remarks>
/// Layout: the magic <c>\x93NUMPY</c>, major and minor version bytes, the header length (2 bytes in v1, 4 in v2/v3,
/// little-endian), a Python dict literal <c>{'descr': '&lt;f8', 'fortran_order': False, 'shape': (7440, 29), }</c>
/// padded with spaces to a multiple of 64 bytes and ending in a newline, then the raw values.
/// </remarks>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a file; throws <see cref="InputException"/> for a missing, malformed, truncated, Fortran-order
    /// or non-float file.</summary>
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path)) throw new InputException("file not found", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads an array from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    public static NpyArray Read(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[10];
        if (ReadFully(stream, prefix[..8]) < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new InputException("not a .npy file (missing the \\x93NUMPY magic)", name, "byte 0");
        int major = prefix[6];
        int headerLength;
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new InputException($"unsupported .npy format version {major}.{prefix[7]}", name, "byte 6"),
        };
        if (ReadFully(stream, prefix.Slice(8, 2)) < 2) throw Truncated(name, "header length");
        if (lengthBytes == 2) headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.Slice(8, 2));
        else
        {
            Span<byte> more = stackalloc byte[4];
            prefix.Slice(8, 2).CopyTo(more);
            if (ReadFully(stream, more[2..]) < 2) throw Truncated(name, "header length");
            long len = BinaryPrimitives.ReadUInt32LittleEndian(more);
            if (len > 1 << 24) throw new InputException($"implausible header length {len}", name, "byte 8");
            headerLength = (int)len;
        }
        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength) throw Truncated(name, "header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var (littleEndian, itemSize) = ParseDescr(header, name);
        if (FortranOrder().Match(header) is { Success: true } fo && fo.Groups[1].Value == "True")
            throw new InputException("Fortran-order arrays are not supported; save with np.ascontiguousarray(a) first", name, "header");
        var shape = ParseShape(header, name);

        // Saturating product: three large dimensions would overflow a long and wrap to a small, loadable count.
        long count = 1;
        foreach (int d in shape) count = Math.Min(count * d, (long)Array.MaxLength + 1);
        if (count > Array.MaxLength) throw new InputException($"shape ({string.Join(", ", shape)}) is too large to load", name, "header");
        // A corrupt header on a short file should be reported as such, not by allocating gigabytes first.
        if (stream.CanSeek && stream.Length - stream.Position < count * itemSize)
            throw new InputException(
                $"truncated: the header promises {count} values ({count * itemSize} bytes) but only {stream.Length - stream.Position} bytes of data follow",
                name, "data");
        var data = new float[count];
        var buffer = new byte[1 << 16];
        long index = 0;
        int carry = 0; // bytes of a value split across two reads
        while (index < count)
        {
            int read = stream.Read(buffer, carry, buffer.Length - carry);
            if (read == 0)
                throw new InputException(
                    $"truncated: the header promises {count} values ({count * itemSize} bytes) but only {index * itemSize + carry} bytes of data follow",
                    name, "data");
            int available = carry + read;
            int whole = available / itemSize;
            whole = (int)Math.Min(whole, count - index);
            var span = buffer.AsSpan(0, whole * itemSize);
            for (int k = 0; k < whole; k++)
            {
                var bytes = span.Slice(k * itemSize, itemSize);
                if (itemSize == 8)
                {
                    double d = littleEndian ? BinaryPrimitives.ReadDoubleLittleEndian(bytes) : BinaryPrimitives.ReadDoubleBigEndian(bytes);
                    float f = (float)d;
                    // float64 data outside float32's range would otherwise turn into ±inf or 0 without a word.
                    if (double.IsFinite(d) && (float.IsInfinity(f) || f == 0 && d != 0))
                        throw new InputException(
                            $"value {(index + k).ToString(CultureInfo.InvariantCulture)} ({d.ToString("R", CultureInfo.InvariantCulture)}) is {(f == 0 ? "below" : "beyond")} the float32 range and would read as {(f == 0 ? "0" : "infinity")}; rescale the data",
                            name, "data");
                    data[index + k] = f;
                }
                else data[index + k] = littleEndian ? BinaryPrimitives.ReadSingleLittleEndian(bytes) : BinaryPrimitives.ReadSingleBigEndian(bytes);
            }
            index += whole;
            carry = available - whole * itemSize;
            if (index == count && carry > 0) throw Trailing(name);
            buffer.AsSpan(whole * itemSize, carry).CopyTo(buffer);
        }
        if (stream.Read(buffer, 0, 1) > 0) throw Trailing(name);
        return new NpyArray(shape, data);
    }

    /// <summary>Writes float32 values in C order with the given shape (format version 1.0, little-endian).</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<int> shape, ReadOnlySpan<float> data)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}", nameof(shape));
            count *= d;
        }
        if (count != data.Length) throw new ArgumentException($"shape holds {count} values but {data.Length} were given", nameof(data));

        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64; // numpy aligns the data to 64 bytes
        string header = dict + new string(' ', padding) + "\n";

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(len);
        stream.Write(Encoding.Latin1.GetBytes(header));
        var buffer = new byte[1 << 16];
        for (int start = 0; start < data.Length; start += buffer.Length / 4)
        {
            int n = Math.Min(buffer.Length / 4, data.Length - start);
            for (int k = 0; k < n; k++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(k * 4, 4), data[start + k]);
            stream.Write(buffer, 0, n * 4);
        }
    }

    private static (bool LittleEndian, int ItemSize) ParseDescr(string header, string name)
    {
        var m = Descr().Match(header);
        if (!m.Success) throw new InputException("header has no 'descr' entry", name, "header");
        return m.Groups[1].Value switch
        {
            "<f4" or "=f4" => (BitConverter.IsLittleEndian || m.Groups[1].Value[0] == '<', 4),
            "<f8" or "=f8" => (BitConverter.IsLittleEndian || m.Groups[1].Value[0] == '<', 8),
            ">f4" => (false, 4),
            ">f8" => (false, 8),
            var other => throw new InputException(
                $"unsupported dtype '{other}'; expected float32 ('<f4') or float64 ('<f8') - convert with a.astype(np.float32)",
                name, "header"),
        };
    }

    private static ImmutableArray<int> ParseShape(string header, string name)
    {
        var m = Shape().Match(header);
        if (!m.Success) throw new InputException("header has no 'shape' entry", name, "header");
        var dims = ImmutableArray.CreateBuilder<int>();
        foreach (var part in m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                throw new InputException($"bad dimension '{part}' in shape ({m.Groups[1].Value})", name, "header");
            dims.Add(d);
        }
        if (dims.Count == 0) throw new InputException("0-dimensional (scalar) arrays are not datasets", name, "header");
        return dims.ToImmutable();
    }

    private static int ReadFully(Stream s, Span<byte> target)
    {
        int total = 0;
        while (total < target.Length)
        {
            int n = s.Read(target[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InputException Truncated(string name, string what) => new($"truncated file: the {what} is incomplete", name, "header");

    private static InputException Trailing(string name) =>
        new("unexpected bytes after the data (the shape in the header does not match the file size)", name, "data");

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranOrder();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex Shape();
}
