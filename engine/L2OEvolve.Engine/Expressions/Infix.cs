using System.Globalization;
using System.Text;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// The house text form of rules: <c>-0.01 * ema(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)</c>.
/// <see cref="Parse"/> reads back exactly what <see cref="Print"/> writes (same tree, bit-identical constants).
/// </summary>
/// <remarks>
/// Grammar (precedence low to high, binary operators left-associative):
/// <code>
/// sum     := product (('+' | '-') product)*
/// product := unary (('*' | '/') unary)*
/// unary   := '-' NUMBER          -- a negative constant
///          | '-' unary           -- neg(...)
///          | primary
/// primary := NUMBER | 'inf' | 'nan' | NAME | NAME '(' args ')' | '(' sum ')'
/// </code>
/// Function names are the operator symbols and PySR names of <see cref="Ops"/> (<c>tanh</c>, <c>pow</c>, <c>mult</c>,
/// <c>sqrtm</c>, ...), plus <c>ema(BETA, e)</c>, <c>ema_bc(BETA, e)</c> (bias-corrected) and <c>lag(K, e)</c> whose first
/// argument is a literal. Constants print with the shortest round-trip format ("R"); a negated constant prints as
/// <c>-(2)</c> so that it stays distinct from the constant <c>-2</c>. <c>inf</c> and <c>nan</c> are reserved names.
/// </remarks>
public static class Infix
{
    private const int SumLevel = 1, ProductLevel = 2, UnaryLevel = 3, PowerLevel = 4, AtomLevel = 5;

    /// <summary>Writes <paramref name="expr"/> with the fewest parentheses that parse back to the same tree.</summary>
    public static string Print(Expr expr)
    {
        var sb = new StringBuilder();
        Write(sb, expr);
        return sb.ToString();
    }

