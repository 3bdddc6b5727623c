using System.Collections.Immutable;
using System.Globalization;

namespace L2OEvolve.Engine.Data;

/// <summary>Feature columns and a target picked from a <see cref="RowDataset"/>, rows with NaN/Inf removed.</summary>
/// <param name="X">One float32 array per feature, each of length <see cref="Rows"/>.</param>
/// <param name="Y">The target column.</param>
/// <param name="Names">The feature names, in the order of <paramref name="X"/>.</param>
/// <param name="TargetName">The target column's name.</param>
/// <param name="DroppedRows">How many rows were dropped for non-finite values (0 unless dropping was asked for).</param>
public sealed record RowSelection(float[][] X, float[] Y, ImmutableArray<string> Names, string TargetName, int DroppedRows)
{
    /// <summary>Rows in the selection.</summary>
    public int Rows => Y.Length;

    /// <summary>Deconstructs to the contract's <c>(X, y, names)</c>.</summary>
    public void Deconstruct(out float[][] x, out float[] y, out ImmutableArray<string> names) => (x, y, names) = (X, Y, Names);
}

/// <summary>
/// An immutable table of float32 columns (column-major: one array per column, so evaluators stream a feature at a
/// time). Loaded from CSV with a header, or from a 1-D/2-D <c>.npy</c> whose columns a sidecar names (default
/// <c>x0..x{n-1}</c>).
/// </summary>
/// <remarks>Non-finite values are kept on load (a column nobody uses may hold NaN, as in the paper's recordings);
/// <see cref="Select"/> reports them in the chosen columns, or drops those rows when asked.</remarks>
public sealed record RowDataset
{
    /// <summary>Builds a dataset, checking that names are unique and every column has <paramref name="rows"/> values.</summary>
    public RowDataset(ImmutableArray<string> columnNames, float[][] columns, int rows)
    {
        if (columnNames.Length != columns.Length)
            throw new ArgumentException($"{columnNames.Length} names for {columns.Length} columns", nameof(columnNames));
        for (int j = 0; j < columns.Length; j++)
            if (columns[j].Length != rows)
                throw new ArgumentException($"column '{columnNames[j]}' has {columns[j].Length} values, expected {rows}", nameof(columns));
        if (new DataSidecar(DataSidecar.RowsKind, columnNames).Duplicate() is { } dup)
            throw new ArgumentException($"duplicate column name '{dup}'", nameof(columnNames));
        (ColumnNames, Columns, Rows) = (columnNames, columns, rows);
    }

    /// <summary>Column names, in file order.</summary>
    public ImmutableArray<string> ColumnNames { get; }

    /// <summary>The values, one array per column.</summary>
    public float[][] Columns { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>The column used as target when none is named: the last one.</summary>
    public string DefaultTarget => ColumnNames[^1];

    /// <summary>Loads <c>.csv</c> (header row required) or <c>.npy</c> (float32/float64, C order, 1-D or 2-D).</summary>
    /// <exception cref="InputException">Missing or malformed file, or a sidecar that does not fit the array.</exception>
    public static RowDataset Load(string path)
    {
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            var (names, columns, rows) = Csv.Read(path);
            return new RowDataset(names, columns, rows);
        }
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new InputException("unknown data format: expected a .csv or .npy file", path);
        var array = Npy.Read(path);
        if (array.Shape.Length == 3)
            throw new InputException($"a 3-D array {Shape(array)} is a trajectory dataset, not a table", path);
        if (array.Shape.Length > 3)
            throw new InputException($"expected a 1-D or 2-D array, got shape {Shape(array)}", path);
        if (array.Shape.Length == 0) throw new InputException("a 0-D array (a single number) is not a table", path);
        int n = array.Shape[0];
        int width = array.Shape.Length == 2 ? array.Shape[1] : 1;
        if (width == 0) throw new InputException($"the array {Shape(array)} has no columns", path);
        var columnNames = DataSidecar.ColumnsFor(path, DataSidecar.RowsKind, width,
            () => Enumerable.Range(0, width).Select(j => "x" + j.ToString(CultureInfo.InvariantCulture)).ToImmutableArray(),
            kind => $"the sidecar says kind '{kind}' but the array {Shape(array)} is a table",
            count => $"the sidecar names {count} columns but the array has {width}");
        var cols = new float[width][];
        for (int j = 0; j < width; j++) cols[j] = new float[n];
        var data = array.Data;
        for (int i = 0, k = 0; i < n; i++)
            for (int j = 0; j < width; j++, k++)
                cols[j][i] = data[k];
        return new RowDataset(columnNames, cols, n);
    }

