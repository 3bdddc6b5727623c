using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using static L2OEvolve.Engine.Expressions.Simplify;
using Simplifier = L2OEvolve.Engine.Expressions.Simplify;

namespace L2OEvolve.Engine.Expressions;

/// <summary><c>x + y</c>.</summary>
public sealed class AddOp() : Op("+", 2, "plus", "add", 0)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => x + y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x + y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x + y;
    }

    /// <inheritdoc/>
    public override bool IsInfix => true;
    /// <inheritdoc/>
    public override int Precedence => 1;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => x + y;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => (1, 1);
    /// <inheritdoc/>
    public override void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy)
    {
        for (int r = 0; r < v.Length; r++) { v[r] = x[r] + y[r]; dx[r] = 1; dy[r] = 1; }
    }
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Add(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($"{a[0].Wrap(a[0].Level < LatexPiece.Sum)} + {a[1].Wrap(a[1].Level <= LatexPiece.Unary && a[1].Text.StartsWith('-'))}", LatexPiece.Sum);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b)
    {
        var (l, r) = (b.Left, b.Right);
        if (IsConst(l, 0)) return r;
        if (IsConst(r, 0)) return l;
        if (l is Expr.Const) return new Expr.Binary(Add, r, l);
        if (r is Expr.Unary rn && rn.Op == Neg) return new Expr.Binary(Sub, l, rn.Arg);
        if (l is Expr.Unary ln && ln.Op == Neg) return new Expr.Binary(Sub, r, ln.Arg);
        if (r is Expr.Const addend && AsSum(l) is var (rest, k) && MergeSum(rest, k + addend.Value) is { } sum) return sum;
        if (r is Expr.Const { Value: < 0 } negative) return new Expr.Binary(Sub, l, new Expr.Const(-negative.Value));
        return b;
    }
}

/// <summary><c>x - y</c>.</summary>
public sealed class SubOp() : Op("-", 2, "sub", null, 1)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => x - y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x - y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x - y;
    }

    /// <inheritdoc/>
    public override bool IsInfix => true;
    /// <inheritdoc/>
    public override int Precedence => 1;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => x - y;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => (1, -1);
    /// <inheritdoc/>
    public override void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy)
    {
        for (int r = 0; r < v.Length; r++) { v[r] = x[r] - y[r]; dx[r] = 1; dy[r] = -1; }
    }
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Sub(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($"{a[0].Wrap(a[0].Level < LatexPiece.Sum)} - {a[1].Wrap(a[1].Level <= LatexPiece.Sum || a[1].Text.StartsWith('-'))}", LatexPiece.Sum);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b)
    {
        var (l, r) = (b.Left, b.Right);
        if (IsConst(r, 0)) return l;
        if (IsConst(l, 0)) return new Expr.Unary(Neg, r);
        if (r is Expr.Unary sn && sn.Op == Neg) return new Expr.Binary(Add, l, sn.Arg);
        if (l is Expr.Unary ln2 && ln2.Op == Neg && r is Expr.Unary rn2 && rn2.Op == Neg) return new Expr.Binary(Sub, rn2.Arg, ln2.Arg);
        if (l.Equals(r) && Simplifier.AlwaysFinite(l)) return new Expr.Const(0);
        if (r is Expr.Const subtrahend && AsSum(l) is var (rest2, k2) && MergeSum(rest2, k2 - subtrahend.Value) is { } diff) return diff;
        if (l is Expr.Const minuend && AsSum(r) is var (rest3, k3) && double.IsFinite(minuend.Value - k3))
            return new Expr.Binary(Sub, new Expr.Const(minuend.Value - k3), rest3);
        if (r is Expr.Const { Value: < 0 } negated) return new Expr.Binary(Add, l, new Expr.Const(-negated.Value));
        return b;
    }
}

/// <summary><c>x * y</c>.</summary>
public sealed class MulOp() : Op("*", 2, "mult", "mul", 2)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => x * y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) => x * y;
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) => x * y;
    }

    /// <inheritdoc/>
    public override bool IsInfix => true;
    /// <inheritdoc/>
    public override int Precedence => 2;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => x * y;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => (y, x);
    /// <inheritdoc/>
    public override void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy)
    {
        for (int r = 0; r < v.Length; r++) { double xr = x[r], yr = y[r]; v[r] = xr * yr; dx[r] = yr; dy[r] = xr; }
    }
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => t.Mul(x, y);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) =>
        new($@"{a[0].Wrap(a[0].Level < LatexPiece.Product)} \cdot {a[1].Wrap(a[1].Level <= LatexPiece.Unary)}", LatexPiece.Product);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b)
    {
        var (l, r) = (b.Left, b.Right);
        if (IsConst(l, 1)) return r;
        if (IsConst(r, 1)) return l;
        if (IsConst(l, 0) && Simplifier.AlwaysFinite(r) || IsConst(r, 0) && Simplifier.AlwaysFinite(l)) return new Expr.Const(0);
        if (IsConst(l, -1)) return new Expr.Unary(Neg, r);
        if (r is Expr.Const) return new Expr.Binary(Mul, r, l);
        if (l is Expr.Unary a && a.Op == Neg && r is Expr.Unary c && c.Op == Neg) return new Expr.Binary(Mul, a.Arg, c.Arg);
        if (l is Expr.Const k4 && r is Expr.Unary negArg && negArg.Op == Neg) return new Expr.Binary(Mul, new Expr.Const(-k4.Value), negArg.Arg);
        if (l is Expr.Const factor)
        {
            if (r is Expr.Binary { Left: Expr.Const inner } m && m.Op == Mul && Scale(factor.Value * inner.Value, m.Right) is { } product)
                return product;
            if (r is Expr.Binary { Right: Expr.Const divisor } d && d.Op == Div && divisor.Value != 0
                && Scale(factor.Value / divisor.Value, d.Left) is { } quotient)
                return quotient;
        }
        return b;
    }
}

