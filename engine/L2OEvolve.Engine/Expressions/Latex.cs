using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

using Piece = L2OEvolve.Engine.Expressions.LatexPiece;

namespace L2OEvolve.Engine.Expressions;

/// <summary>A rendered LaTeX fragment and how tightly it binds (<see cref="Sum"/> loosest, <see cref="Atom"/> tightest),
/// so that an operator's printer knows when to parenthesise its arguments.</summary>
public readonly record struct LatexPiece(string Text, int Level)
{
#pragma warning disable CS1591 // binding levels
    public const int Sum = 1, Product = 2, Unary = 3, Power = 4, Atom = 5;
#pragma warning restore CS1591

    /// <summary><c>\left(text\right)</c>.</summary>
    public static string Parens(string text) => $@"\left({text}\right)";

    /// <summary>The text, parenthesised when <paramref name="wrap"/>.</summary>
    public string Wrap(bool wrap) => wrap ? Parens(Text) : Text;

    /// <summary>True for a division node (printed as a fraction, so a power of it needs parentheses).</summary>
    public static bool IsFraction(Expr e) => e is Expr.Binary b && b.Op == Op.Div;
}

/// <summary>
/// Renders a rule as LaTeX for reports: fractions, roots, exponents, <c>g_{3}</c> for lagged names,
/// <c>\operatorname{ema}_{0.9}</c> for moving averages. For display only; <see cref="Infix"/> is the exchange format.
/// </summary>
/// <remarks>
/// The protected semantics are shown where they matter to a reader: <c>sqrt</c> and <c>log</c> act on <c>|x|</c>,
/// <c>greater</c> is an Iverson bracket. A lag of a plain name prints as that name with the lag as subscript,
/// matching the dataset convention that column <c>g3</c> is <c>g</c> three steps ago.
/// </remarks>
public static partial class Latex
{
    private const int UnaryLevel = LatexPiece.Unary, ProductLevel = LatexPiece.Product, AtomLevel = LatexPiece.Atom;

    /// <summary>The LaTeX math-mode source for <paramref name="expr"/> (no surrounding <c>$</c>).</summary>
    public static string Print(Expr expr) => Render(expr).Text;

    // Only the child calls recurse; the formatting of a node is in separate, non-inlined methods, so each level of
    // a deep tree costs a small stack frame (the deepest tree read, Expr.MaxDepth, prints on a 1 MiB stack).
    private static Piece Render(Expr e) => e switch
    {
        Expr.Const c => Number(c.Value),
        Expr.Var v => new(Name(v.Name), AtomLevel),
        Expr.Unary u => RenderUnary(u, Render(u.Arg)),
        Expr.Binary b => RenderBinary(b, Render(b.Left), Render(b.Right)),
        Expr.Ema m => RenderEma(m, Render(m.Arg)),
        Expr.Lag { Arg: Expr.Var v } l when PlainName().IsMatch(v.Name) => RenderLaggedName(v, l),
        Expr.Lag l => RenderLag(l, Render(l.Arg)),
        _ => throw new InvalidOperationException("unknown node"),
    };

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderEma(Expr.Ema m, Piece arg) =>
        new($@"{(m.BiasCorrected ? @"\widehat{\operatorname{ema}}" : @"\operatorname{ema}")}_{{{Infix.FormatNumber(m.Beta)}}}{Parens(arg.Text)}", AtomLevel);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderLaggedName(Expr.Var v, Expr.Lag l) =>
        new($"{Name(v.Name)}_{{{l.Steps.ToString(CultureInfo.InvariantCulture)}}}", AtomLevel);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderLag(Expr.Lag l, Piece arg) =>
        new($@"\operatorname{{lag}}_{{{l.Steps.ToString(CultureInfo.InvariantCulture)}}}{Parens(arg.Text)}", AtomLevel);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderUnary(Expr.Unary u, Piece arg) => u.Op.Latex(u, [arg]);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderBinary(Expr.Binary b, Piece l, Piece r) => b.Op.Latex(b, [l, r]);

    private static string Parens(string text) => LatexPiece.Parens(text);

    private static Piece Number(double value)
    {
        if (double.IsNaN(value)) return new(@"\mathrm{NaN}", AtomLevel);
        if (double.IsInfinity(value)) return new(value > 0 ? @"\infty" : @"-\infty", value > 0 ? AtomLevel : UnaryLevel);
        string s = Infix.FormatNumber(value);
        int e = s.IndexOf('E');
        if (e >= 0)
        {
            string mantissa = s[..e];
            int exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            string power = $"10^{{{exponent.ToString(CultureInfo.InvariantCulture)}}}";
            s = mantissa switch { "1" => power, "-1" => "-" + power, _ => $@"{mantissa} \cdot {power}" };
        }
        return new(s, s.StartsWith('-') ? UnaryLevel : e >= 0 && !s.StartsWith("10^", StringComparison.Ordinal) ? ProductLevel : AtomLevel);
    }

    /// <summary><c>g3</c>, <c>g_3</c> become <c>g_{3}</c>; <c>mt_1</c> becomes <c>\mathrm{mt}_{1}</c>, <c>mom53</c>
    /// <c>\mathrm{mom5}_{3}</c> (<see cref="LagNames.TrySubscript"/>); other names are set upright.</summary>
    private static string Name(string name) =>
        LagNames.TrySubscript(name, Compilation.RuleFeatures.Names, out var b, out var index) ? $"{Base(b)}_{{{index}}}" : Base(name);

    private static string Base(string name) => name.Length == 1 ? name : $@"\mathrm{{{name.Replace("_", @"\_")}}}";

    [GeneratedRegex(@"^[A-Za-z]+$")]
    private static partial Regex PlainName();
}