    /// <summary>Index of a column, or -1.</summary>
    public int IndexOf(string name) => ColumnNames.IndexOf(name, StringComparer.Ordinal);

    /// <summary>The values of the named column.</summary>
    /// <exception cref="InputException">No such column (the message lists the columns).</exception>
    public float[] Column(string name) => Columns[Require(name)];

    /// <summary>
    /// Picks feature columns and a target. <paramref name="features"/> null means every column but the target;
    /// <paramref name="target"/> null means <see cref="DefaultTarget"/>. Rows with NaN/Inf in a chosen column are an
    /// error stating how many there are, or are dropped (and counted) when <paramref name="dropNonFinite"/> is set.
    /// </summary>
    public RowSelection Select(IReadOnlyList<string>? features = null, string? target = null, bool dropNonFinite = false)
    {
        target ??= DefaultTarget;
        int t = Require(target);
        var names = features?.ToImmutableArray() ?? ColumnNames.Where(c => c != target).ToImmutableArray();
        if (names.IsEmpty) throw new InputException("no feature columns selected");
        var indices = names.Select(Require).ToArray();
        if (indices.Contains(t)) throw new InputException($"column '{target}' is both a feature and the target");

        var chosen = indices.Append(t).ToArray();
        var keep = new bool[Rows];
        int kept = 0;
        for (int i = 0; i < Rows; i++)
        {
            bool finite = true;
            foreach (int j in chosen) finite &= float.IsFinite(Columns[j][i]);
            keep[i] = finite;
            if (finite) kept++;
        }
        int bad = Rows - kept;
        if (bad > 0 && !dropNonFinite)
        {
            int first = Array.IndexOf(keep, false);
            throw new InputException(
                $"{bad} of {Rows} rows have NaN or Inf in the selected columns (first: row {first + 1}); " +
                "use --drop-nonfinite to drop them");
        }
        // An empty selection would score every equation as a perfect fit (MSE 0 over no rows).
        if (kept == 0)
            throw new InputException(Rows == 0 ? "the dataset has no rows" : $"all {Rows} rows have NaN or Inf in the selected columns; no rows are left");
        float[] Pick(float[] column) => bad == 0 ? column : column.Where((_, i) => keep[i]).ToArray();
        return new RowSelection(indices.Select(j => Pick(Columns[j])).ToArray(), Pick(Columns[t]), names, target, bad);
    }

    /// <summary>Writes the table as <c>.csv</c> or as float32 <c>.npy</c> plus a sidecar naming the columns.</summary>
    public void Save(string path)
    {
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            Csv.Write(path, ColumnNames, Columns, Rows);
            return;
        }
        var flat = new float[(long)Rows * Columns.Length];
        for (int i = 0, k = 0; i < Rows; i++)
            for (int j = 0; j < Columns.Length; j++, k++)
                flat[k] = Columns[j][i];
        Npy.WriteFloat32(path, [Rows, Columns.Length], flat);
        new DataSidecar(DataSidecar.RowsKind, ColumnNames).Save(path);
    }

    private int Require(string name)
    {
        int j = IndexOf(name);
        if (j < 0) throw new InputException($"no column '{name}'; the columns are {string.Join(", ", ColumnNames)}");
        return j;
    }

    private static string Shape(NpyArray a) => $"({string.Join(", ", a.Shape)})";
}
