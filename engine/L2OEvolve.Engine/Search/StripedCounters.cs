namespace L2OEvolve.Engine.Search;

/// <summary>
/// A few event counters that many threads bump at once: each thread adds to its own stripe, a cache line apart from
/// the others, so counting does not make the threads contend for one line; a read sums the stripes.
/// </summary>
internal sealed class StripedCounters(int counters)
{
    private const int Stripes = 16, StripeLongs = 8;

    private readonly long[] _counts = new long[Stripes * Math.Max(StripeLongs, counters)];
    private readonly int _stripeLongs = Math.Max(StripeLongs, counters);

    /// <summary>Adds one to counter <paramref name="which"/>.</summary>
    public void Increment(int which) =>
        Interlocked.Increment(ref _counts[(Environment.CurrentManagedThreadId & (Stripes - 1)) * _stripeLongs + which]);

    /// <summary>The total of counter <paramref name="which"/> over all threads.</summary>
    public long this[int which]
    {
        get
        {
            long sum = 0;
            for (int s = 0; s < Stripes; s++) sum += Interlocked.Read(ref _counts[s * _stripeLongs + which]);
            return sum;
        }
    }
}
