namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// Algebraic simplification that keeps a rule's value: constant folding, identities (<c>x + 0</c>, <c>x * 1</c>,
/// <c>x / 0 = 1</c>, <c>neg(neg x)</c>, ...) and merging of constants along <c>+</c>/<c>-</c> and <c>*</c>/<c>/</c> chains.
/// </summary>
/// <remarks>
/// <para>Every rule holds under the reference semantics of <see cref="Ops"/> for all finite inputs: identities that
/// fail for an infinite or NaN intermediate (<c>x * 0 = 0</c>, <c>x - x = 0</c>, <c>x / x = 1</c>) fire only when
/// <c>x</c> is provably finite (<see cref="AlwaysFinite"/>), and a fold that would produce a non-finite constant is
/// not done. Merging constants (<c>(x + 1) + 2</c> to <c>x + 3</c>) changes only floating-point rounding.</para>
/// <para>Algorithm: repeat one bottom-up pass (<see cref="Expr.Map"/>, which keeps unchanged subtrees by identity)
/// until a pass returns the very same tree. Each rule strictly shrinks the tree or moves it to a canonical form
/// (constants right of <c>+</c>, left of <c>*</c>), so the loop ends; a pass cap guards against any oversight.</para>
/// </remarks>
public static class Simplify
{
    private const int MaxPasses = 100;

    /// <summary>The simplified tree; the same instance when nothing simplifies.</summary>
    public static Expr Apply(Expr expr)
    {
        for (int pass = 0; pass < MaxPasses; pass++)
        {
            var next = expr.Map(Rewrite);
            if (ReferenceEquals(next, expr)) return expr;
            expr = next;
        }
        return expr;
    }

    /// <summary>True when <paramref name="e"/> is finite for every finite input: no operator in it can overflow or
    /// produce NaN from finite arguments (so <c>+ - * / pow exp sinh square cube</c> disqualify it).</summary>
    public static bool AlwaysFinite(Expr e) => e switch
    {
        Expr.Const c => double.IsFinite(c.Value),
        Expr.Var => true,
        Expr.Unary { Op: Op.Exp or Op.Sinh or Op.Square or Op.Cube } => false,
        Expr.Unary u => AlwaysFinite(u.Arg),
        Expr.Binary { Op: Op.Greater } => true,
        Expr.Binary { Op: Op.Min or Op.Max } b => AlwaysFinite(b.Left) && AlwaysFinite(b.Right),
        Expr.Binary => false,
        Expr.Ema m => AlwaysFinite(m.Arg),
        Expr.Lag l => AlwaysFinite(l.Arg),
        _ => false,
    };

    private static Expr Rewrite(Expr node) => node switch
    {
        Expr.Unary u => RewriteUnary(u),
        Expr.Binary b => RewriteBinary(b),
        Expr.Lag { Arg: Expr.Lag inner } outer when (long)outer.Steps + inner.Steps <= int.MaxValue
            => new Expr.Lag(outer.Steps + inner.Steps, inner.Arg),
        _ => node,
    };

    private static Expr RewriteUnary(Expr.Unary u)
    {
        if (u.Arg is Expr.Const c) return Fold(u, Ops.Apply(u.Op, c.Value));
        return (u.Op, u.Arg) switch
        {
            (Op.Neg, Expr.Unary { Op: Op.Neg } n) => n.Arg,
            (Op.Neg, Expr.Binary { Op: Op.Sub } s) => new Expr.Binary(Op.Sub, s.Right, s.Left),
            (Op.Neg, Expr.Binary { Op: Op.Mul, Left: Expr.Const k } m) => new Expr.Binary(Op.Mul, new Expr.Const(-k.Value), m.Right),
            (Op.Abs or Op.Sqrt or Op.Log or Op.Square, Expr.Unary { Op: Op.Abs or Op.Neg } inner) => u with { Arg = inner.Arg },
            (Op.Abs, Expr.Unary { Op: Op.Square or Op.Sqrt or Op.Exp } nonNegative) => nonNegative,
            (Op.Abs or Op.Sign or Op.Relu, Expr.Unary inner) when inner.Op == u.Op => inner,
            _ => u,
        };
    }

