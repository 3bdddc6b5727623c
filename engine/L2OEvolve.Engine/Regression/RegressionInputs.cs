using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Regression;

/// <summary>What a symbolic-regression run searches with: the grammar bound to the data's features, the data, and the warm-start equations.</summary>
/// <param name="Grammar">The grammar, its features bound to the data's columns.</param>
/// <param name="Problem">The data and its MSE fitness.</param>
/// <param name="Warm">Equations that seed the populations, each checked against the grammar.</param>
public sealed record RegressionInputs(Grammar Grammar, RegressionData Problem, IReadOnlyList<Expr> Warm)
{
    /// <summary>
    /// Loads the grammar and the data and parses the warm-start equations, each checked against the grammar. Faults
    /// name the file (or <paramref name="warmWhat"/>, the option or field the equations came from).
    /// </summary>
    public static RegressionInputs Load(string grammarPath, string dataPath, string? target, IReadOnlyList<string>? features,
        bool dropNonFinite, IEnumerable<string> warmStart, string warmWhat)
    {
        var grammar = GrammarJson.Load(grammarPath);
        var problem = RegressionData.Load(dataPath, target, features, dropNonFinite);
        try { grammar = grammar.BindFeatures(problem.Features); }
        catch (InputException e) when (e.File is null) { throw e.InFile(grammarPath, "$.features"); }
        var warm = warmStart.Select(text => Equations.Parse(text, warmWhat)).ToList();
        foreach (var w in warm)
            if (grammar.Violations(w) is { Count: > 0 } faults)
                throw new InputException($"equation '{w}' does not fit grammar '{grammar.Name}' ({grammarPath}): {string.Join("; ", faults)}", location: warmWhat);
        return new RegressionInputs(grammar, problem, warm);
    }
}