/// <summary>Protected division: <c>x / y</c>, and 1 where y = 0 (so x/x = 1 everywhere).</summary>
public sealed class DivOp() : Op("/", 2, "div", null, 3)
{
    internal readonly struct Lanes : IBinaryLanes
    {
        public static float S(float x, float y) => y == 0f ? 1f : x / y;
        public static Vector256<float> V(Vector256<float> x, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.Equals(y, Vector256<float>.Zero), Vector256<float>.One, x / y);
        public static Vector512<float> W(Vector512<float> x, Vector512<float> y) =>
            Vector512.ConditionalSelect(Vector512.Equals(y, Vector512<float>.Zero), Vector512<float>.One, x / y);
    }

    /// <inheritdoc/>
    public override bool IsInfix => true;
    /// <inheritdoc/>
    public override int Precedence => 2;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => y == 0.0 ? 1.0 : x / y;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value) => y == 0 ? (0, 0) : (1 / y, -value / y);
    /// <inheritdoc/>
    public override void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy)
    {
        for (int r = 0; r < v.Length; r++)
        {
            double xr = x[r], yr = y[r];
            if (yr == 0) { v[r] = 1; dx[r] = 0; dy[r] = 0; }
            else { double q = xr / yr; v[r] = q; dx[r] = 1 / yr; dy[r] = -q / yr; }
        }
    }
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => SpanKernels.Binary<Lanes>(x, y, d);
    /// <inheritdoc/>
    /// <remarks>The divisor is replaced before dividing, so no NaN gradient flows from the discarded branch.</remarks>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) =>
        t.Where(t.IsZero(y), t.OnesLike(x), t.Div(x, t.Where(t.IsZero(y), t.OnesLike(y), y)));
    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> a) => $"({a[0]} / {a[1]})";
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new($@"\frac{{{a[0].Text}}}{{{a[1].Text}}}", LatexPiece.Atom);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Binary b)
    {
        var (l, r) = (b.Left, b.Right);
        if (IsConst(r, 0)) return new Expr.Const(1); // protected division
        if (IsConst(r, 1)) return l;
        if (IsConst(r, -1)) return new Expr.Unary(Neg, l);
        if (l.Equals(r) && Simplifier.AlwaysFinite(l)) return new Expr.Const(1); // x/x = 1 also at 0 (protected)
        if (l is Expr.Unary dn && dn.Op == Neg && r is Expr.Unary dd && dd.Op == Neg) return new Expr.Binary(Div, dn.Arg, dd.Arg);
        if (r is Expr.Const den && den.Value != 0)
        {
            if (l is Expr.Binary { Left: Expr.Const num } m2 && m2.Op == Mul && Scale(num.Value / den.Value, m2.Right) is { } scaled)
                return scaled;
            if (l is Expr.Binary { Right: Expr.Const den2 } d2 && d2.Op == Div && den2.Value != 0)
            {
                double joint = den.Value * den2.Value;
                if (double.IsFinite(joint) && joint != 0) return new Expr.Binary(Div, d2.Left, new Expr.Const(joint));
            }
        }
        return b;
    }
}

/// <summary><c>-x</c>.</summary>
public sealed class NegOp() : Op("neg", 1, null, null, 8)
{
    internal readonly struct Lanes : IUnaryLanes
    {
        public static float S(float x) => -x;
        public static Vector256<float> V(Vector256<float> x) => -x;
        public static Vector512<float> W(Vector512<float> x) => -x;
    }

    /// <inheritdoc/>
    public override double Apply(double x) => -x;
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => -1;
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => SpanKernels.Unary<Lanes>(x, d);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Neg(x);
    /// <inheritdoc/>
    public override LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> a) => new("-" + a[0].Wrap(a[0].Level < LatexPiece.Power), LatexPiece.Unary);

    /// <inheritdoc/>
    public override Expr Simplify(Expr.Unary u) => u.Arg switch
    {
        Expr.Unary n when n.Op == Neg => n.Arg,
        Expr.Binary s when s.Op == Sub => new Expr.Binary(Sub, s.Right, s.Left),
        Expr.Binary { Left: Expr.Const k } m when m.Op == Mul => new Expr.Binary(Mul, new Expr.Const(-k.Value), m.Right),
        _ => u,
    };
}
