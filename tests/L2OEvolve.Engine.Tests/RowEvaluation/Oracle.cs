using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Tests.RowEvaluation;

/// <summary>
/// The naive recursive evaluator in double precision (<see cref="Ops.Apply(Op, double)"/>), with a first-order
/// bound on the error a float32 evaluation may make, so float results can be checked with a tolerance that follows
/// the expression's conditioning. Values where float rounding could flip a discontinuity (sign, greater, division
/// by a value that may round to zero), go beyond float range (overflow or underflow), or leave first-order validity are marked uncertain.
/// </summary>
internal static class Oracle
{
    private const double U = 1.0 / (1 << 24); // float unit roundoff

    /// <summary>Value, error bound and uncertainty of one node over a time series (one coordinate).</summary>
    public sealed record Series(double[] Value, double[] Error, bool[] Uncertain);

    /// <summary>Evaluates <paramref name="e"/> over <c>T</c> steps; <paramref name="vars"/> gives each feature's series.</summary>
    public static Series Eval(Expr e, IReadOnlyDictionary<string, double[]> vars, int T)
    {
        var s = e switch
        {
            Expr.Const c => Fill(T, c.Value, U * Math.Abs(c.Value)),
            Expr.Var v => Fill(T, 0, 0, vars[v.Name]),
            Expr.Unary u => Unary(u.Op, Eval(u.Arg, vars, T)),
            Expr.Binary b => Binary(b.Op, Eval(b.Left, vars, T), Eval(b.Right, vars, T)),
            Expr.Ema m => Ema(m, Eval(m.Arg, vars, T)),
            Expr.Lag l => Lag(l.Steps, Eval(l.Arg, vars, T)),
            _ => throw new ArgumentException(e.ToString()),
        };
        for (int t = 0; t < T; t++)
        {
            double a = Math.Abs(s.Value[t]);
            if (!double.IsFinite(a) || a > 1e30 || (a < 1e-30 && a != 0) || !double.IsFinite(s.Error[t]))
                s.Uncertain[t] = true;
        }
        return s;
    }

    private static Series Fill(int T, double v, double err, double[]? src = null)
    {
        var s = new Series(new double[T], new double[T], new bool[T]);
        for (int t = 0; t < T; t++)
        {
            s.Value[t] = src?[t] ?? v;
            s.Error[t] = err;
        }
        return s;
    }

