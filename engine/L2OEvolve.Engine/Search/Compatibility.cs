using System.Collections.Immutable;
using System.Reflection;

namespace L2OEvolve.Engine.Search;

/// <summary>The fields that differ between two settings, and which of them a running search cannot take (SR.jl's warm-start check).</summary>
public sealed record CompatibilityReport(ImmutableArray<string> Changed, ImmutableArray<string> Incompatible)
{
    /// <summary>True when a saved search may continue under the new settings.</summary>
    public bool IsCompatible => Incompatible.IsEmpty;
}

/// <summary>Field-by-field comparison of <see cref="SearchSettings"/>, for resuming a saved search under edited settings.</summary>
public static class Compatibility
{
    /// <summary>Fields that shape the saved state itself; every other field takes effect from the next generation.</summary>
    public static ImmutableHashSet<string> FixedFields { get; } = ["Population.Islands", "Population.Size"];

    /// <summary>Lists changed fields by dotted path (<c>Variation.Weights.InsertNode</c>) and which of them are incompatible.</summary>
    public static CompatibilityReport Check(SearchSettings old, SearchSettings @new)
    {
        var changed = new List<string>();
        Compare(old, @new, "", changed);
        return new CompatibilityReport([.. changed], [.. changed.Where(FixedFields.Contains)]);
    }

    private static void Compare(object? a, object? b, string prefix, List<string> changed)
    {
        if (a is null || b is null || !IsRecord(a.GetType()))
        {
            if (!Equals(a, b)) changed.Add(prefix);
            return;
        }
        foreach (var p in a.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0) continue;
            Compare(p.GetValue(a), p.GetValue(b), prefix.Length == 0 ? p.Name : prefix + "." + p.Name, changed);
        }
    }

    // A sealed record in this namespace family has a compiler-generated EqualityContract; values (numbers, enums) do not.
    private static bool IsRecord(Type t) =>
        t.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is not null;
}