    /// <summary>Formats a constant the way the printer does (shortest round-trip; <c>inf</c>, <c>-inf</c>, <c>nan</c>).</summary>
    public static string FormatNumber(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Parses infix text; throws <see cref="InputException"/> naming the column and what was expected.</summary>
    public static Expr Parse(string text) => new Parser(text, lenient: false).ParseAll();

    /// <summary>Parses infix text, also accepting PySR/Julia spellings: <c>^</c> for pow and <c>f</c> exponents (<c>1.5f-3</c>).</summary>
    internal static Expr ParseLenient(string text) => new Parser(text, lenient: true).ParseAll();

    /// <summary>
    /// Why <paramref name="name"/> cannot be a variable of an equation, or null when it can: a variable is written
    /// as a bare name (letters, digits, _; not starting with a digit) that is not a constant (<c>inf</c>, <c>nan</c>)
    /// and not a function of the catalogue (<c>sin</c>, <c>ema</c>, <c>lag</c>), so that printed equations read back.
    /// </summary>
    public static string? NameFault(string name)
    {
        if (name.Length == 0) return "an empty name";
        if (!IsNameStart(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            return $"'{name}' is not a name an equation can use (letters, digits and _, not starting with a digit)";
        if (name.Equals("inf", StringComparison.OrdinalIgnoreCase) || name.Equals("nan", StringComparison.OrdinalIgnoreCase))
            return $"'{name}' is reserved for a constant";
        if (name is "ema" or "ema_bc" or "lag" || Ops.TryParse(name, out _))
            return $"'{name}' is the name of a function";
        return null;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static int Level(Expr e) => e switch
    {
        Expr.Binary { Op.IsInfix: true } b => b.Op.Precedence == 1 ? SumLevel : ProductLevel,
        Expr.Unary u when u.Op == Op.Neg => UnaryLevel,
        Expr.Const c when c.Value < 0 || double.IsNegative(c.Value) && !double.IsNaN(c.Value) => UnaryLevel,
        _ => AtomLevel,
    };

    private static void Write(StringBuilder sb, Expr e)
    {
        switch (e)
        {
            case Expr.Const c:
                sb.Append(FormatNumber(c.Value));
                break;
            case Expr.Var v:
                sb.Append(v.Name);
                break;
            case Expr.Unary u when u.Op == Op.Neg:
                sb.Append('-');
                WrapIf(sb, u.Arg, u.Arg is Expr.Const || Level(u.Arg) < UnaryLevel);
                break;
            case Expr.Unary u:
                sb.Append(u.Op.Symbol).Append('(');
                Write(sb, u.Arg);
                sb.Append(')');
                break;
            case Expr.Binary b when b.Op.IsInfix:
                int level = Level(b);
                WrapIf(sb, b.Left, Level(b.Left) < level);
                sb.Append(' ').Append(b.Op.Symbol).Append(' ');
                WrapIf(sb, b.Right, Level(b.Right) <= level);
                break;
            case Expr.Binary b:
                sb.Append(b.Op.Symbol).Append('(');
                Write(sb, b.Left);
                sb.Append(", ");
                Write(sb, b.Right);
                sb.Append(')');
                break;
            case Expr.Ema m:
                sb.Append(m.BiasCorrected ? "ema_bc(" : "ema(").Append(FormatNumber(m.Beta)).Append(", ");
                Write(sb, m.Arg);
                sb.Append(')');
                break;
            case Expr.Lag l:
                sb.Append("lag(").Append(l.Steps.ToString(CultureInfo.InvariantCulture)).Append(", ");
                Write(sb, l.Arg);
                sb.Append(')');
                break;
            default:
                throw new InvalidOperationException("unknown node");
        }
    }

    private static void WrapIf(StringBuilder sb, Expr e, bool wrap)
    {
        if (wrap) sb.Append('(');
        Write(sb, e);
        if (wrap) sb.Append(')');
    }

    private sealed class Parser(string text, bool lenient)
    {
        private const int MaxNesting = 2000; // deeper input would overflow the stack of this recursive parser
        private int _pos;
        private int _depth;

        public Expr ParseAll()
        {
            var e = ParseSum();
            SkipSpace();
            if (_pos < text.Length) throw Error("an operator or the end of the equation");
            // Chains nest without recursion here (a + b + c is ((a + b) + c)), but every later walk recurses.
            if (e.DeeperThan(Expr.MaxDepth))
                throw new InputException($"the equation's tree is more than {Expr.MaxDepth} levels deep (each term of a chain such as a + b + ... adds a level) in \"{Abbreviated}\"", location: "column 1");
            return e;
        }

        private Expr ParseSum()
        {
            var left = ParseProduct();
            while (true)
            {
                SkipSpace();
                if (Peek() is '+' or '-')
                {
                    var op = text[_pos++] == '+' ? Op.Add : Op.Sub;
                    left = new Expr.Binary(op, left, ParseProduct());
                }
                else return left;
            }
        }

        private Expr ParseProduct()
        {
            var left = ParseUnary();
            while (true)
            {
                SkipSpace();
                if (Peek() is '*' or '/')
                {
                    var op = text[_pos++] == '*' ? Op.Mul : Op.Div;
                    left = new Expr.Binary(op, left, ParseUnary());
                }
                else return left;
            }
        }

        private Expr ParseUnary()
        {
            if (++_depth > MaxNesting) throw Error($"at most {MaxNesting} nested operators; the equation nests too deeply");
            try
            {
                return ParseUnaryCore();
            }
            finally
            {
                _depth--;
            }
        }

        private Expr ParseUnaryCore()
        {
            SkipSpace();
            if (Peek() == '-')
            {
                _pos++;
                SkipSpace();
                // A printed tree's negative constant keeps its meaning under ^ too: PySR's "-2.0 ^ x" is pow(-2.0, x).
                if (IsNumberStart()) return PowerTail(new Expr.Const(-ParseNumber()));
                if (TryKeyword("inf") || TryKeyword("Inf")) return new Expr.Const(double.NegativeInfinity);
                return new Expr.Unary(Op.Neg, ParseUnary());
            }
            if (Peek() == '+' && lenient)
            {
                _pos++;
                return ParseUnary();
            }
            return ParsePower();
        }

        private Expr ParsePower() => PowerTail(ParsePrimary());

        private Expr PowerTail(Expr base_)
        {
            SkipSpace();
            if (lenient && Peek() == '^')
            {
                _pos++;
                return new Expr.Binary(Op.Pow, base_, ParseUnary()); // right-associative, as in Julia
            }
            return base_;
        }

        private Expr ParsePrimary()
        {
            SkipSpace();
            if (IsNumberStart()) return new Expr.Const(ParseNumber());
            char c = Peek();
            if (c == '(')
            {
                _pos++;
                var inner = ParseSum();
                Expect(')');
                return inner;
            }
            if (IsNameStart(c))
            {
                int start = _pos;
                string name = ParseName();
                SkipSpace();
                if (Peek() == '(') return ParseCall(name, start);
                return name switch
                {
                    "inf" or "Inf" => new Expr.Const(double.PositiveInfinity),
                    "nan" or "NaN" => new Expr.Const(double.NaN),
                    _ => new Expr.Var(name),
                };
            }
            throw Error("an operand (a number, a name or '(')");
        }

        private Expr ParseCall(string name, int nameStart)
        {
            _pos++; // '('
            switch (name)
            {
                case "ema" or "ema_bc":
                {
                    SkipSpace();
                    int at = _pos;
                    double beta = ParseSignedLiteral("the ema's beta (a number in (0, 1))");
                    if (!(beta > 0 && beta < 1)) throw Error($"ema beta must lie in (0, 1), got {FormatNumber(beta)}", at);
                    Expect(',');
                    var arg = ParseSum();
                    Expect(')');
                    return new Expr.Ema(beta, name == "ema_bc", arg);
                }
                case "lag":
                {
                    SkipSpace();
                    int at = _pos;
                    double k = ParseSignedLiteral("the lag's step count (an integer >= 1)");
                    if (k < 1 || k != Math.Floor(k) || k > int.MaxValue)
                        throw Error($"lag steps must be an integer >= 1, got {FormatNumber(k)}", at);
                    Expect(',');
                    var arg = ParseSum();
                    Expect(')');
                    return new Expr.Lag((int)k, arg);
                }
            }
            if (!Ops.TryParse(name, out var op))
                throw Error($"unknown function '{name}'; expected an operator name ({KnownFunctions()}), ema, ema_bc or lag", nameStart);
            var first = ParseSum();
            SkipSpace();
            if (op.Arity == 1)
            {
                if (_pos < text.Length && text[_pos] == ',') throw Error($"'{name}' takes 1 argument, got more", _pos);
                Expect(')');
                return new Expr.Unary(op, first);
            }
            if (_pos < text.Length && text[_pos] == ')') throw Error($"'{name}' takes 2 arguments, got 1", _pos);
            Expect(',');
            var second = ParseSum();
            Expect(')');
            return new Expr.Binary(op, first, second);
        }

        private static string KnownFunctions() =>
            string.Join(", ", Ops.All.Select(i => IsNameStart(i.Symbol[0]) ? i.Symbol : i.PySrName));

        private double ParseSignedLiteral(string what)
        {
            bool negative = false;
            if (Peek() == '-') { negative = true; _pos++; SkipSpace(); }
            if (!IsNumberStart()) throw Error(what);
            double v = ParseNumber();
            return negative ? -v : v;
        }

        /// <summary>Consumes <paramref name="word"/> when it stands alone (not a prefix of a longer name or a call).</summary>
        private bool TryKeyword(string word)
        {
            int end = _pos + word.Length;
            if (end > text.Length || string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            if (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_')) return false;
            int next = end;
            while (next < text.Length && char.IsWhiteSpace(text[next])) next++;
            if (next < text.Length && text[next] == '(') return false;
            _pos = end;
            return true;
        }

        private bool IsNumberStart()
        {
            char c = Peek();
            return char.IsAsciiDigit(c) || c == '.' && _pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1]);
        }

        private double ParseNumber()
        {
            int start = _pos;
            while (char.IsAsciiDigit(Peek())) _pos++;
            if (Peek() == '.')
            {
                _pos++;
                while (char.IsAsciiDigit(Peek())) _pos++;
            }
            char e = Peek();
            if (e is 'e' or 'E' || lenient && e == 'f')
            {
                _pos++;
                if (Peek() is '+' or '-') _pos++;
                if (!char.IsAsciiDigit(Peek())) throw Error("digits of the exponent");
                while (char.IsAsciiDigit(Peek())) _pos++;
            }
            var literal = text.AsSpan(start, _pos - start).ToString().Replace('f', 'e');
            if (!double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw Error($"a number, not '{literal}'", start);
            return v;
        }

        private string ParseName()
        {
            int start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            return text[start.._pos];
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c) throw Error($"'{c}'");
            _pos++;
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private InputException Error(string expected, int? at = null)
        {
            int p = at ?? _pos;
            string found = p < text.Length ? $"'{text[p]}'" : "the end of the equation";
            string fault = expected.StartsWith("unknown", StringComparison.Ordinal) || expected.Contains("must") || expected.Contains(" takes ") || expected.StartsWith("at most", StringComparison.Ordinal)
                ? expected
                : $"expected {expected} but found {found}";
            return new InputException($"{fault} in \"{Abbreviated}\"", location: $"column {p + 1}");
        }

        // An error line quotes the equation, but not all of a 100 kB one.
        private string Abbreviated => text.Length <= 200 ? text : text[..200] + $"... ({text.Length} characters)";
    }
}
