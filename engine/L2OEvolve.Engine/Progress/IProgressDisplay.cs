namespace L2OEvolve.Engine.Progress;

/// <summary>When a progress report also becomes a plain line (the display is not live).</summary>
public enum PlainLine
{
    /// <summary>At most one line per the display's plain interval.</summary>
    Throttled,
    /// <summary>Always (e.g. the end of a phase).</summary>
    Always,
    /// <summary>Never (the caller prints its own line for this moment).</summary>
    Never,
}

/// <summary>
/// Where a long-running library call reports progress: numbers with a line describing them (<see cref="Report"/>),
/// and whole lines of its log (<see cref="Lines"/>). A terminal front end may draw a live bar; <see cref="PlainProgressDisplay"/>
/// writes plain lines.
/// </summary>
public interface IProgressDisplay : IDisposable
{
    /// <summary>A writer for the call's log lines.</summary>
    TextWriter Lines { get; }

    /// <summary>
    /// Progress <paramref name="done"/> of <paramref name="total"/> (null: unknown), described by <paramref name="line"/>,
    /// which is also the plain line when the display is not live.
    /// </summary>
    void Report(double done, double? total, string line, PlainLine plain = PlainLine.Throttled);
}
