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

    /// <summary>
    /// Whether <paramref name="saved"/> may continue under <paramref name="settings"/> and <paramref name="grammar"/>:
    /// the field-by-field settings report against <paramref name="savedSettings"/>, plus <c>Grammar</c> (incompatible)
    /// when the grammar's content hash differs from the one the search started with.
    /// </summary>
    public static CompatibilityReport CheckResume(SearchState saved, SearchSettings savedSettings, SearchSettings settings, Grammars.Grammar grammar)
    {
        var report = Check(savedSettings, settings);
        if (saved.SettingsHash != savedSettings.ContentHash())
            throw new ArgumentException("the saved settings are not the ones this search state was started with", nameof(savedSettings));
        return saved.GrammarHash == grammar.ContentHash
            ? report
            : new CompatibilityReport(report.Changed.Add("Grammar"), report.Incompatible.Add("Grammar"));
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
