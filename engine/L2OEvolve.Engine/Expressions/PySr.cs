using System.Collections.Immutable;
using System.Globalization;

namespace L2OEvolve.Engine.Expressions;

/// <summary>One row of a PySR hall of fame: the Pareto-best equation found at one complexity.</summary>
/// <param name="Line">1-based line of the row in its file (0 for rows not read from a file).</param>
public sealed record HallOfFameRow(int Complexity, double Loss, string Equation, Expr Expression, int Line);

/// <summary>
/// Reads PySR's equation formats: prefix functional notation with PySR's operator names
/// (<c>mult(plus(g0, -0.0036), t)</c>), its Julia infix form (<c>(0.49058884 * tanh(g_2 + g_0))</c>, <c>x ^ 2</c>),
/// and <c>hall_of_fame.csv</c> files (<c>Complexity|MSE|Equation</c>), as described in docs/symbolic-l2o.md, 'Symbolic regression'.
/// </summary>
public static class PySr
{
    /// <summary>Parses an equation in either PySR notation; throws <see cref="InputException"/> naming the column.</summary>
    public static Expr ParseEquation(string text) => Infix.ParseLenient(text);

    /// <summary>
    /// Reads a hall-of-fame file. The header must be <c>Complexity|LOSS|...|Equation</c> (any loss name, optional
    /// extra columns such as R2); each row is split on its first n-1 <c>|</c> only (n = header fields), so the
    /// equation may contain anything. Blank lines are skipped, and the
    /// table ends at the first line that is not a row (PySR's <c>.bkup</c> files append a <c>best: ...</c> line).
    /// </summary>
    public static ImmutableArray<HallOfFameRow> ReadHallOfFame(string path)
    {
        if (!File.Exists(path)) throw new InputException("file not found", path);
        return ParseHallOfFame(File.ReadAllLines(path), path);
    }

    /// <summary>Parses hall-of-fame text already split into lines; <paramref name="file"/> names it in errors.</summary>
    public static ImmutableArray<HallOfFameRow> ParseHallOfFame(IReadOnlyList<string> lines, string? file = null)
    {
        int i = 0;
        while (i < lines.Count && string.IsNullOrWhiteSpace(lines[i])) i++;
        if (i == lines.Count) throw new InputException("empty hall of fame: no header line", file);
        var header = lines[i].Split('|');
        if (header.Length < 3 || header[0].Trim() != "Complexity" || header[^1].Trim() != "Equation")
            throw new InputException($"expected the header 'Complexity|MSE|Equation' but found '{lines[i]}'", file, $"line {i + 1}");
        int fields = header.Length; // PySR writes 3; L2OEvolve's own files add R2 before the equation

        var rows = ImmutableArray.CreateBuilder<HallOfFameRow>();
        for (i++; i < lines.Count; i++)
        {
            string line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split('|', fields);
            if (parts.Length != fields
                || !int.TryParse(parts[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int complexity)
                || !double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double loss))
                break; // trailing non-table text
            string equation = parts[^1].Trim();
            try
            {
                rows.Add(new HallOfFameRow(complexity, loss, equation, ParseEquation(equation), i + 1));
            }
            catch (InputException e)
            {
                throw new InputException(e.Fault, file, $"line {i + 1}, {e.Location}");
            }
        }
        return rows.ToImmutable();
    }
}
