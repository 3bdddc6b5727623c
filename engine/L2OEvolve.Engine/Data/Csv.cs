using System.Collections.Immutable;
using System.Globalization;

namespace L2OEvolve.Engine.Data;

/// <summary>Reads numeric CSV tables: a header row of names, then one number per field (comma-separated).</summary>
/// <remarks>Empty fields, <c>nan</c> and <c>inf</c>/<c>-inf</c>/<c>Infinity</c> (any case) read as non-finite values,
/// which dataset selection then reports or drops. Quotes around header names are removed.</remarks>
internal static class Csv
{
    public static (ImmutableArray<string> Names, float[][] Columns, int Rows) Read(string path)
    {
        if (!File.Exists(path)) throw new InputException("file not found", path);
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        int lineNo = 1;
        while (header is not null && string.IsNullOrWhiteSpace(header)) { header = reader.ReadLine(); lineNo++; }
        if (header is null) throw new InputException("empty file: expected a header row of column names", path);
        var names = header.Split(',').Select(n => n.Trim().Trim('"').Trim()).ToImmutableArray();
        for (int j = 0; j < names.Length; j++)
            if (names[j].Length == 0) throw new InputException($"column {j + 1} of the header has no name", path, $"line {lineNo}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
            if (!seen.Add(n)) throw new InputException($"duplicate column name '{n}'", path, $"line {lineNo}");

        var columns = names.Select(_ => new List<float>()).ToArray();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split(',');
            if (fields.Length != names.Length)
                throw new InputException($"expected {names.Length} fields, found {fields.Length}", path, $"line {lineNo}");
            for (int j = 0; j < fields.Length; j++)
            {
                if (!TryParse(fields[j], out float v))
                    throw new InputException($"'{fields[j].Trim()}' in column '{names[j]}' is not a number" +
                        (fields[j].IndexOfAny([';', '\t']) >= 0 ? " (fields are separated by commas only)" : ""), path, $"line {lineNo}");
                columns[j].Add(v);
            }
        }
        int rows = columns.Length == 0 ? 0 : columns[0].Count;
        return (names, columns.Select(c => c.ToArray()).ToArray(), rows);
    }

    private static bool TryParse(string field, out float value)
    {
        var s = field.AsSpan().Trim();
        if (s.IsEmpty || s.Equals("nan", StringComparison.OrdinalIgnoreCase) || s.Equals("na", StringComparison.OrdinalIgnoreCase))
        {
            value = float.NaN;
            return true;
        }
        bool negative = s[0] == '-';
        var body = s[0] is '-' or '+' ? s[1..] : s;
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        // float.TryParse rounds the decimal text once (parsing as double first would round twice).
        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    public static void Write(string path, IReadOnlyList<string> names, float[][] columns, int rows)
    {
        using var w = new StreamWriter(path);
        w.WriteLine(string.Join(',', names));
        var fields = new string[columns.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns.Length; j++) fields[j] = columns[j][i].ToString("R", CultureInfo.InvariantCulture);
            w.WriteLine(string.Join(',', fields));
        }
    }
}
