using System.Numerics;
using System.Numerics.Tensors;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.ConstantFitting;

/// <summary>
/// Forward-mode differentiation of a postfix program with respect to its constants, in double precision: every
/// stack slot carries a block of values and, per fitted constant, a block of partial derivatives.
/// </summary>
/// <remarks>
/// <code>
/// for each block of rows (time-major, as the evaluator's blocks):
///     run the program; each instruction computes v = op(x, y) and the partials ∂v/∂x, ∂v/∂y per row, then
///     ∂v/∂θᵢ = ∂v/∂x·∂x/∂θᵢ + ∂v/∂y·∂y/∂θᵢ   (a feature has zero gradient, constant j the unit vector eⱼ)
///     ema/lag carry value and gradient state per coordinate along time (beta is itself a constant)
///     r = v - y; Σr² += r·r; Jᵀr += ∇v·r; JᵀJ += ∇v ∇vᵀ
/// </code>
/// Rows are visited in time-major order (index = step·coordinates + coordinate), so one loop serves row data
/// (one step, coordinates = rows) and trajectories. The Jacobian is never stored: LM needs only JᵀJ, Jᵀr and Σr².
/// A pass without JᵀJ (an LM trial step) computes values only; when everything fits one block, it records the unary
/// values, and a pass with derivatives at the very same constants (relinearising after an accepted step) reuses them.
/// Every shortcut computes with the operators' own scalar methods, so all passes give the same bits.
/// </remarks>
internal sealed class ForwardMode
{
    private const int BlockRows = 256;

    private readonly CompiledRule _rule;
    private readonly int _k, _coordinates, _blockRows;
    private readonly int[] _param; // constant slot → fitted parameter index, or -1 when held fixed
    private readonly double[] _val, _grad; // [slot][row], [slot][param][row]
    private readonly double[] _xv, _yv, _dx, _dy, _res, _t1, _t2;
    private readonly double[] _stateVal, _stateGrad; // [stateRow·C + c], ([stateRow·C + c]·k + i)
    private readonly double[] _features; // [feature][row]: a feature column's rows of the block starting at _featureRow[feature]
    private readonly int[] _featureRow;
    // Unary outputs of the last values-only pass over a single block, by instruction, at _recordedTheta: an accepted
    // trial step is relinearised at the very same constants, so that pass takes these values instead of recomputing
    // them (exp, tanh, sqrt need nothing more for their derivatives; sin and cos need half).
    private readonly double[] _recorded, _recordedTheta;
    private bool _recordedValid, _record, _reuse;
    private readonly int _stateValLength, _stateGradLength;
    private Scratch? _scratch;

    // Read-only operand gradients, shared by every instance and thread.
    private static readonly double[] Zeros = new double[BlockRows];
    private static readonly double[] Ones = Enumerable.Repeat(1.0, BlockRows).ToArray();

    // A search tunes a few rules every generation; reusing one set of buffers per thread keeps tuning from
    // allocating tens of KB per rule (and the large object heap for deep rules with many constants).
    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>Buffers that only grow; every region is written before it is read, so stale contents never matter.</summary>
    private sealed class Scratch
    {
        public double[] Val = [], Grad = [], Xv = [], Yv = [], Dx = [], Dy = [], Res = [], T1 = [], T2 = [], StateVal = [], StateGrad = [], Features = [],
            Recorded = [];

        public static double[] Grow(ref double[] a, long need)
        {
            if (need > Array.MaxLength) throw new ArgumentException($"forward mode needs {need} doubles of scratch");
            if (a.Length < need) a = new double[need];
            return a;
        }
    }

