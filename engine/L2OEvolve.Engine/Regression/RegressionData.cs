using System.Collections.Immutable;
using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Regression;

/// <summary>A dataset loaded for regression: the MSE fitness over the chosen features, and what was loaded.</summary>
/// <param name="Fitness">MSE over the selected columns (rows) or along the sequences (trajectories).</param>
/// <param name="Features">The selected feature names, in column order.</param>
/// <param name="TargetName">The target column.</param>
/// <param name="Description">One line for the console: shape, kind, dropped rows.</param>
public sealed record RegressionData(MseFitness Fitness, ImmutableArray<string> Features, string TargetName, string Description)
{
    /// <summary>
    /// Loads <paramref name="path"/>: a <c>.npy</c> whose sidecar says <c>trajectory</c> becomes sequences (so stateful
    /// rules run along time); anything else is a table. <paramref name="features"/> null means every column but the target.
    /// </summary>
    public static RegressionData Load(string path, string? target, IReadOnlyList<string>? features, bool dropNonFinite)
    {
        if (!File.Exists(path)) throw new InputException("file not found", path);
        bool trajectory = path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
            && DataSidecar.TryLoad(path)?.Kind == DataSidecar.TrajectoryKind;
        if (trajectory)
        {
            var t = TrajectoryDataset.Load(path, dropNonFinite);
            if (target is not null && target != t.TargetName)
                throw new InputException($"the target of a trajectory dataset is its last slice '{t.TargetName}', not '{target}'", path);
            if (features is not null) t = t.Select(features);
            CheckNames(t.FeatureNames, path);
            var fit = MseFitness.Trajectories(t.FeatureNames, t.Features, t.Target, t.Coordinates, t.Steps);
            string dropped = t.DroppedCoordinates > 0 ? $", dropped {t.DroppedCoordinates} non-finite coordinates" : "";
            return new RegressionData(fit, t.FeatureNames, t.TargetName,
                $"{path}: trajectories {t.Coordinates} coordinates x {t.Steps} steps, features {string.Join(",", t.FeatureNames)} -> {t.TargetName}{dropped}");
        }
        RowSelection sel;
        try { sel = RowDataset.Load(path).Select(features, target, dropNonFinite); }
        catch (InputException ex) when (ex.File is null) { throw ex.InFile(path); }
        CheckNames(sel.Names, path);
        var fitness = MseFitness.Rows(sel.Names, sel.X, sel.Y);
        string note = sel.DroppedRows > 0 ? $", dropped {sel.DroppedRows} rows with NaN/Inf" : "";
        return new RegressionData(fitness, sel.Names, sel.TargetName,
            $"{path}: {sel.Rows} rows, features {Abbreviate(sel.Names)} -> {sel.TargetName}{note}");
    }

    // A feature becomes a variable of the equations found, which must read back (score, warm starts, rule files).
    private static void CheckNames(ImmutableArray<string> features, string path)
    {
        foreach (var name in features)
            if (Infix.NameFault(name) is { } fault)
                throw new InputException($"column '{name}' cannot be a feature: {fault}; rename the column (or leave it out with --features)", path, "column names");
    }

    private static string Abbreviate(ImmutableArray<string> names) =>
        names.Length <= 8 ? string.Join(",", names) : $"{string.Join(",", names.Take(4))},...,{names[^1]} ({names.Length})";

    /// <summary>Splits a <c>--features a,b,c</c> list (null when absent).</summary>
    public static IReadOnlyList<string>? ParseList(string? list) =>
        list is null ? null : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
