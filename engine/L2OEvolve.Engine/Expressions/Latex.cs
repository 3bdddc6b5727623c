using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace L2OEvolve.Engine.Expressions;

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
    private const int SumLevel = 1, ProductLevel = 2, UnaryLevel = 3, PowerLevel = 4, AtomLevel = 5;

    /// <summary>The LaTeX math-mode source for <paramref name="expr"/> (no surrounding <c>$</c>).</summary>
    public static string Print(Expr expr) => Render(expr).Text;

    private readonly record struct Piece(string Text, int Level);

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
    private static Piece RenderUnary(Expr.Unary u, Piece arg)
    {
        return u.Op switch
        {
            Op.Neg => new("-" + Wrap(arg, arg.Level < PowerLevel), UnaryLevel),
            Op.Abs => new($@"\left|{arg.Text}\right|", AtomLevel),
            Op.Sqrt => new(u.Arg is Expr.Unary { Op: Op.Abs or Op.Square or Op.Exp or Op.Sqrt }
                ? $@"\sqrt{{{arg.Text}}}" : $@"\sqrt{{\left|{arg.Text}\right|}}", AtomLevel),
            Op.Log => new($@"\log\left|{arg.Text}\right|", AtomLevel),
            Op.Exp => new($"e^{{{arg.Text}}}", PowerLevel),
            Op.Square => new($"{Wrap(arg, arg.Level < AtomLevel || IsFraction(u.Arg))}^{{2}}", PowerLevel),
            Op.Cube => new($"{Wrap(arg, arg.Level < AtomLevel || IsFraction(u.Arg))}^{{3}}", PowerLevel),
            Op.Tanh or Op.Sinh or Op.Sin or Op.Cos => new($@"\{u.Op.Info().Symbol}{Parens(arg.Text)}", AtomLevel),
            _ => new($@"\operatorname{{{u.Op.Info().Symbol}}}{Parens(arg.Text)}", AtomLevel),
        };
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Piece RenderBinary(Expr.Binary b, Piece l, Piece r)
    {
        return b.Op switch
        {
            Op.Add => new($"{Wrap(l, l.Level < SumLevel)} + {Wrap(r, r.Level <= UnaryLevel && r.Text.StartsWith('-'))}", SumLevel),
            Op.Sub => new($"{Wrap(l, l.Level < SumLevel)} - {Wrap(r, r.Level <= SumLevel || r.Text.StartsWith('-'))}", SumLevel),
            Op.Mul => new($@"{Wrap(l, l.Level < ProductLevel)} \cdot {Wrap(r, r.Level <= UnaryLevel)}", ProductLevel),
            Op.Div => new($@"\frac{{{l.Text}}}{{{r.Text}}}", AtomLevel),
            Op.Pow => new($"{Wrap(l, l.Level < AtomLevel || IsFraction(b.Left))}^{{{r.Text}}}", PowerLevel),
            Op.Greater => new($@"\left[{l.Text} > {r.Text}\right]", AtomLevel),
            Op.Min or Op.Max => new($@"\{b.Op.Info().Symbol}\left({l.Text}, {r.Text}\right)", AtomLevel),
            _ => new($@"\operatorname{{{b.Op.Info().Symbol}}}\left({l.Text}, {r.Text}\right)", AtomLevel),
        };
    }

    private static bool IsFraction(Expr e) => e is Expr.Binary { Op: Op.Div };

    private static string Parens(string text) => $@"\left({text}\right)";

    private static string Wrap(Piece p, bool wrap) => wrap ? Parens(p.Text) : p.Text;

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

    /// <summary><c>g3</c>, <c>g_3</c> become <c>g_{3}</c>; <c>mt_1</c> becomes <c>\mathrm{mt}_{1}</c>; other names are set upright.</summary>
    private static string Name(string name)
    {
        var m = Indexed().Match(name);
        if (m.Success) return $"{Base(m.Groups[1].Value)}_{{{m.Groups[2].Value}}}";
        return Base(name);
    }

    private static string Base(string name) => name.Length == 1 ? name : $@"\mathrm{{{name.Replace("_", @"\_")}}}";

    [GeneratedRegex(@"^([A-Za-z]+)_?([0-9]+)$")]
    private static partial Regex Indexed();

    [GeneratedRegex(@"^[A-Za-z]+$")]
    private static partial Regex PlainName();
}