    /// <param name="features">Feature columns whose widened rows are kept between passes (an instance then always
    /// gets the same columns); features beyond it are widened at every use.</param>
    public ForwardMode(CompiledRule rule, int[] param, int k, int coordinates, int features = 0)
    {
        _rule = rule;
        _param = param;
        _k = k;
        _coordinates = coordinates;
        _blockRows = BlockRows;
        int depth = Math.Max(rule.StackDepth, 1);
        // Taken from the thread's pool while in use (Release puts it back), so two live instances never share buffers.
        var scratch = t_scratch ?? new Scratch();
        t_scratch = null;
        _scratch = scratch;
        _val = Scratch.Grow(ref scratch.Val, (long)depth * _blockRows);
        _grad = Scratch.Grow(ref scratch.Grad, (long)depth * k * _blockRows);
        _xv = Scratch.Grow(ref scratch.Xv, _blockRows);
        _yv = Scratch.Grow(ref scratch.Yv, _blockRows);
        _dx = Scratch.Grow(ref scratch.Dx, _blockRows);
        _dy = Scratch.Grow(ref scratch.Dy, _blockRows);
        _res = Scratch.Grow(ref scratch.Res, _blockRows);
        _t1 = Scratch.Grow(ref scratch.T1, _blockRows);
        _t2 = Scratch.Grow(ref scratch.T2, _blockRows);
        long stateValues = (long)rule.StateRows * coordinates;
        _stateVal = Scratch.Grow(ref scratch.StateVal, stateValues);
        _stateGrad = Scratch.Grow(ref scratch.StateGrad, stateValues * k);
        (_stateValLength, _stateGradLength) = ((int)stateValues, (int)(stateValues * k));
        _features = Scratch.Grow(ref scratch.Features, (long)features * _blockRows);
        _featureRow = new int[features];
        _featureRow.AsSpan().Fill(-1); // nothing widened yet
        _recorded = Scratch.Grow(ref scratch.Recorded, (long)rule.Code.Length * _blockRows);
        _recordedTheta = new double[rule.Constants.Length];
    }

    /// <summary>Returns the buffers to the thread's pool; the instance must not be used afterwards.</summary>
    public void Release()
    {
        if (_scratch is null) return;
        t_scratch = _scratch;
        _scratch = null;
    }

