using System.Globalization;
using System.Text.RegularExpressions;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// The lag-column naming convention shared by datasets and the rule runtime: column <c>gK</c> or <c>g_K</c> is base
/// feature <c>g</c> lagged K steps (lag 0 = newest). Converts rules between that column form (<c>g3</c>) and
/// stateful form (<c>lag(3, g)</c>).
/// </summary>
public static partial class LagNames
{
    /// <summary>
    /// Splits <paramref name="name"/> into a base from <paramref name="bases"/> and a lag: a base itself is lag 0;
    /// otherwise the longest base followed by an optional <c>_</c> and digits (<c>mom55</c> = mom5 lagged 5).
    /// </summary>
    public static bool TryParse(string name, IReadOnlyList<string> bases, out string baseName, out int lag)
    {
        baseName = "";
        lag = 0;
        foreach (var b in bases)
            if (b == name) { baseName = b; return true; }
        int best = -1;
        foreach (var b in bases)
        {
            if (b.Length <= best || !name.StartsWith(b, StringComparison.Ordinal)) continue;
            var rest = name.AsSpan(b.Length);
            if (!rest.IsEmpty && rest[0] == '_') rest = rest[1..];
            if (rest.IsEmpty || !int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out int k)) continue;
            (baseName, lag, best) = (b, k, b.Length);
        }
        return best >= 0;
    }

    /// <summary>
    /// How printers subscript a variable: a lag column of one of <paramref name="bases"/> is its base and lag
    /// (<c>mom53</c> → mom5, 3) and a base itself is not split (<c>mom5</c>); any other name of letters then digits is
    /// split there (<c>x12</c> → x, 12).
    /// </summary>
    public static bool TrySubscript(string name, IReadOnlyList<string> bases, out string baseName, out string index)
    {
        if (TryParse(name, bases, out baseName, out int lag))
        {
            // A base itself (mom5, mp2) is a name, not a lag.
            index = baseName == name ? "" : lag.ToString(CultureInfo.InvariantCulture);
            return baseName != name;
        }
        var m = Indexed().Match(name);
        (baseName, index) = m.Success ? (m.Groups[1].Value, m.Groups[2].Value) : (name, "");
        return m.Success;
    }

    [GeneratedRegex(@"^([A-Za-z]+)_?([0-9]+)$")]
    private static partial Regex Indexed();

    /// <summary>The column name for a lagged base: <c>g3</c>, or <c>mom5_3</c> when the base ends in a digit.</summary>
    public static string Format(string baseName, int lag) =>
        baseName + (char.IsAsciiDigit(baseName[^1]) ? "_" : "") + lag.ToString(CultureInfo.InvariantCulture);

    /// <summary>Rewrites lag columns into stateful nodes: <c>g3</c> → <c>lag(3, g)</c>, <c>g0</c> → <c>g</c>.
    /// Names that are not a base plus a lag are left alone.</summary>
    public static Expr ToLagNodes(Expr expr, IReadOnlyList<string> bases) => expr.Map(node =>
        node is Expr.Var v && TryParse(v.Name, bases, out var b, out int k) && b != v.Name
            ? k == 0 ? new Expr.Var(b) : new Expr.Lag(k, new Expr.Var(b))
            : node);

    /// <summary>Rewrites <c>lag(k, name)</c> of a plain variable into the column <see cref="Format"/>(name, k);
    /// other lags stay.</summary>
    public static Expr ToLagColumns(Expr expr) => expr.Map(node =>
        node is Expr.Lag { Arg: Expr.Var v } l ? new Expr.Var(Format(v.Name, l.Steps)) : node);
}
