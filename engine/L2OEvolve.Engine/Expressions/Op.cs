namespace L2OEvolve.Engine.Expressions;

/// <summary>The built-in catalogue of pure operators. Stateful operators (ema, lag) are tree nodes of their own.</summary>
public enum Op : byte
{
    // Binary
    Add, Sub, Mul, Div, Pow, Greater, Min, Max,
    // Unary
    Neg, Abs, Sign, Sqrt, Log, Exp, Tanh, Sinh, Asinh, Erfc, Square, Cube, Relu, Sin, Cos,
}

/// <summary>Static facts about one operator: how it is written, its arity, default complexity and scalar meaning.</summary>
/// <param name="Symbol">Infix symbol (<c>+</c>) or function name (<c>tanh</c>) used by the infix printer and parser.</param>
/// <param name="PySrName">The name PySR uses in prefix notation (<c>plus</c>, <c>mult</c>, <c>sqrtm</c>).</param>
/// <param name="IsInfix">True for operators written between their operands.</param>
public sealed record OpInfo(Op Op, string Symbol, string PySrName, int Arity, bool IsInfix, int Precedence);

/// <summary>The operator catalogue and the reference scalar semantics every evaluator must agree with.</summary>
/// <remarks>
/// All operators are total on finite inputs except where overflow gives ±Inf (exp, sinh, pow, cube, square, mul):
/// division is protected (x/0 = 1, so x/x = 1 everywhere), sqrt and log act on |x|, and pow is the signed power
/// sign(x)|x|^y used by the paper's PySR runs. Evaluators turn any non-finite result into an infinite loss.
/// </remarks>
public static class Ops
{
    /// <summary>The epsilon inside <c>log(|x| + eps)</c>, as the paper's <c>logm</c>.</summary>
    public const double LogEpsilon = 1e-8;

    private static readonly OpInfo[] Table =
    [
        new(Op.Add, "+", "plus", 2, true, 1),
        new(Op.Sub, "-", "sub", 2, true, 1),
        new(Op.Mul, "*", "mult", 2, true, 2),
        new(Op.Div, "/", "div", 2, true, 2),
        new(Op.Pow, "pow", "pow", 2, false, 0),
        new(Op.Greater, "greater", "greater", 2, false, 0),
        new(Op.Min, "min", "min", 2, false, 0),
        new(Op.Max, "max", "max", 2, false, 0),
        new(Op.Neg, "neg", "neg", 1, false, 0),
        new(Op.Abs, "abs", "abs", 1, false, 0),
        new(Op.Sign, "sign", "sign", 1, false, 0),
        new(Op.Sqrt, "sqrt", "sqrtm", 1, false, 0),
        new(Op.Log, "log", "logm", 1, false, 0),
        new(Op.Exp, "exp", "exp", 1, false, 0),
        new(Op.Tanh, "tanh", "tanh", 1, false, 0),
        new(Op.Sinh, "sinh", "sinh", 1, false, 0),
        new(Op.Asinh, "asinh", "asinh", 1, false, 0),
        new(Op.Erfc, "erfc", "erfc", 1, false, 0),
        new(Op.Square, "square", "square", 1, false, 0),
        new(Op.Cube, "cube", "cube", 1, false, 0),
        new(Op.Relu, "relu", "relu", 1, false, 0),
        new(Op.Sin, "sin", "sin", 1, false, 0),
        new(Op.Cos, "cos", "cos", 1, false, 0),
    ];

    /// <summary>Every operator in the catalogue, in enum order.</summary>
    public static IReadOnlyList<OpInfo> All => Table;

    /// <summary>Facts about <paramref name="op"/>.</summary>
    public static OpInfo Info(this Op op) => Table[(int)op];

    /// <summary>1 or 2.</summary>
    public static int Arity(this Op op) => Table[(int)op].Arity;

    /// <summary>Looks an operator up by its infix symbol/function name or PySR name (case-insensitive).</summary>
    public static bool TryParse(string name, out Op op)
    {
        foreach (var info in Table)
        {
            if (string.Equals(info.Symbol, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(info.PySrName, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(info.Op.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                op = info.Op;
                return true;
            }
        }
        op = default;
        return false;
    }

    /// <summary>Reference semantics of a unary operator in double precision.</summary>
    public static double Apply(Op op, double x) => op switch
    {
        Op.Neg => -x,
        Op.Abs => Math.Abs(x),
        Op.Sign => double.IsNaN(x) ? double.NaN : Math.Sign(x), // Math.Sign throws on NaN
        Op.Sqrt => Math.Sqrt(Math.Abs(x)),
        Op.Log => Math.Log(Math.Abs(x) + LogEpsilon),
        Op.Exp => Math.Exp(x),
        Op.Tanh => Math.Tanh(x),
        Op.Sinh => Math.Sinh(x),
        Op.Asinh => Math.Asinh(x),
        Op.Erfc => SpecialFunctions.Erfc(x),
        Op.Square => x * x,
        Op.Cube => x * x * x,
        Op.Relu => x > 0 ? x : 0.0,
        Op.Sin => Math.Sin(x),
        Op.Cos => Math.Cos(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a unary operator"),
    };

    /// <summary>Reference semantics of a binary operator in double precision.</summary>
    public static double Apply(Op op, double x, double y) => op switch
    {
        Op.Add => x + y,
        Op.Sub => x - y,
        Op.Mul => x * y,
        Op.Div => y == 0.0 ? 1.0 : x / y,
        Op.Pow => double.IsNaN(x) ? double.NaN : Math.Sign(x) * Math.Pow(Math.Abs(x), y), // Math.Sign throws on NaN
        Op.Greater => x > y ? 1.0 : 0.0,
        Op.Min => Math.Min(x, y),
        Op.Max => Math.Max(x, y),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary operator"),
    };
}
