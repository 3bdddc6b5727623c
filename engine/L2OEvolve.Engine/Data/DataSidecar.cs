using System.Collections.Immutable;
using System.Text.Json;

namespace L2OEvolve.Engine.Data;

/// <summary>
/// The JSON file beside a <c>.npy</c> dataset that names its columns: <c>{"columns": ["g0", ...]}</c> for row data,
/// <c>{"kind": "trajectory", "columns": [features..., target]}</c> for trajectories. For <c>data.npy</c> it is
/// <c>data.npy.json</c> (written) or <c>data.json</c> (also read).
/// </summary>
public sealed record DataSidecar(string Kind, ImmutableArray<string> Columns)
{
    /// <summary>The kind of row datasets.</summary>
    public const string RowsKind = "rows";

    /// <summary>The kind of trajectory datasets.</summary>
    public const string TrajectoryKind = "trajectory";

    /// <summary>The sidecar path this library writes for <paramref name="dataPath"/>.</summary>
    public static string PathFor(string dataPath) => dataPath + ".json";

    /// <summary>Finds and reads the sidecar of <paramref name="dataPath"/>, or returns null when there is none.</summary>
    public static DataSidecar? TryLoad(string dataPath) => Find(dataPath) is { } found ? Load(found) : null;

    /// <summary>The sidecar file of <paramref name="dataPath"/> (<c>data.npy.json</c>, else <c>data.json</c>), or null.</summary>
    public static string? Find(string dataPath)
    {
        string primary = PathFor(dataPath);
        string secondary = Path.ChangeExtension(dataPath, ".json");
        return File.Exists(primary) ? primary : File.Exists(secondary) && secondary != dataPath ? secondary : null;
    }

    /// <summary>
    /// The column names of the <c>.npy</c> at <paramref name="dataPath"/>, whose column axis has <paramref name="width"/>
    /// slices: its sidecar's, checked against <paramref name="kind"/> and the width, or <paramref name="defaults"/> when
    /// it has none. A misfit is an <see cref="InputException"/> on the data file that also names the sidecar.
    /// </summary>
    internal static ImmutableArray<string> ColumnsFor(string dataPath, string kind, int width, Func<ImmutableArray<string>> defaults,
        Func<string, string> kindFault, Func<int, string> countFault)
    {
        if (Find(dataPath) is not { } file) return defaults();
        var sidecar = Load(file);
        string where = "sidecar " + Path.GetFileName(file);
        if (sidecar.Kind != kind) throw new InputException(kindFault(sidecar.Kind), dataPath, where);
        if (sidecar.Columns.Length != width) throw new InputException(countFault(sidecar.Columns.Length), dataPath, where);
        return sidecar.Columns;
    }

    /// <summary>Reads a sidecar file; throws <see cref="InputException"/> naming the file and fault.</summary>
    public static DataSidecar Load(string path)
    {
        using (var doc = JsonInput.Load(path, "sidecar"))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InputException("expected a JSON object", path, "$");
            string kind = RowsKind;
            if (root.TryGetProperty("kind", out var k))
            {
                kind = k.ValueKind == JsonValueKind.String ? k.GetString()! : throw new InputException("expected a string", path, "$.kind");
                if (kind is not (RowsKind or TrajectoryKind))
                    throw new InputException($"unknown kind '{kind}'; expected \"{RowsKind}\" or \"{TrajectoryKind}\"", path, "$.kind");
            }
            if (!root.TryGetProperty("columns", out var cols) || cols.ValueKind != JsonValueKind.Array)
                throw new InputException("expected \"columns\": a list of column names", path, "$.columns");
            var names = ImmutableArray.CreateBuilder<string>();
            int i = 0;
            foreach (var c in cols.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(c.GetString()))
                    throw new InputException("expected a non-empty column name", path, $"$.columns[{i}]");
                names.Add(c.GetString()!);
                i++;
            }
            var result = new DataSidecar(kind, names.ToImmutable());
            if (result.Duplicate() is { } dup) throw new InputException($"duplicate column name '{dup}'", path, "$.columns");
            return result;
        }
    }

    /// <summary>Writes this sidecar for <paramref name="dataPath"/> (to <see cref="PathFor"/>).</summary>
    public void Save(string dataPath)
    {
        using var stream = File.Create(PathFor(dataPath));
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("kind", Kind);
        w.WriteStartArray("columns");
        foreach (var c in Columns) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    internal string? Duplicate()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in Columns) if (!seen.Add(c)) return c;
        return null;
    }
}
