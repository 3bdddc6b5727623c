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
        using var stream = InputFiles.OpenBounded(path, InputFiles.DataBytes, "data file");
        using var reader = new StreamReader(stream);
        int lineNo = 1;
        string? header = InputFiles.ReadLine(reader, path, lineNo);
        while (header is not null && string.IsNullOrWhiteSpace(header)) header = InputFiles.ReadLine(reader, path, ++lineNo);
        if (header is null) throw new InputException("empty file: expected a header row of column names", path);
        var names = header.Split(',').Select(n => n.Trim().Trim('"').Trim()).ToImmutableArray();
        for (int j = 0; j < names.Length; j++)
        {
            if (names[j].Length == 0) throw new InputException($"column {j + 1} of the header has no name", path, $"line {lineNo}");
            // Without a header row the first data row would silently become the names and be lost as data.
            if (TryParse(names[j], out _) && names[j].Any(char.IsAsciiDigit))
                throw new InputException($"the first row must name the columns, but column {j + 1} is the number '{names[j]}'; add a header row such as x0,x1,y", path, $"line {lineNo}");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
            if (!seen.Add(n)) throw new InputException($"duplicate column name '{n}'", path, $"line {lineNo}");

        var columns = names.Select(_ => new List<float>()).ToArray();
        string? line;
        long cells = 0;
        while ((line = InputFiles.ReadLine(reader, path, ++lineNo)) is not null)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split(',');
            if (fields.Length != names.Length)
                throw new InputException($"expected {names.Length} fields, found {fields.Length}", path, $"line {lineNo}");
            if ((cells += fields.Length) > Array.MaxLength)
                throw new InputException($"more than {Array.MaxLength} values; split the table", path, $"line {lineNo}");
            for (int j = 0; j < fields.Length; j++)
            {
                if (!TryParse(fields[j], out float v))
                    throw new InputException($"'{fields[j].Trim()}' in column '{names[j]}' is not a number" +
                        (fields[j].IndexOfAny([';', '\t']) >= 0 ? " (fields are separated by commas only)" : ""), path, $"line {lineNo}");
                if (OutOfRange(fields[j], v) is { } fault)
                    throw new InputException($"'{fields[j].Trim()}' in column '{names[j]}' {fault}", path, $"line {lineNo}");
                columns[j].Add(v);
            }
        }
        int rows = columns.Length == 0 ? 0 : columns[0].Count;
        return (names, columns.Select(c => c.ToArray()).ToArray(), rows);
    }

    /// <summary>
    /// Why a parsed decimal does not survive as float32 (every evaluator's precision), or null when it does: beyond
    /// ±3.4e38 it would read as infinity, below 1.4e-45 as zero, and either would change the data without a word.
    /// </summary>
    internal static string? OutOfRange(string text, float value)
    {
        var s = text.AsSpan().Trim();
        if (float.IsInfinity(value) && s.IndexOfAny("0123456789") >= 0)
            return "is beyond the float32 range (±3.4e38); rescale the column";
        if (value == 0 && NonZeroMantissa(s))
            return "is below the float32 range (1.4e-45) and would read as 0; rescale the column";
        return null;
    }

    private static bool NonZeroMantissa(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (c is 'e' or 'E') return false;
            if (c is >= '1' and <= '9') return true;
        }
        return false;
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
