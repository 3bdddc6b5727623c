using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>exp(x)</c>.</summary>
public sealed class ExpOp() : Op("exp", 1, null, null, 13)
{
    /// <inheritdoc/>
    public override bool FiniteOnFinite => false;
    /// <inheritdoc/>
    public override double Apply(double x) => Math.Exp(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => value;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => TensorPrimitives.Exp(x[..d.Length], d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Exp(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($"e^{{{a[0].Text}}}", LatexPiece.Power);
}

/// <summary><c>sin(x)</c>.</summary>
public sealed class SinOp() : Op("sin", 1, null, null, 21)
{
    /// <inheritdoc/>
    public override double Apply(double x) => Math.Sin(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Math.Cos(x);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => TensorPrimitives.Sin(x[..d.Length], d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Sin(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\sin{LatexPiece.Parens(a[0].Text)}", LatexPiece.Atom);
}

/// <summary><c>cos(x)</c>.</summary>
public sealed class CosOp() : Op("cos", 1, null, null, 22)
{
    /// <inheritdoc/>
    public override double Apply(double x) => Math.Cos(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => -Math.Sin(x);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => TensorPrimitives.Cos(x[..d.Length], d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Cos(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\cos{LatexPiece.Parens(a[0].Text)}", LatexPiece.Atom);
}

/// <summary><c>asinh(x)</c>.</summary>
public sealed class AsinhOp() : Op("asinh", 1, null, null, 16)
{
    /// <inheritdoc/>
    public override double Apply(double x) => Math.Asinh(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 1 / Math.Sqrt(x * x + 1);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => TensorPrimitives.Asinh(x[..d.Length], d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Asinh(x);
}

/// <summary><c>tanh(x)</c>.</summary>
public sealed class TanhOp() : Op("tanh", 1, null, null, 14)
{
    /// <summary>
    /// tanh with full relative accuracy near 0: TensorPrimitives.Tanh (in <c>t</c>) loses it below |x| ≈ 0.5 (it
    /// cancels 1 - 2/(e^2x+1)), so small |x| takes the Taylor series to x^19 (truncation below 1e-8 relative).
    /// </summary>
    private readonly struct SmallFix : IBinaryLanes
    {
        private const float Small = 0.6f;
        private const float C3 = -0.333333333f, C5 = 0.133333333f, C7 = -0.0539682540f, C9 = 0.0218694885f,
            C11 = -0.00886323553f, C13 = 0.00359212803f, C15 = -0.00145583438f, C17 = 0.000590027440f, C19 = -0.000239129114f;

        public static float S(float x, float t)
        {
            if (!(MathF.Abs(x) < Small)) return t;
            float z = x * x;
            return x + x * z * (C3 + z * (C5 + z * (C7 + z * (C9 + z * (C11 + z * (C13 + z * (C15 + z * (C17 + z * C19))))))));
        }

        public static Vector256<float> V(Vector256<float> x, Vector256<float> t)
        {
            var z = x * x;
            var p = Vector256.Create(C19);
            p = Vector256.Create(C17) + z * p;
            p = Vector256.Create(C15) + z * p;
            p = Vector256.Create(C13) + z * p;
            p = Vector256.Create(C11) + z * p;
            p = Vector256.Create(C9) + z * p;
            p = Vector256.Create(C7) + z * p;
            p = Vector256.Create(C5) + z * p;
            p = Vector256.Create(C3) + z * p;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Small)), x + x * z * p, t);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> t)
        {
            var z = x * x;
            var p = Vector512.Create(C19);
            p = Vector512.Create(C17) + z * p;
            p = Vector512.Create(C15) + z * p;
            p = Vector512.Create(C13) + z * p;
            p = Vector512.Create(C11) + z * p;
            p = Vector512.Create(C9) + z * p;
            p = Vector512.Create(C7) + z * p;
            p = Vector512.Create(C5) + z * p;
            p = Vector512.Create(C3) + z * p;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Small)), x + x * z * p, t);
        }
    }

    private static void Fixed(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        x = x[..d.Length];
        TensorPrimitives.Tanh(x, scratch[..d.Length]);
        SpanKernels.Binary<SmallFix>(x, scratch, d);
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Tanh(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => 1 - value * value;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => Fixed(x, d, scratch);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Tanh(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\tanh{LatexPiece.Parens(a[0].Text)}", LatexPiece.Atom);
}

/// <summary><c>sinh(x)</c>.</summary>
public sealed class SinhOp() : Op("sinh", 1, null, null, 15)
{
    /// <summary>sinh with full relative accuracy near 0 (TensorPrimitives.Sinh cancels e^x - e^-x): Taylor to x^13 below |x| = 1.</summary>
    private readonly struct SmallFix : IBinaryLanes
    {
        private const float C3 = 1f / 6, C5 = 1f / 120, C7 = 1f / 5040, C9 = 1f / 362880, C11 = 1f / 39916800, C13 = 1f / 6227020800;

        public static float S(float x, float t)
        {
            if (!(MathF.Abs(x) < 1f)) return t;
            float z = x * x;
            return x + x * z * (C3 + z * (C5 + z * (C7 + z * (C9 + z * (C11 + z * C13)))));
        }

        public static Vector256<float> V(Vector256<float> x, Vector256<float> t)
        {
            var z = x * x;
            var p = Vector256.Create(C11) + z * Vector256.Create(C13);
            p = Vector256.Create(C9) + z * p;
            p = Vector256.Create(C7) + z * p;
            p = Vector256.Create(C5) + z * p;
            p = Vector256.Create(C3) + z * p;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256<float>.One), x + x * z * p, t);
        }

        public static Vector512<float> W(Vector512<float> x, Vector512<float> t)
        {
            var z = x * x;
            var p = Vector512.Create(C11) + z * Vector512.Create(C13);
            p = Vector512.Create(C9) + z * p;
            p = Vector512.Create(C7) + z * p;
            p = Vector512.Create(C5) + z * p;
            p = Vector512.Create(C3) + z * p;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512<float>.One), x + x * z * p, t);
        }
    }

    private static void Fixed(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        x = x[..d.Length];
        TensorPrimitives.Sinh(x, scratch[..d.Length]);
        SpanKernels.Binary<SmallFix>(x, scratch, d);
    }

    /// <inheritdoc/>
    public override bool FiniteOnFinite => false;
    /// <inheritdoc/>
    public override double Apply(double x) => Math.Sinh(x);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Math.Cosh(x);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => Fixed(x, d, scratch);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Sinh(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\sinh{LatexPiece.Parens(a[0].Text)}", LatexPiece.Atom);
}

/// <summary><c>log(x)</c>.</summary>
public sealed class LogOp() : Op("log", 1, "logm", null, 12)
{
    /// <summary>|x| + eps, the argument of the protected log.</summary>
    private readonly struct AbsEps : IUnaryLanes
    {
        private const float Eps = (float)Ops.LogEpsilon;
        public static float S(float x) => MathF.Abs(x) + Eps;
        public static Vector256<float> V(Vector256<float> x) => Vector256.Abs(x) + Vector256.Create(Eps);
        public static Vector512<float> W(Vector512<float> x) => Vector512.Abs(x) + Vector512.Create(Eps);
    }

    private static void Protected(ReadOnlySpan<float> x, Span<float> d)
    {
        SpanKernels.Unary<AbsEps>(x[..d.Length], d);
        TensorPrimitives.Log(d, d);
    }

    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> a) => $"sp.log(sp.Abs({a[0]}) + {SymPyAlgebra.Number(Ops.LogEpsilon)})";
    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg is Expr.Unary inner && (inner.Op == Abs || inner.Op == Neg) ? u with { Arg = inner.Arg } : u;

    /// <inheritdoc/>
    public override double Apply(double x) => Math.Log(Math.Abs(x) + Ops.LogEpsilon);
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Math.Sign(x) / (Math.Abs(x) + Ops.LogEpsilon);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => Protected(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Log(t.AddScalar(t.Abs(x), Ops.LogEpsilon));
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\log\left|{a[0].Text}\right|", LatexPiece.Atom);
}