    /// <summary>
    /// Σ (f(row) - target)² over all rows at constants <paramref name="theta"/>; when <paramref name="jtj"/> is
    /// non-empty also JᵀJ (k×k, row-major) and Jᵀr. Returns +inf when any residual is not finite.
    /// </summary>
    public double Accumulate(ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, int steps, ReadOnlySpan<float> target,
        Span<double> jtj, Span<double> jtr)
    {
        int k = jtj.IsEmpty ? 0 : _k, C = _coordinates;
        bool singleBlock = !_rule.IsStateful && (long)C * steps <= _blockRows;
        _record = k == 0 && singleBlock;
        _reuse = k > 0 && singleBlock && _recordedValid && System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(theta)
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(_recordedTheta.AsSpan())); // bit for bit
        if (_record) _recordedValid = false; // until this pass has written every value
        jtj.Clear();
        jtr.Clear();
        _stateVal.AsSpan(0, _stateValLength).Clear();
        _stateGrad.AsSpan(0, _stateGradLength).Clear();
        double sse = 0;
        int perBlock = C >= _blockRows ? 1 : _blockRows / C;
        for (int t0 = 0; t0 < steps; t0 += perBlock)
        {
            int blockSteps = Math.Min(perBlock, steps - t0);
            for (int c0 = 0; c0 < C; c0 += _blockRows)
            {
                int width = Math.Min(_blockRows, C - c0);
                var blk = new Blk(t0 * C + c0, blockSteps * width, t0, blockSteps, c0, width);
                RunBlock(theta, columns, blk, k);
                int n = blk.N;
                var v = _val.AsSpan(0, n);
                var r = _res.AsSpan(0, n);
                for (int i = 0; i < n; i++) r[i] = v[i] - target[blk.R0 + i];
                double s = TensorPrimitives.Dot<double>(r, r);
                if (_record)
                {
                    theta.CopyTo(_recordedTheta);
                    _recordedValid = true;
                }
                if (!double.IsFinite(s)) return double.PositiveInfinity;
                sse += s;
                for (int i = 0; i < k; i++)
                {
                    var gi = Grad(0, i, n);
                    // A singular derivative (sqrt at 0) of a finite value must not poison the whole step.
                    if (!AllFinite(gi))
                        for (int q = 0; q < n; q++)
                            if (!double.IsFinite(gi[q])) gi[q] = 0;
                    jtr[i] += TensorPrimitives.Dot<double>(gi, r);
                    for (int j = 0; j <= i; j++) jtj[i * k + j] += TensorPrimitives.Dot<double>(gi, Grad(0, j, n));
                }
            }
        }
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++)
                jtj[j * k + i] = jtj[i * k + j];
        return sse;
    }

    /// <summary>True when no element is NaN or ±inf (x - x is 0 exactly for finite x, NaN otherwise).</summary>
    private static bool AllFinite(ReadOnlySpan<double> g)
    {
        int q = 0;
        if (Vector.IsHardwareAccelerated)
            for (; q <= g.Length - Vector<double>.Count; q += Vector<double>.Count)
            {
                var a = new Vector<double>(g[q..]);
                if (!Vector.EqualsAll(a - a, Vector<double>.Zero)) return false;
            }
        for (; q < g.Length; q++)
            if (!double.IsFinite(g[q])) return false;
        return true;
    }

    /// <summary>Rows [R0, R0+N) = <c>Steps</c> steps from <c>T0</c> of the coordinates [C0, C0+Width).</summary>
    private readonly record struct Blk(int R0, int N, int T0, int Steps, int C0, int Width);

    /// <summary>An operand: a stack slot, a feature column or a constant slot.</summary>
    private readonly record struct Operand(int Kind, int Index)
    {
        public const int Stack = 0, Feature = 1, Constant = 2;
    }

    private Span<double> Val(int slot, int n) => _val.AsSpan(slot * _blockRows, n);

    private Span<double> Grad(int slot, int i, int n) => _grad.AsSpan((slot * _k + i) * _blockRows, n);

    /// <summary>Values of an operand for the block, in <paramref name="buffer"/> unless it is a stack slot.</summary>
    private ReadOnlySpan<double> Values(Operand o, ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, in Blk b, double[] buffer)
    {
        switch (o.Kind)
        {
            case Operand.Stack: return Val(o.Index, b.N);
            case Operand.Feature:
                // Each block's feature columns are widened to double once per fit, not at every use in every pass.
                if (o.Index >= _featureRow.Length)
                {
                    var raw = columns[o.Index].AsSpan(b.R0, b.N);
                    for (int i = 0; i < b.N; i++) buffer[i] = raw[i];
                    return buffer.AsSpan(0, b.N);
                }
                var cached = _features.AsSpan(o.Index * _blockRows, b.N);
                if (_featureRow[o.Index] != b.R0)
                {
                    var col = columns[o.Index].AsSpan(b.R0, b.N);
                    for (int i = 0; i < b.N; i++) cached[i] = col[i];
                    _featureRow[o.Index] = b.R0;
                }
                return cached;
            default:
                buffer.AsSpan(0, b.N).Fill(theta[o.Index]);
                return buffer.AsSpan(0, b.N);
        }
    }

    /// <summary>∂operand/∂θᵢ over the block: a stack slot's gradient, zeros for a feature, a unit vector for a constant.</summary>
    private ReadOnlySpan<double> Gradient(Operand o, int i, int n) => o.Kind switch
    {
        Operand.Stack => Grad(o.Index, i, n),
        Operand.Constant when _param[o.Index] == i => Ones.AsSpan(0, n),
        _ => Zeros.AsSpan(0, n),
    };

    private void RunBlock(ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, in Blk b, int k)
    {
        var code = _rule.Code;
        int sp = 0;
        static Operand S(int i) => new(Operand.Stack, i);
        static Operand F(int i) => new(Operand.Feature, i);
        static Operand K(int i) => new(Operand.Constant, i);
        for (int pc = 0; pc < code.Length; pc++)
        {
            var ins = code[pc];
            switch (ins.Code)
            {
                case OpCode.LoadFeature: Load(F(ins.A), sp++, theta, columns, b, k); break;
                case OpCode.LoadConst: Load(K(ins.A), sp++, theta, columns, b, k); break;
                case OpCode.Unary: Unary(ins.Op, S(sp - 1), sp - 1, theta, columns, b, k, pc); break;
                case OpCode.UnaryF: Unary(ins.Op, F(ins.A), sp++, theta, columns, b, k, pc); break;
                case OpCode.Binary:
                    Binary(ins.Op, S(sp - 2), S(sp - 1), sp - 2, theta, columns, b, k);
                    sp--;
                    break;
                case OpCode.BinaryRightF: Binary(ins.Op, S(sp - 1), F(ins.A), sp - 1, theta, columns, b, k); break;
                case OpCode.BinaryRightC: Binary(ins.Op, S(sp - 1), K(ins.A), sp - 1, theta, columns, b, k); break;
                case OpCode.BinaryLeftF: Binary(ins.Op, F(ins.A), S(sp - 1), sp - 1, theta, columns, b, k); break;
                case OpCode.BinaryLeftC: Binary(ins.Op, K(ins.A), S(sp - 1), sp - 1, theta, columns, b, k); break;
                case OpCode.BinaryFF: Binary(ins.Op, F(ins.A), F(ins.B), sp++, theta, columns, b, k); break;
                case OpCode.BinaryFC: Binary(ins.Op, F(ins.A), K(ins.B), sp++, theta, columns, b, k); break;
                case OpCode.BinaryCF: Binary(ins.Op, K(ins.A), F(ins.B), sp++, theta, columns, b, k); break;
                case OpCode.Ema: Ema(ins, sp - 1, theta, b, k); break;
                case OpCode.Lag: Lag(ins, sp - 1, b, k); break;
                default: throw new InvalidOperationException($"unknown opcode {ins.Code}");
            }
        }
    }

    private void Load(Operand o, int slot, ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, in Blk b, int k)
    {
        Values(o, theta, columns, b, _xv).CopyTo(Val(slot, b.N));
        for (int i = 0; i < k; i++) Gradient(o, i, b.N).CopyTo(Grad(slot, i, b.N));
    }

    private void Unary(Op op, Operand a, int slot, ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, in Blk b, int k, int pc)
    {
        int n = b.N;
        var x = Values(a, theta, columns, b, _xv);
        var v = Val(slot, n);
        var d = _dx.AsSpan(0, n);
        var recorded = _recorded.AsSpan(pc * _blockRows, n);
        if (k == 0)
        {
            // A trial step needs values only: the operator's own Apply, without its derivative.
            UnaryValues(op, x, v);
            if (_record) v.CopyTo(recorded);
            return;
        }
        // x may be this slot's values: each row is read before it is written.
        if (!_reuse || !UnaryDerivativeAt(op, x, recorded, v, d)) UnaryValueAndDerivative(op, x, v, d);
        for (int i = 0; i < k; i++)
        {
            var gx = Gradient(a, i, n);
            var g = Grad(slot, i, n);
            TensorPrimitives.Multiply<double>(d, gx, g); // g may be gx itself (the same span), which it allows
        }
    }

    private void Binary(Op op, Operand a, Operand c, int slot, ReadOnlySpan<double> theta, ReadOnlySpan<float[]> columns, in Blk b, int k)
    {
        int n = b.N;
        var x = Values(a, theta, columns, b, _xv);
        var y = Values(c, theta, columns, b, _yv);
        var v = Val(slot, n);
        if (k == 0)
        {
            BinaryValues(op, x, y, v);
            return;
        }
        if (op is AddOp or SubOp or MulOp)
        {
            SumOrProduct(op, a, c, x, y, v, slot, n, k);
            return;
        }
        var dx = _dx.AsSpan(0, n);
        var dy = _dy.AsSpan(0, n);
        // v may alias x or y (in-place on the stack top): each row reads its operands before writing.
        op.ValueAndPartials(x, y, v, dx, dy);
        for (int i = 0; i < k; i++)
        {
            var gx = Gradient(a, i, n);
            var gy = Gradient(c, i, n);
            var g = Grad(slot, i, n);
            // g = dx·gx + dy·gy with each product rounded, as the scalar expression (the vector kernels never fuse);
            // both products are taken before g, which may be gx or gy itself, is written.
            var t1 = _t1.AsSpan(0, n);
            var t2 = _t2.AsSpan(0, n);
            TensorPrimitives.Multiply<double>(dx, gx, t1);
            TensorPrimitives.Multiply<double>(dy, gy, t2);
            TensorPrimitives.Add<double>(t1, t2, g);
        }
    }

    /// <summary>
    /// <see cref="Binary"/> for + − ×, whose partials are the other operand or ±1 exactly, a vector at a time: for + and −,
    /// 1·gx + (±1)·gy is gx ± gy bit for bit (each product is exact, and x − y is x + (−y)); for ×, the partials y and x
    /// are the operands themselves. The products and sums are the ones the general path rounds, in the same order.
    /// </summary>
    private void SumOrProduct(Op op, Operand a, Operand c, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, int slot, int n, int k)
    {
        var t1 = _t1.AsSpan(0, n);
        var t2 = _t2.AsSpan(0, n);
        // Gradients first: v may be x or y, and g may be gx or gy (the very same span, which the kernels allow).
        for (int i = 0; i < k; i++)
        {
            var gx = Gradient(a, i, n);
            var gy = Gradient(c, i, n);
            var g = Grad(slot, i, n);
            switch (op)
            {
                case AddOp: TensorPrimitives.Add<double>(gx, gy, g); break;
                case SubOp: TensorPrimitives.Subtract<double>(gx, gy, g); break;
                default:
                    TensorPrimitives.Multiply<double>(y, gx, t1);
                    TensorPrimitives.Multiply<double>(x, gy, t2);
                    TensorPrimitives.Add<double>(t1, t2, g);
                    break;
            }
        }
        SumOrProductValues(op, x, y, v);
    }

    /// <summary>v = x + y, x − y or x·y, a vector at a time (the same IEEE operations as the scalar Apply); v may be x or y.</summary>
    private static void SumOrProductValues(Op op, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v)
    {
        switch (op)
        {
            case AddOp: TensorPrimitives.Add<double>(x, y, v); break;
            case SubOp: TensorPrimitives.Subtract<double>(x, y, v); break;
            default: TensorPrimitives.Multiply<double>(x, y, v); break;
        }
    }

    // The operators every grammar uses most, without a virtual call per row: each case calls the sealed operator's own
    // Apply and Derivative (which the JIT then binds directly and inlines), in the loop Op.ValueAndDerivative runs,
    // so the numbers are the operator's own, bit for bit; any other operator takes the virtual path.

    /// <summary>v = op(x) (v may be x).</summary>
    private static void UnaryValues(Op op, ReadOnlySpan<double> x, Span<double> v)
    {
        int n = v.Length;
        switch (op)
        {
            case NegOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case SquareOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case CubeOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case SqrtOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case ExpOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case LogOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case SinOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case CosOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            case TanhOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r]); break;
            default: for (int r = 0; r < n; r++) v[r] = op.Apply(x[r]); break;
        }
    }

    /// <summary>v = op(x) and d = op'(x), 0 where x is NaN, as <see cref="Op.ValueAndDerivative"/> (v may be x).</summary>
    private static void UnaryValueAndDerivative(Op op, ReadOnlySpan<double> x, Span<double> v, Span<double> d)
    {
        int n = v.Length;
        switch (op)
        {
            case NegOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case SquareOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case CubeOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case SqrtOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case ExpOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case LogOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case SinOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case CosOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            case TanhOp o: for (int r = 0; r < n; r++) { double a = x[r], f = o.Apply(a); d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f); v[r] = f; } break;
            default: op.ValueAndDerivative(x, v, d); break;
        }
    }

    /// <summary>
    /// v = f, the operator's values at x recorded by a values-only pass, and d = op'(x) from them, 0 where x is NaN, as
    /// <see cref="Op.ValueAndDerivative"/> would compute both (v may be x); false, touching nothing, for other operators.
    /// </summary>
    private static bool UnaryDerivativeAt(Op op, ReadOnlySpan<double> x, ReadOnlySpan<double> f, Span<double> v, Span<double> d)
    {
        int n = v.Length;
        switch (op)
        {
            case NegOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case SquareOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case CubeOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case SqrtOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case ExpOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case LogOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case SinOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case CosOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            case TanhOp o: for (int r = 0; r < n; r++) { double a = x[r]; d[r] = double.IsNaN(a) ? 0 : o.Derivative(a, f[r]); v[r] = f[r]; } break;
            default: return false;
        }
        return true;
    }

    /// <summary>v = op(x, y) (v may be x or y).</summary>
    private static void BinaryValues(Op op, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v)
    {
        int n = v.Length;
        switch (op)
        {
            case AddOp or SubOp or MulOp: SumOrProductValues(op, x, y, v); break;
            case DivOp o: for (int r = 0; r < n; r++) v[r] = o.Apply(x[r], y[r]); break;
            default: for (int r = 0; r < n; r++) v[r] = op.Apply(x[r], y[r]); break;
        }
    }

    private void Ema(Instruction ins, int slot, ReadOnlySpan<double> theta, in Blk b, int k)
    {
        double beta = theta[ins.B];
        int pb = _param[ins.B];
        var v = Val(slot, b.N);
        for (int j = 0; j < b.Steps; j++)
        {
            int t = b.T0 + j;
            double c = ins.BiasCorrected ? 1 - Math.Pow(beta, t + 1) : 1;
            // d(1/c)/dβ = (t+1)·β^t / c².
            double dInv = ins.BiasCorrected ? (t + 1) * Math.Pow(beta, t) / (c * c) : 0;
            for (int q = 0; q < b.Width; q++)
            {
                int r = j * b.Width + q, s = ins.A * _coordinates + b.C0 + q;
                double a = v[r], prev = _stateVal[s], st = beta * prev + (1 - beta) * a;
                _stateVal[s] = st;
                v[r] = st / c;
                for (int i = 0; i < k; i++)
                {
                    ref double gs = ref _stateGrad[s * _k + i];
                    var g = Grad(slot, i, b.N);
                    gs = beta * gs + (1 - beta) * g[r] + (i == pb ? prev - a : 0);
                    g[r] = gs / c + (i == pb ? st * dInv : 0);
                }
            }
        }
    }

    private void Lag(Instruction ins, int slot, in Blk b, int k)
    {
        int lag = ins.B;
        if (lag == 0) return;
        var v = Val(slot, b.N);
        for (int j = 0; j < b.Steps; j++)
        {
            // Ring row (t mod k) holds the value and gradient from step t-k (zero while t < k); swap with the top.
            int row = _rule.LagOffsets[ins.A] + (b.T0 + j) % lag;
            for (int q = 0; q < b.Width; q++)
            {
                int r = j * b.Width + q, s = row * _coordinates + b.C0 + q;
                (v[r], _stateVal[s]) = (_stateVal[s], v[r]);
                for (int i = 0; i < k; i++)
                {
                    var g = Grad(slot, i, b.N);
                    (g[r], _stateGrad[s * _k + i]) = (_stateGrad[s * _k + i], g[r]);
                }
            }
        }
    }
}
