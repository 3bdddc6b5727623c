using System.Diagnostics;

namespace L2OEvolve.Engine.Progress;

/// <summary>Progress as plain lines on <paramref name="writer"/>: every log line, and a report at most every <paramref name="every"/>.</summary>
public sealed class PlainProgressDisplay(TextWriter writer, TimeSpan every) : IProgressDisplay
{
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();

    /// <inheritdoc/>
    public TextWriter Lines => writer;

    /// <inheritdoc/>
    public void Report(double done, double? total, string line, PlainLine plain = PlainLine.Throttled)
    {
        if (plain == PlainLine.Never || (plain == PlainLine.Throttled && _sinceLine.Elapsed < every)) return;
        _sinceLine.Restart();
        writer.WriteLine(line);
    }

    /// <summary>Flushes the writer (it stays open: it belongs to the caller).</summary>
    public void Dispose() => writer.Flush();
}
