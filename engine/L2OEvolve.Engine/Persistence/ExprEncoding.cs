using L2OEvolve.Engine.Expressions;
using MessagePack;

namespace L2OEvolve.Engine.Persistence;

/// <summary>
/// An expression as a prefix token list, independent of the <see cref="Expr"/> classes so that refactoring them never
/// breaks saved files. Tokens: an operator's symbol (<c>+</c>, <c>neg</c>, <c>tanh</c>), <c>$name</c> for a feature,
/// <c>#</c> for a constant, <c>ema</c>/<c>ema!</c> (bias-corrected) with its beta, <c>lag</c> with its step count;
/// the numbers, in the same order, sit in <see cref="Numbers"/> as exact doubles.
/// </summary>
[MessagePackObject]
public sealed class ExprDto
{
    /// <summary>Node tokens in prefix order.</summary>
    [Key(0)] public string[] Tokens { get; set; } = [];

    /// <summary>Constants, ema betas and lag steps, in token order.</summary>
    [Key(1)] public double[] Numbers { get; set; } = [];
}

/// <summary>Converts expressions to and from <see cref="ExprDto"/>.</summary>
public static class ExprEncoding
{
    /// <summary>The prefix encoding of <paramref name="e"/>.</summary>
    public static ExprDto Encode(Expr e)
    {
        var tokens = new List<string>();
        var numbers = new List<double>();
        Walk(e);
        return new ExprDto { Tokens = [.. tokens], Numbers = [.. numbers] };

        void Walk(Expr n)
        {
            switch (n)
            {
                case Expr.Const c: tokens.Add("#"); numbers.Add(c.Value); break;
                case Expr.Var v: tokens.Add("$" + v.Name); break;
                case Expr.Unary u: tokens.Add(u.Op.Symbol); Walk(u.Arg); break;
                case Expr.Binary b: tokens.Add(b.Op.Symbol); Walk(b.Left); Walk(b.Right); break;
                case Expr.Ema m: tokens.Add(m.BiasCorrected ? "ema!" : "ema"); numbers.Add(m.Beta); Walk(m.Arg); break;
                case Expr.Lag l: tokens.Add("lag"); numbers.Add(l.Steps); Walk(l.Arg); break;
                default: throw new ArgumentException($"unknown expression node {n.GetType().Name}");
            }
        }
    }

    /// <summary>The expression encoded by <paramref name="dto"/>; a malformed encoding gets an <see cref="FormatException"/> naming the token.</summary>
    public static Expr Decode(ExprDto dto)
    {
        int t = 0, k = 0;
        var e = Read();
        if (t != dto.Tokens.Length) throw new FormatException($"expression encoding: {dto.Tokens.Length - t} trailing tokens");
        return e;

        Expr Read(int depth = 1)
        {
            if (t >= dto.Tokens.Length) throw new FormatException("expression encoding: ran out of tokens");
            if (depth > Expr.MaxDepth) throw new FormatException($"expression encoding: deeper than {Expr.MaxDepth} levels");
            string tok = dto.Tokens[t++];
            switch (tok)
            {
                case "#": return new Expr.Const(Number());
                case "ema": return new Expr.Ema(Number(), false, Read(depth + 1));
                case "ema!": return new Expr.Ema(Number(), true, Read(depth + 1));
                case "lag": return new Expr.Lag((int)Number(), Read(depth + 1));
            }
            if (tok.StartsWith('$')) return new Expr.Var(tok[1..]);
            if (Ops.TryParse(tok, out var op) && string.Equals(op.Name, tok, StringComparison.OrdinalIgnoreCase))
            {
                if (op.Arity == 1) return new Expr.Unary(op, Read(depth + 1));
                var left = Read(depth + 1);
                return new Expr.Binary(op, left, Read(depth + 1));
            }
            if (tok.Length > 0 && (char.IsAsciiLetter(tok[0]) || tok[0] == '_'))
                throw new FormatException($"expression encoding: operator '{tok}' is not loaded (load the plug-in that defines it with --plugin, or the grammar or rule file whose \"define\" names it)");
            throw new FormatException($"expression encoding: unknown token '{tok}' at position {t - 1}");
        }

        double Number() => k < dto.Numbers.Length ? dto.Numbers[k++] : throw new FormatException("expression encoding: ran out of numbers");
    }
}
