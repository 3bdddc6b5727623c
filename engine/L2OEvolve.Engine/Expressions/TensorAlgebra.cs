using System.Globalization;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// The primitives an operator's tensor mapping is built from. One implementation runs TorchSharp tensors (the
/// differentiable op chain, meta-tuning, CUDA); others print code (TorchSharp C#, PyTorch, SymPy, scalar uniforms),
/// so an operator written once against this interface executes and exports alike.
/// </summary>
/// <remarks>Binary primitives broadcast (either side may be a 0-dim tensor). <see cref="Div"/> and
/// <see cref="Pow"/> are the raw IEEE operations: the rule language's guards are written by the operators.</remarks>
public interface ITensorAlgebra<T>
{
    /// <summary>A tensor shaped like <paramref name="like"/> holding <paramref name="value"/> everywhere.</summary>
    T Constant(T like, double value);
    /// <summary>x + c.</summary>
    T AddScalar(T x, double c);
    /// <summary>x · c.</summary>
    T MulScalar(T x, double c);
    /// <summary>-x.</summary>
    T Neg(T x);
    /// <summary>|x|.</summary>
    T Abs(T x);
    /// <summary>sign(x) (NaN stays NaN).</summary>
    T Sign(T x);
    /// <summary>√x (raw).</summary>
    T Sqrt(T x);
    /// <summary>ln x (raw).</summary>
    T Log(T x);
    /// <summary>eˣ.</summary>
    T Exp(T x);
    /// <summary>tanh x.</summary>
    T Tanh(T x);
    /// <summary>sinh x.</summary>
    T Sinh(T x);
    /// <summary>asinh x.</summary>
    T Asinh(T x);
    /// <summary>erfc x.</summary>
    T Erfc(T x);
    /// <summary>sin x.</summary>
    T Sin(T x);
    /// <summary>cos x.</summary>
    T Cos(T x);
    /// <summary>max(x, 0).</summary>
    T Relu(T x);
    /// <summary>x + y.</summary>
    T Add(T x, T y);
    /// <summary>x - y.</summary>
    T Sub(T x, T y);
    /// <summary>x · y.</summary>
    T Mul(T x, T y);
    /// <summary>x / y (raw).</summary>
    T Div(T x, T y);
    /// <summary>xʸ (raw).</summary>
    T Pow(T x, T y);
    /// <summary>Element-wise minimum.</summary>
    T Minimum(T x, T y);
    /// <summary>Element-wise maximum.</summary>
    T Maximum(T x, T y);
    /// <summary>1 where x &gt; y, else 0, in x's element type.</summary>
    T Greater(T x, T y);
    /// <summary>A boolean mask: x == 0.</summary>
    T IsZero(T x);
    /// <summary>a where the mask holds, else b.</summary>
    T Where(T mask, T a, T b);
    /// <summary>Ones shaped like x.</summary>
    T OnesLike(T x);
}

/// <summary>Prints the tensor primitives as SymPy source (module <c>sp</c>); the default SymPy printer of operators.</summary>
public sealed class SymPyAlgebra : ITensorAlgebra<string>
{
    /// <summary>The one instance.</summary>
    public static readonly SymPyAlgebra Instance = new();

    /// <summary>A SymPy float literal.</summary>
    public static string Number(double v) => $"sp.Float({Num(v)})";

    private static string Num(double v) =>
        double.IsNaN(v) ? "float(\"nan\")" : double.IsPositiveInfinity(v) ? "float(\"inf\")" : double.IsNegativeInfinity(v) ? "-float(\"inf\")"
        : Finite(v.ToString("R", CultureInfo.InvariantCulture), v < 0);

    private static string Finite(string s, bool negative)
    {
        if (!s.Contains('.') && !s.Contains('E')) s += ".0";
        return negative ? $"({s})" : s;
    }

    /// <inheritdoc/>
    public string Constant(string like, double value) => Number(value);
    /// <inheritdoc/>
    public string AddScalar(string x, double c) => $"({x} + {Number(c)})";
    /// <inheritdoc/>
    public string MulScalar(string x, double c) => $"({Number(c)} * {x})";
    /// <inheritdoc/>
    public string Neg(string x) => $"(-{x})";
    /// <inheritdoc/>
    public string Abs(string x) => $"sp.Abs({x})";
    /// <inheritdoc/>
    public string Sign(string x) => $"sp.sign({x})";
    /// <inheritdoc/>
    public string Sqrt(string x) => $"sp.sqrt({x})";
    /// <inheritdoc/>
    public string Log(string x) => $"sp.log({x})";
    /// <inheritdoc/>
    public string Exp(string x) => $"sp.exp({x})";
    /// <inheritdoc/>
    public string Tanh(string x) => $"sp.tanh({x})";
    /// <inheritdoc/>
    public string Sinh(string x) => $"sp.sinh({x})";
    /// <inheritdoc/>
    public string Asinh(string x) => $"sp.asinh({x})";
    /// <inheritdoc/>
    public string Erfc(string x) => $"sp.erfc({x})";
    /// <inheritdoc/>
    public string Sin(string x) => $"sp.sin({x})";
    /// <inheritdoc/>
    public string Cos(string x) => $"sp.cos({x})";
    /// <inheritdoc/>
    public string Relu(string x) => $"sp.Max(0, {x})";
    /// <inheritdoc/>
    public string Add(string x, string y) => $"({x} + {y})";
    /// <inheritdoc/>
    public string Sub(string x, string y) => $"({x} - {y})";
    /// <inheritdoc/>
    public string Mul(string x, string y) => $"({x} * {y})";
    /// <inheritdoc/>
    public string Div(string x, string y) => $"({x} / {y})";
    /// <inheritdoc/>
    public string Pow(string x, string y) => $"({x})**({y})";
    /// <inheritdoc/>
    public string Minimum(string x, string y) => $"sp.Min({x}, {y})";
    /// <inheritdoc/>
    public string Maximum(string x, string y) => $"sp.Max({x}, {y})";
    /// <inheritdoc/>
    public string Greater(string x, string y) => $"sp.Piecewise((1, ({x}) > ({y})), (0, True))";
    /// <inheritdoc/>
    public string IsZero(string x) => $"sp.Eq({x}, 0)";
    /// <inheritdoc/>
    public string Where(string mask, string a, string b) => $"sp.Piecewise(({a}, {mask}), ({b}, True))";
    /// <inheritdoc/>
    public string OnesLike(string x) => "1";
}
