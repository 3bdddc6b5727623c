using L2OEvolve.Engine.Evaluation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Constants;

/// <summary>
/// Forward-mode differentiation of a postfix program with respect to its constants, in double precision, one row
/// at a time: every stack entry carries its value and its gradient over the k fitted constants.
/// </summary>
/// <remarks>
/// Rows are visited in time-major order (index = step·coordinates + coordinate), so the same loop serves row data
/// (one step, coordinates = rows) and trajectories, with ema and lag state (values and gradients) per coordinate.
/// Instead of storing the Jacobian it accumulates JᵀJ, Jᵀr and Σr², which is all Levenberg–Marquardt needs.
/// </remarks>
internal sealed class ForwardMode
{
    private readonly CompiledRule _rule;
    private readonly int _k;
    private readonly int[] _param; // constant slot → fitted parameter index, or -1 when held fixed
    private readonly double[] _val, _grad, _tmpGrad, _aGrad, _bGrad, _zero;
    private readonly double[] _stateVal, _stateGrad;
    private readonly int _coordinates;

    public ForwardMode(CompiledRule rule, int[] param, int k, int coordinates)
    {
        _rule = rule;
        _param = param;
        _k = k;
        _coordinates = coordinates;
        int depth = Math.Max(rule.StackDepth, 1);
        _val = new double[depth];
        _grad = new double[depth * k];
        _tmpGrad = new double[k];
        _aGrad = new double[k];
        _bGrad = new double[k];
        _zero = new double[k];
        _stateVal = new double[rule.StateRows * coordinates];
        _stateGrad = new double[rule.StateRows * coordinates * k];
    }

    /// <summary>
    /// Σ (f(row) - target)² over all rows at constants <paramref name="theta"/>; when <paramref name="jtj"/> is
    /// non-empty also JᵀJ (k×k, row-major) and Jᵀr. Returns +inf/NaN when any value is not finite.
    /// </summary>
    public double Accumulate(ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, int steps, ReadOnlySpan<float> target,
        Span<double> jtj, Span<double> jtr)
    {
        bool derivatives = !jtj.IsEmpty;
        int k = _k, C = _coordinates;
        jtj.Clear();
        jtr.Clear();
        Array.Clear(_stateVal);
        Array.Clear(_stateGrad);
        double sse = 0;
        for (int t = 0; t < steps; t++)
        {
            for (int c = 0; c < C; c++)
            {
                int row = t * C + c;
                double v = Row(theta, columns, row, t, c, derivatives);
                double r = v - target[row];
                if (!double.IsFinite(r)) return double.PositiveInfinity;
                sse += r * r;
                if (!derivatives) continue;
                var g = _grad.AsSpan(0, k);
                for (int i = 0; i < k; i++)
                {
                    if (!double.IsFinite(g[i])) g[i] = 0; // a singular derivative (sqrt at 0) must not poison the step
                    jtr[i] += g[i] * r;
                    for (int j = 0; j <= i; j++) jtj[i * k + j] += g[i] * g[j];
                }
            }
        }
        if (derivatives)
        {
            for (int i = 0; i < k; i++)
                for (int j = 0; j < i; j++)
                    jtj[j * k + i] = jtj[i * k + j];
        }
        return sse;
    }

    /// <summary>Evaluates one row; the result's value is returned and its gradient left in stack slot 0.</summary>
    private double Row(ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, int row, int step, int coord, bool derivatives)
    {
        var code = _rule.Code;
        int k = derivatives ? _k : 0, sp = 0;
        for (int pc = 0; pc < code.Length; pc++)
        {
            var ins = code[pc];
            switch (ins.Code)
            {
                case OpCode.LoadFeature:
                    Set(sp++, columns[ins.A][row], _zero, k);
                    break;
                case OpCode.LoadConst:
                    Set(sp++, theta[ins.A], Unit(ins.A, _aGrad, k), k);
                    break;
                case OpCode.Unary:
                    UnaryAt(ins.Op, sp - 1, _val[sp - 1], G(sp - 1, k), k);
                    break;
                case OpCode.UnaryF:
                    UnaryAt(ins.Op, sp++, columns[ins.A][row], _zero.AsSpan(0, k), k);
                    break;
                case OpCode.Binary:
                    BinaryAt(ins.Op, sp - 2, _val[sp - 2], G(sp - 2, k), _val[sp - 1], G(sp - 1, k), k);
                    sp--;
                    break;
                case OpCode.BinaryRightF:
                    BinaryAt(ins.Op, sp - 1, _val[sp - 1], G(sp - 1, k), columns[ins.A][row], _zero.AsSpan(0, k), k);
                    break;
                case OpCode.BinaryRightC:
                    BinaryAt(ins.Op, sp - 1, _val[sp - 1], G(sp - 1, k), theta[ins.A], Unit(ins.A, _bGrad, k), k);
                    break;
                case OpCode.BinaryLeftF:
                    BinaryAt(ins.Op, sp - 1, columns[ins.A][row], _zero.AsSpan(0, k), _val[sp - 1], G(sp - 1, k), k);
                    break;
                case OpCode.BinaryLeftC:
                    BinaryAt(ins.Op, sp - 1, theta[ins.A], Unit(ins.A, _aGrad, k), _val[sp - 1], G(sp - 1, k), k);
                    break;
                case OpCode.BinaryFF:
                    BinaryAt(ins.Op, sp++, columns[ins.A][row], _zero.AsSpan(0, k), columns[ins.B][row], _zero.AsSpan(0, k), k);
                    break;
                case OpCode.BinaryFC:
                    BinaryAt(ins.Op, sp++, columns[ins.A][row], _zero.AsSpan(0, k), theta[ins.B], Unit(ins.B, _bGrad, k), k);
                    break;
                case OpCode.BinaryCF:
                    BinaryAt(ins.Op, sp++, theta[ins.A], Unit(ins.A, _aGrad, k), columns[ins.B][row], _zero.AsSpan(0, k), k);
                    break;
                case OpCode.Ema:
                    EmaAt(sp - 1, ins, theta, step, coord, k);
                    break;
                case OpCode.Lag:
                    LagAt(sp - 1, ins, step, coord, k);
                    break;
                default:
                    throw new InvalidOperationException($"unknown opcode {ins.Code}");
            }
        }
        return _val[0];
    }