    private static Series Unary(Op op, Series a)
    {
        int T = a.Value.Length;
        var s = new Series(new double[T], new double[T], (bool[])a.Uncertain.Clone());
        for (int t = 0; t < T; t++)
        {
            double x = a.Value[t], ex = a.Error[t], v = Ops.Apply(op, x), ax = Math.Abs(x), lo = Math.Max(ax - ex, 0);
            double av = Math.Abs(v);
            double e = op.Name switch
            {
                "neg" or "abs" or "relu" or "clip" => ex,
                "softsign" => ex + 4 * U * av,
                // 1 - erfc: erfc's float error (its exponent grows like x²) with erfc(|x|) ≤ exp(-x²).
                "erf" => 1.13 * Math.Exp(-lo * lo) * ex + 16 * U * (lo * lo + 4) * Math.Exp(-lo * lo) + 8 * U,
                "sign" => 0,
                "sqrt" => Math.Min(Math.Sqrt(ex), lo > 0 ? ex / (2 * Math.Sqrt(lo)) : double.PositiveInfinity) + 2 * U * av,
                "log" => ex / (lo + 1e-8) + 4 * U * av + 4 * U,
                "exp" => av * (Math.Exp(ex) - 1) + 8 * U * av,
                "tanh" => ex * (1 - Math.Pow(Math.Tanh(lo), 2)) + 8 * U * av,
                "sinh" => Math.Cosh(ax + ex) * ex + 8 * U * av,
                "asinh" => ex / Math.Sqrt(1 + lo * lo) + 8 * U * av,
                "erfc" => 1.13 * Math.Exp(-lo * lo) * ex + 8 * U * (lo * lo + 4) * av + 8 * U,
                "square" => 2 * ax * ex + ex * ex + 2 * U * av,
                "cube" => 3 * (ax + ex) * (ax + ex) * ex + 4 * U * av,
                "sin" or "cos" => ex + 4 * U * av + 4 * U,
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
            bool flip = op == Op.Sign && ex > 0 && ax <= ex;
            bool wild = ((op == Op.Sin || op == Op.Cos) && ax > 1e4) || ((op == Op.Exp || op == Op.Sinh) && ex > 0.01);
            s.Value[t] = v;
            s.Error[t] = e;
            s.Uncertain[t] |= flip || wild;
        }
        return s;
    }

    private static Series Binary(Op op, Series a, Series b)
    {
        int T = a.Value.Length;
        var s = new Series(new double[T], new double[T], new bool[T]);
        for (int t = 0; t < T; t++)
        {
            double x = a.Value[t], y = b.Value[t], ex = a.Error[t], ey = b.Error[t];
            double v = Ops.Apply(op, x, y), av = Math.Abs(v);
            bool unc = a.Uncertain[t] || b.Uncertain[t];
            double e;
            switch (op.Name)
            {
                case "+" or "-": e = ex + ey + 2 * U * av; break;
                case "*": e = Math.Abs(y) * ex + Math.Abs(x) * ey + ex * ey + 2 * U * av; break;
                case "/":
                    if (y == 0 && ey == 0) e = 0;
                    else if (Math.Abs(y) <= 2 * ey) { e = 0; unc = true; }
                    else e = (ex + av * ey) / (Math.Abs(y) - ey) + 2 * U * av;
                    break;
                case "pow":
                {
                    double ax = Math.Abs(x);
                    if (x == 0 && ex == 0) { e = 0; unc |= y < 0 ? true : ey > 0 && Math.Abs(y) <= ey; break; }
                    double lnx = Math.Log(ax);
                    unc |= ax <= 100 * ex || ey * Math.Abs(lnx) > 0.01;
                    double m = y - 1 < 0 ? Math.Max(ax - ex, 0) : ax + ex;
                    e = Math.Abs(y) * Math.Pow(m, y - 1) * ex + av * Math.Abs(lnx) * ey + 8 * U * av * (1 + Math.Abs(y * lnx));
                    break;
                }
                case "greater":
                    e = 0;
                    unc |= ex + ey > 0 && Math.Abs(x - y) <= ex + ey;
                    break;
                case "min" or "max": e = Math.Max(ex, ey); break;
                default: throw new ArgumentOutOfRangeException(nameof(op));
            }
            s.Value[t] = v;
            s.Error[t] = e;
            s.Uncertain[t] = unc;
        }
        return s;
    }

    private static Series Ema(Expr.Ema m, Series a)
    {
        int T = a.Value.Length;
        var s = new Series(new double[T], new double[T], new bool[T]);
        double beta = m.Beta, st = 0, es = 0;
        bool unc = false;
        for (int t = 0; t < T; t++)
        {
            st = beta * st + (1 - beta) * a.Value[t];
            // Beta itself is rounded to float, which perturbs every step's weights by about U relative.
            es = beta * es + (1 - beta) * a.Error[t] + 4 * U * (Math.Abs(st) + Math.Abs(a.Value[t]));
            unc |= a.Uncertain[t];
            double scale = m.BiasCorrected ? 1 / (1 - Math.Pow(beta, t + 1)) : 1;
            s.Value[t] = st * scale;
            s.Error[t] = es * scale + 2 * U * Math.Abs(st * scale);
            s.Uncertain[t] = unc;
        }
        return s;
    }

    private static Series Lag(int k, Series a)
    {
        int T = a.Value.Length;
        var s = new Series(new double[T], new double[T], new bool[T]);
        for (int t = k; t < T; t++)
        {
            s.Value[t] = a.Value[t - k];
            s.Error[t] = a.Error[t - k];
            s.Uncertain[t] = a.Uncertain[t - k];
        }
        return s;
    }
}
