using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Cli.Web;

/// <summary>
/// Renders a rule as presentation MathML for the daemon's page (browsers draw it natively, so the page needs no
/// script library). Mirrors the reading of <see cref="Latex"/>: fractions, roots of <c>|x|</c>, lag subscripts.
/// </summary>
public static partial class MathMl
{
    private const int SumLevel = 1, ProductLevel = 2, UnaryLevel = 3, PowerLevel = 4, AtomLevel = 5;

    private readonly record struct Piece(string Xml, int Level);

    /// <summary>The <c>&lt;math&gt;</c> element for the infix rule <paramref name="infix"/>; null when it does not parse.</summary>
    public static string? FromInfix(string infix)
    {
        try { return Print(Infix.Parse(infix)); }
        catch (InputException) { return null; }
    }

    /// <summary>The <c>&lt;math&gt;</c> element for <paramref name="expr"/>.</summary>
    public static string Print(Expr expr) => $"<math display=\"block\">{Render(expr).Xml}</math>";

    private static Piece Render(Expr e) => e switch
    {
        Expr.Const c => Number(c.Value),
        Expr.Var v => new(Name(v.Name), AtomLevel),
        Expr.Unary u => RenderUnary(u),
        Expr.Binary b => RenderBinary(b),
        Expr.Ema m => new(Call(m.BiasCorrected ? "<mover><mi>ema</mi><mo>^</mo></mover>" : "<mi>ema</mi>", Mn(Infix.FormatNumber(m.Beta)), Render(m.Arg).Xml), AtomLevel),
        Expr.Lag { Arg: Expr.Var v } l when PlainName().IsMatch(v.Name)
            => new($"<msub>{Mi(v.Name)}{Mn(l.Steps.ToString(CultureInfo.InvariantCulture))}</msub>", AtomLevel),
        Expr.Lag l => new(Call("<mi>lag</mi>", Mn(l.Steps.ToString(CultureInfo.InvariantCulture)), Render(l.Arg).Xml), AtomLevel),
        _ => throw new InvalidOperationException("unknown node"),
    };

    private static Piece RenderUnary(Expr.Unary u)
    {
        var arg = Render(u.Arg);
        // The arithmetic core has its own layouts; every other operator (plug-ins and defines too) is a named call.
        return u.Op.Name switch
        {
            "neg" => new(Row(Mo("-"), Wrap(arg, arg.Level < PowerLevel)), UnaryLevel),
            "abs" => new(Bars(arg.Xml), AtomLevel),
            "sqrt" => new($"<msqrt>{(u.Arg is Expr.Unary { Op.Name: "abs" or "square" or "exp" or "sqrt" } ? arg.Xml : Bars(arg.Xml))}</msqrt>", AtomLevel),
            "log" => new(Row("<mi>log</mi>", Bars(arg.Xml)), AtomLevel),
            "exp" => new($"<msup><mi>e</mi>{Row(arg.Xml)}</msup>", PowerLevel),
            "square" => new($"<msup>{Wrap(arg, arg.Level < AtomLevel || IsFraction(u.Arg))}<mn>2</mn></msup>", PowerLevel),
            "cube" => new($"<msup>{Wrap(arg, arg.Level < AtomLevel || IsFraction(u.Arg))}<mn>3</mn></msup>", PowerLevel),
            _ => new(Row(Mi(u.Op.Symbol), Parens(arg.Xml)), AtomLevel),
        };
    }

    private static Piece RenderBinary(Expr.Binary b)
    {
        var l = Render(b.Left);
        var r = Render(b.Right);
        return b.Op.Name switch
        {
            "+" => new(Row(Wrap(l, l.Level < SumLevel), Mo("+"), Wrap(r, r.Level <= UnaryLevel && IsNegative(r))), SumLevel),
            "-" => new(Row(Wrap(l, l.Level < SumLevel), Mo("-"), Wrap(r, r.Level <= SumLevel || IsNegative(r))), SumLevel),
            "*" => new(Row(Wrap(l, l.Level < ProductLevel), Mo("&#x22C5;"), Wrap(r, r.Level <= UnaryLevel)), ProductLevel),
            "/" => new($"<mfrac>{Row(l.Xml)}{Row(r.Xml)}</mfrac>", AtomLevel),
            "pow" => new($"<msup>{Wrap(l, l.Level < AtomLevel || IsFraction(b.Left))}{Row(r.Xml)}</msup>", PowerLevel),
            "greater" => new(Row(Mo("["), l.Xml, Mo("&gt;"), r.Xml, Mo("]")), AtomLevel),
            _ => new(Row(Mi(b.Op.Symbol), Mo("("), l.Xml, Mo(","), r.Xml, Mo(")")), AtomLevel),
        };
    }

    private static Piece Number(double value)
    {
        if (double.IsNaN(value)) return new("<mi>NaN</mi>", AtomLevel);
        if (double.IsInfinity(value)) return value > 0 ? new("<mi>&#x221E;</mi>", AtomLevel) : new(Row(Mo("-"), "<mi>&#x221E;</mi>"), UnaryLevel);
        string s = Infix.FormatNumber(Math.Abs(value));
        int e = s.IndexOf('E');
        string body = e < 0 ? Mn(s)
            : Row(Mn(s[..e]), Mo("&#x22C5;"), $"<msup><mn>10</mn>{Mn(int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture))}</msup>");
        return value < 0 ? new(Row(Mo("-"), body), UnaryLevel) : new(body, e < 0 ? AtomLevel : ProductLevel);
    }

    /// <summary><c>g3</c> and <c>g_3</c> become g with subscript 3, as in <see cref="Latex"/>.</summary>
    private static string Name(string name) =>
        LagNames.TrySubscript(name, Engine.Compilation.RuleFeatures.Names, out var b, out var index) ? $"<msub>{Mi(b)}{Mn(index)}</msub>" : Mi(name);

    private static bool IsFraction(Expr e) => e is Expr.Binary b && b.Op == Op.Div;
    private static bool IsNegative(Piece p) => p.Xml.StartsWith("<mrow><mo>-</mo>", StringComparison.Ordinal);
    private static string Call(string head, string subscript, string arg) => Row($"<msub>{head}{subscript}</msub>", Parens(arg));
    private static string Wrap(Piece p, bool wrap) => wrap ? Parens(p.Xml) : p.Xml;
    private static string Parens(string xml) => Row(Mo("("), xml, Mo(")"));
    private static string Bars(string xml) => Row(Mo("|"), xml, Mo("|"));
    private static string Row(params string[] parts) => "<mrow>" + string.Concat(parts) + "</mrow>";
    private static string Mo(string op) => $"<mo>{op}</mo>";
    private static string Mi(string name) => $"<mi>{WebUtility.HtmlEncode(name)}</mi>";
    private static string Mn(string number) => $"<mn>{WebUtility.HtmlEncode(number)}</mn>";

    [GeneratedRegex(@"^[A-Za-z]+$")]
    private static partial Regex PlainName();
}