    private Span<double> G(int slot, int k) => _grad.AsSpan(slot * _k, k);

    private ReadOnlySpan<double> Unit(int constant, double[] buffer, int k)
    {
        var u = buffer.AsSpan(0, k);
        u.Clear();
        int p = _param[constant];
        if (p >= 0 && p < k) u[p] = 1;
        return u;
    }

    private void Set(int slot, double v, ReadOnlySpan<double> g, int k)
    {
        _val[slot] = v;
        g[..k].CopyTo(G(slot, k));
    }

    private void UnaryAt(Op op, int slot, double x, ReadOnlySpan<double> gx, int k)
    {
        double v = Ops.Apply(op, x);
        double d = op switch
        {
            Op.Neg => -1,
            Op.Abs => Math.Sign(x),
            Op.Sign => 0,
            Op.Sqrt => x == 0 ? 0 : Math.Sign(x) / (2 * v),
            Op.Log => Math.Sign(x) / (Math.Abs(x) + Ops.LogEpsilon),
            Op.Exp => v,
            Op.Tanh => 1 - v * v,
            Op.Sinh => Math.Cosh(x),
            Op.Asinh => 1 / Math.Sqrt(x * x + 1),
            Op.Erfc => -2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x),
            Op.Square => 2 * x,
            Op.Cube => 3 * x * x,
            Op.Relu => x > 0 ? 1 : 0,
            Op.Sin => Math.Cos(x),
            Op.Cos => -Math.Sin(x),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a unary operator"),
        };
        if (double.IsNaN(x)) d = 0; // Math.Sign throws on NaN; the value is NaN anyway and the row is rejected
        var g = G(slot, k);
        for (int i = 0; i < k; i++) g[i] = d * gx[i];
        _val[slot] = v;
    }

    private void BinaryAt(Op op, int slot, double x, ReadOnlySpan<double> gx, double y, ReadOnlySpan<double> gy, int k)
    {
        double v = Ops.Apply(op, x, y), dx, dy;
        switch (op)
        {
            case Op.Add: dx = 1; dy = 1; break;
            case Op.Sub: dx = 1; dy = -1; break;
            case Op.Mul: dx = y; dy = x; break;
            case Op.Div:
                if (y == 0) { dx = 0; dy = 0; }
                else { dx = 1 / y; dy = -v / y; }
                break;
            case Op.Pow:
                if (x == 0 || double.IsNaN(x)) { dx = 0; dy = 0; }
                else
                {
                    double ax = Math.Abs(x);
                    dx = y * Math.Pow(ax, y - 1);
                    dy = v * Math.Log(ax);
                }
                break;
            case Op.Greater: dx = 0; dy = 0; break;
            case Op.Min: (dx, dy) = x <= y ? (1.0, 0.0) : (0.0, 1.0); break;
            case Op.Max: (dx, dy) = x >= y ? (1.0, 0.0) : (0.0, 1.0); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary operator");
        }
        // gx or gy may be this slot's own gradient, so combine into a temporary first.
        var t = _tmpGrad.AsSpan(0, k);
        for (int i = 0; i < k; i++) t[i] = dx * gx[i] + dy * gy[i];
        t.CopyTo(G(slot, k));
        _val[slot] = v;
    }

    private void EmaAt(int slot, Instruction ins, ReadOnlySpan<double> theta, int step, int coord, int k)
    {
        int s = ins.A * _coordinates + coord;
        double beta = theta[ins.B], a = _val[slot], prev = _stateVal[s];
        double st = beta * prev + (1 - beta) * a;
        _stateVal[s] = st;
        var gs = _stateGrad.AsSpan(s * _k, k);
        var ga = G(slot, k);
        int pb = _param[ins.B];
        for (int i = 0; i < k; i++) gs[i] = beta * gs[i] + (1 - beta) * ga[i] + (i == pb ? prev - a : 0);
        if (!ins.BiasCorrected)
        {
            _val[slot] = st;
            gs.CopyTo(ga);
            return;
        }
        double c = 1 - Math.Pow(beta, step + 1);
        _val[slot] = st / c;
        // d(1/c)/dβ = (t+1)·β^t / c².
        double dInv = (step + 1) * Math.Pow(beta, step) / (c * c);
        for (int i = 0; i < k; i++) ga[i] = gs[i] / c + (i == pb ? st * dInv : 0);
    }

    private void LagAt(int slot, Instruction ins, int step, int coord, int k)
    {
        int lag = ins.B;
        if (lag == 0) return;
        int s = (_rule.LagOffsets[ins.A] + step % lag) * _coordinates + coord;
        (_val[slot], _stateVal[s]) = (_stateVal[s], _val[slot]);
        var gs = _stateGrad.AsSpan(s * _k, k);
        var g = G(slot, k);
        var t = _tmpGrad.AsSpan(0, k);
        g.CopyTo(t);
        gs.CopyTo(g);
        t.CopyTo(gs);
    }
}
