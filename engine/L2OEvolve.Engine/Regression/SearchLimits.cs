namespace L2OEvolve.Engine.Regression;

/// <summary>
/// Upper bounds on the sizes a search may be asked for, checked before anything is allocated: past them the budget
/// would overflow a <see cref="TimeSpan"/>, or the populations would need more memory than any machine has.
/// </summary>
public static class SearchLimits
{
    /// <summary>Longest time budget, in seconds (about 31 years).</summary>
    public const double MaxSeconds = 1e9;

    /// <summary>Most islands.</summary>
    public const int MaxIslands = 10_000;

    /// <summary>Most members of all islands together (and so of one island).</summary>
    public const long MaxMembers = 1_000_000;

    /// <summary>Most worker threads.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The faults of a population shape, as (what, fault) pairs; <paramref name="islandsWhat"/> and
    /// <paramref name="sizeWhat"/> name the options or fields.</summary>
    public static IEnumerable<(string What, string Fault)> PopulationFaults(int islands, int size, string islandsWhat, string sizeWhat)
    {
        if (islands > MaxIslands) yield return (islandsWhat, $"at most {MaxIslands} islands, got {islands}");
        else if ((long)islands * size > MaxMembers)
            yield return (sizeWhat, $"{islands} islands of {size} members exceed the limit of {MaxMembers} members in all");
    }
}