    private static Expr RewriteBinary(Expr.Binary b)
    {
        var (l, r) = (b.Left, b.Right);
        if (l is Expr.Const lc && r is Expr.Const rc) return Fold(b, Ops.Apply(b.Op, lc.Value, rc.Value));
        switch (b.Op)
        {
            case Op.Add:
                if (IsConst(l, 0)) return r;
                if (IsConst(r, 0)) return l;
                if (l is Expr.Const) return new Expr.Binary(Op.Add, r, l);
                if (r is Expr.Unary { Op: Op.Neg } rn) return new Expr.Binary(Op.Sub, l, rn.Arg);
                if (l is Expr.Unary { Op: Op.Neg } ln) return new Expr.Binary(Op.Sub, r, ln.Arg);
                if (r is Expr.Const addend && AsSum(l) is var (rest, k) && MergeSum(rest, k + addend.Value) is { } sum) return sum;
                if (r is Expr.Const { Value: < 0 } negative) return new Expr.Binary(Op.Sub, l, new Expr.Const(-negative.Value));
                return b;
            case Op.Sub:
                if (IsConst(r, 0)) return l;
                if (IsConst(l, 0)) return new Expr.Unary(Op.Neg, r);
                if (r is Expr.Unary { Op: Op.Neg } sn) return new Expr.Binary(Op.Add, l, sn.Arg);
                if (l is Expr.Unary { Op: Op.Neg } ln2 && r is Expr.Unary { Op: Op.Neg } rn2) return new Expr.Binary(Op.Sub, rn2.Arg, ln2.Arg);
                if (l.Equals(r) && AlwaysFinite(l)) return new Expr.Const(0);
                if (r is Expr.Const subtrahend && AsSum(l) is var (rest2, k2) && MergeSum(rest2, k2 - subtrahend.Value) is { } diff) return diff;
                if (l is Expr.Const minuend && AsSum(r) is var (rest3, k3) && double.IsFinite(minuend.Value - k3))
                    return new Expr.Binary(Op.Sub, new Expr.Const(minuend.Value - k3), rest3);
                if (r is Expr.Const { Value: < 0 } negated) return new Expr.Binary(Op.Add, l, new Expr.Const(-negated.Value));
                return b;
            case Op.Mul:
                if (IsConst(l, 1)) return r;
                if (IsConst(r, 1)) return l;
                if (IsConst(l, 0) && AlwaysFinite(r) || IsConst(r, 0) && AlwaysFinite(l)) return new Expr.Const(0);
                if (IsConst(l, -1)) return new Expr.Unary(Op.Neg, r);
                if (r is Expr.Const) return new Expr.Binary(Op.Mul, r, l);
                if (l is Expr.Unary { Op: Op.Neg } a && r is Expr.Unary { Op: Op.Neg } c) return new Expr.Binary(Op.Mul, a.Arg, c.Arg);
                if (l is Expr.Const k4 && r is Expr.Unary { Op: Op.Neg } negArg) return new Expr.Binary(Op.Mul, new Expr.Const(-k4.Value), negArg.Arg);
                if (l is Expr.Const factor)
                {
                    if (r is Expr.Binary { Op: Op.Mul, Left: Expr.Const inner } m && Scale(factor.Value * inner.Value, m.Right) is { } product)
                        return product;
                    if (r is Expr.Binary { Op: Op.Div, Right: Expr.Const divisor } d && divisor.Value != 0
                        && Scale(factor.Value / divisor.Value, d.Left) is { } quotient)
                        return quotient;
                }
                return b;
            case Op.Div:
                if (IsConst(r, 0)) return new Expr.Const(1); // protected division
                if (IsConst(r, 1)) return l;
                if (IsConst(r, -1)) return new Expr.Unary(Op.Neg, l);
                if (l.Equals(r) && AlwaysFinite(l)) return new Expr.Const(1); // x/x = 1 also at 0 (protected)
                if (l is Expr.Unary { Op: Op.Neg } dn && r is Expr.Unary { Op: Op.Neg } dd) return new Expr.Binary(Op.Div, dn.Arg, dd.Arg);
                if (r is Expr.Const den && den.Value != 0)
                {
                    if (l is Expr.Binary { Op: Op.Mul, Left: Expr.Const num } m2 && Scale(num.Value / den.Value, m2.Right) is { } scaled)
                        return scaled;
                    if (l is Expr.Binary { Op: Op.Div, Right: Expr.Const den2 } d2 && den2.Value != 0)
                    {
                        double joint = den.Value * den2.Value;
                        if (double.IsFinite(joint) && joint != 0) return new Expr.Binary(Op.Div, d2.Left, new Expr.Const(joint));
                    }
                }
                return b;
            case Op.Pow:
                if (IsConst(r, 1)) return l;                          // sign(x)|x|^1 = x
                if (IsConst(r, 0)) return new Expr.Unary(Op.Sign, l); // sign(x)|x|^0 = sign(x)
                return b;
            case Op.Min or Op.Max:
                return l.Equals(r) ? l : b;
            case Op.Greater:
                return l.Equals(r) ? new Expr.Const(0) : b; // x > x is false even for NaN and ±inf
            default:
                return b;
        }
    }

    /// <summary>Reads <c>rest + k</c>, <c>rest - k</c> as (rest, ±k); anything else as (itself, NaN), which no merge accepts.</summary>
    private static (Expr Remainder, double K) AsSum(Expr e) => e switch
    {
        Expr.Binary { Op: Op.Add, Right: Expr.Const k } a => (a.Left, k.Value),
        Expr.Binary { Op: Op.Sub, Right: Expr.Const k } s => (s.Left, -k.Value),
        _ => (e, double.NaN),
    };

    /// <summary><c>rest + k</c> in canonical form, or null when <paramref name="k"/> is not finite (nothing merged).</summary>
    private static Expr? MergeSum(Expr rest, double k) =>
        !double.IsFinite(k) ? null
        : k == 0 ? rest
        : k < 0 ? new Expr.Binary(Op.Sub, rest, new Expr.Const(-k))
        : new Expr.Binary(Op.Add, rest, new Expr.Const(k));

    /// <summary><c>k * rest</c>, or null when the merged factor over- or underflowed.</summary>
    private static Expr? Scale(double k, Expr rest) =>
        double.IsFinite(k) && k != 0 ? new Expr.Binary(Op.Mul, new Expr.Const(k), rest) : null;

    private static Expr Fold(Expr node, double value) => double.IsFinite(value) ? new Expr.Const(value) : node;

    private static bool IsConst(Expr e, double value) => e is Expr.Const c && c.Value == value;
}
