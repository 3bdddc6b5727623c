using System.Globalization;
using System.Text;

namespace L2OEvolve.Engine;

/// <summary>
/// Reads user-supplied files with a size cap, so that a path that never ends (<c>/dev/zero</c>, a runaway pipe) or a
/// file far larger than its kind ever needs is one clear error instead of an out-of-memory crash.
/// </summary>
public static class InputFiles
{
    /// <summary>Cap on hand-written JSON inputs: grammars, rule files, job files, sidecars, pipeline configurations.</summary>
    public const long JsonBytes = 4 << 20;

    /// <summary>Cap on a data table (CSV) and on a hall-of-fame file.</summary>
    public const long DataBytes = 4L << 30;

    /// <summary>Longest line of a line-based file (a CSV row, a hall-of-fame row).</summary>
    public const int LineChars = 16 << 20;

    /// <summary>
    /// The text of <paramref name="path"/> (UTF-8), read to at most <paramref name="maxBytes"/>; a missing, unreadable,
    /// directory or over-long file is an <see cref="InputException"/> naming <paramref name="kind"/>.
    /// </summary>
    public static string ReadText(string path, long maxBytes, string kind)
    {
        using var stream = Open(path, kind);
        using var limited = new LimitedStream(stream, maxBytes, path, kind);
        using var reader = new StreamReader(limited, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>Opens <paramref name="path"/> for reading behind a byte cap; the faults are those of <see cref="ReadText"/>.</summary>
    public static Stream OpenBounded(string path, long maxBytes, string kind) => new LimitedStream(Open(path, kind), maxBytes, path, kind);

    /// <summary>
    /// The next line of <paramref name="reader"/> (null at the end), refusing lines longer than <see cref="LineChars"/>
    /// (a file of one endless line would otherwise fill the memory before any check ran).
    /// </summary>
    public static string? ReadLine(TextReader reader, string path, int lineNumber)
    {
        var sb = new StringBuilder();
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (c == '\n') return sb.ToString();
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                return sb.ToString();
            }
            if (sb.Length >= LineChars)
                throw new InputException($"line longer than {LineChars / (1 << 20)} MiB characters; is this a text file?", path, $"line {lineNumber}");
            sb.Append((char)c);
        }
        return sb.Length > 0 ? sb.ToString() : null;
    }

    /// <summary>A size in the units people read: 4 MiB, 4 GiB.</summary>
    public static string Size(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{(bytes >> 30).ToString(CultureInfo.InvariantCulture)} GiB"
        : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{(bytes >> 20).ToString(CultureInfo.InvariantCulture)} MiB"
        : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes";

    private static FileStream Open(string path, string kind)
    {
        if (string.IsNullOrEmpty(path)) throw new InputException($"the {kind} path is empty");
        if (Directory.Exists(path)) throw new InputException($"a directory, not a {kind}", path);
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (FileNotFoundException) { throw new InputException($"{kind} not found", path); }
        catch (DirectoryNotFoundException) { throw new InputException($"{kind} not found", path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read the {kind}: {e.Message}", path, inner: e);
        }
    }

    /// <summary>A read-only view of a stream that fails once more than the cap has been read.</summary>
    private sealed class LimitedStream(Stream inner, long max, string path, string kind) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            try { n = inner.Read(buffer); }
            catch (IOException e) { throw new InputException($"cannot read the {kind}: {e.Message}", path, inner: e); }
            _read += n;
            if (_read > max)
                throw new InputException($"larger than {Size(max)}, the limit for a {kind}; is this the right file?", path);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
