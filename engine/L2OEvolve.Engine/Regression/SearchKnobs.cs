using System.Globalization;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Regression;

/// <summary>
/// The search settings people set by name, as text (a job file's <c>settings</c>) or as numbers (<c>sr --islands</c>,
/// a pipeline configuration): one table of names, ranges and the field each one edits, so every front end maps the
/// same name to the same field and range.
/// </summary>
public static class SearchKnobs
{
    private static readonly Dictionary<string, Func<SearchSettings, string, SearchSettings>> Knobs = new(StringComparer.Ordinal)
    {
        ["islands"] = (s, v) => s with { Population = s.Population with { Islands = Int(v, 1, SearchLimits.MaxIslands) } },
        ["populationSize"] = (s, v) => s with { Population = s.Population with { Size = Int(v, 2, (int)SearchLimits.MaxMembers) } },
        ["offspring"] = (s, v) => s with { Population = s.Population with { OffspringPerGeneration = Int(v, 1, (int)SearchLimits.MaxMembers) } },
        ["initialMaxSize"] = (s, v) => s with { Population = s.Population with { InitialMaxSize = Int(v, 1, GrammarJson.MaxLimit) } },
        ["tournamentSize"] = (s, v) => s with { Selection = s.Selection with { TournamentSize = Int(v, 1, (int)SearchLimits.MaxMembers) } },
        ["tournamentProbability"] = (s, v) => s with { Selection = s.Selection with { TournamentProbability = Probability(v) } },
        ["adaptiveParsimony"] = (s, v) => s with { Selection = s.Selection with { AdaptiveParsimonyScaling = NonNegative(v) } },
        ["crossoverProbability"] = (s, v) => s with { Variation = s.Variation with { CrossoverProbability = Probability(v) } },
        ["temperature"] = (s, v) => s with { Variation = s.Variation with { Temperature = NonNegative(v) } },
        ["migrationInterval"] = (s, v) => s with { Migration = s.Migration with { Interval = Int(v, 0) } },
        ["migrationFraction"] = (s, v) => s with { Migration = s.Migration with { Fraction = Probability(v) } },
        ["hallOfFameFraction"] = (s, v) => s with { Migration = s.Migration with { HallOfFameFraction = Probability(v) } },
        ["optimizeProbability"] = (s, v) => s with { Constants = s.Constants with { OptimizeProbability = Probability(v) } },
        ["reinsertion"] = (s, v) => s with
        {
            Reinsertion = v switch
            {
                "replace-oldest" => ReinsertionKind.ReplaceOldest,
                "replace-worst" => ReinsertionKind.ReplaceWorst,
                _ => throw new FormatException("expected replace-oldest or replace-worst"),
            },
        },
    };

    /// <summary>
    /// Rows selection runs on by default (a fixed strided subset; 0 = all), so a large table does not slow every
    /// generation; the hall of fame is rescored on all rows.
    /// </summary>
    public const int DefaultBatchRows = 2000;

    /// <summary>The names of the settings, in the table's order.</summary>
    public static IEnumerable<string> Names => Knobs.Keys;

    /// <summary>True when <paramref name="name"/> is a setting of this table.</summary>
    public static bool IsKnown(string name) => Knobs.ContainsKey(name);

    /// <summary>
    /// <paramref name="settings"/> with the setting <paramref name="name"/> read from <paramref name="value"/>; a value
    /// out of range or of the wrong form throws <see cref="FormatException"/> saying what was expected.
    /// </summary>
    public static SearchSettings Apply(SearchSettings settings, string name, string value) => Knobs[name](settings, value);

    /// <summary>
    /// The settings a symbolic-regression run starts from: the engine's defaults for <paramref name="seed"/> with the
    /// given population shape (null keeps the default) and <see cref="WithQuarterOffspring"/>.
    /// </summary>
    public static SearchSettings Default(ulong seed, int? islands = null, int? size = null)
    {
        var defaults = SearchSettings.Default(seed);
        return WithQuarterOffspring(defaults with
        {
            Population = defaults.Population with
            {
                Islands = islands ?? defaults.Population.Islands,
                Size = size ?? defaults.Population.Size,
            },
        });
    }

    /// <summary>Symbolic regression's choice of offspring per generation: a quarter of the island size.</summary>
    public static SearchSettings WithQuarterOffspring(SearchSettings s) =>
        s with { Population = s.Population with { OffspringPerGeneration = Math.Max(1, s.Population.Size / 4) } };

    private static int Int(string v, int min, int max = int.MaxValue) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= min && i <= max ? i
        : throw new FormatException(max == int.MaxValue ? $"expected an integer >= {min}" : $"expected an integer from {min} to {max}");

    private static double Probability(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d is >= 0 and <= 1 ? d : throw new FormatException("expected a number in [0, 1]");

    private static double NonNegative(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && double.IsFinite(d) ? d : throw new FormatException("expected a number >= 0");
}
