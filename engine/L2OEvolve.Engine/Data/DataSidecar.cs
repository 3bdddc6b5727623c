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
    public static DataSidecar? TryLoad(string dataPath)
    {
        string primary = PathFor(dataPath);
        string secondary = Path.ChangeExtension(dataPath, ".json");
        string? found = File.Exists(primary) ? primary : File.Exists(secondary) && secondary != dataPath ? secondary : null;
        return found is null ? null : Load(found);
    }

    /// <summary>Reads a sidecar file; throws <see cref="InputException"/> naming the file and fault.</summary>
    public static DataSidecar Load(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InputException("malformed JSON", path, $"line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}");
        }
        using (doc)
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
