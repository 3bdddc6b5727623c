using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>Evaluates compiled rules over columnar float32 data, a block of rows at a time, with SIMD kernels.</summary>
/// <remarks>
/// The meaning is the naive recursive evaluation, with <see cref="Ops.Apply(Op, double)"/> semantics in float32:
/// <code>
/// eval(node, row) = match node with
///   Const c        -> c
///   Var x          -> column[x][row]
///   Unary(op, a)   -> op(eval(a, row))
///   Binary(op,a,b) -> op(eval(a, row), eval(b, row))
///   Ema(β, bc, a)  -> s[coord] = β·s[coord] + (1-β)·eval(a, row) (s zero at step 0); s / (1-β^(t+1)) when bc
///   Lag(k, a)      -> eval(a, row k steps earlier, same coordinate), 0 before the history starts
/// </code>
/// Everything else is optimisation. The postfix program runs instruction by instruction over a block of rows
/// (<see cref="EvalWorkspace.BlockSize"/>), each stack slot holding one block, so the working set stays in cache
/// and every instruction is one tight vector loop. Row data (no stateful nodes) is blocked over rows; trajectories
/// (time-major: index = step·coordinates + coordinate) are walked in time order, a block holding either several
/// whole steps (few coordinates) or part of one step's coordinates; pure instructions run over the whole block and
/// ema/lag run step by step inside it, with their state kept per coordinate in the workspace. Any non-finite
/// output makes Evaluate return false and the loss +inf (intermediate infinities that a later operator maps back
/// to finite values, e.g. tanh(exp(x)), are legitimate values, as in the reference). Nothing here throws on
/// numerical trouble; misuse (missing columns, short buffers, a stateful rule on row data) is an ArgumentException.
/// </remarks>
public static class Evaluator
{
    /// <summary>Evaluates a stateless rule on <paramref name="rows"/> rows into <paramref name="output"/>.</summary>
    /// <returns>False when any output is NaN or ±Inf (the output is then incomplete).</returns>
    public static bool Evaluate(CompiledRule rule, ReadOnlySpan<float[]> columns, int rows, Span<float> output, EvalWorkspace ws)
    {
        CheckRows(rule, columns, rows);
        if (output.Length < rows) throw new ArgumentException($"output has {output.Length} elements, need {rows}", nameof(output));
        ws.Prepare(rule.StackDepth);
        int b = ws.BlockSize;
        for (int r0 = 0; r0 < rows; r0 += b)
        {
            int n = Math.Min(b, rows - r0);
            var dst = output.Slice(r0, n);
            RunBlock(rule, columns, Block.Rows(r0, n), dst, ws);
            if (!Kernels.AllFinite(dst)) return false;
        }
        return true;
    }

    /// <summary>Mean squared error of a stateless rule against <paramref name="target"/>; +inf when not finite.</summary>
    public static double Mse(CompiledRule rule, ReadOnlySpan<float[]> columns, int rows, ReadOnlySpan<float> target, EvalWorkspace ws)
    {
        CheckRows(rule, columns, rows);
        if (target.Length < rows) throw new ArgumentException($"target has {target.Length} elements, need {rows}", nameof(target));
        if (rows == 0) return 0.0;
        ws.Prepare(rule.StackDepth);
        int b = ws.BlockSize;
        double sum = 0;
        for (int r0 = 0; r0 < rows; r0 += b)
        {
            int n = Math.Min(b, rows - r0);
            var dst = ws.Result(n);
            RunBlock(rule, columns, Block.Rows(r0, n), dst, ws);
            sum += Kernels.SumSquaredError(dst, target.Slice(r0, n));
            if (!double.IsFinite(sum)) return double.PositiveInfinity;
        }
        return sum / rows;
    }

    /// <summary>
    /// Evaluates a rule over a time-major trajectory (<paramref name="steps"/> × <paramref name="coordinates"/>,
    /// index = step·coordinates + coordinate), running stateful operators along time per coordinate.
    /// </summary>
    /// <returns>False when any output is NaN or ±Inf.</returns>
    public static bool EvaluateTrajectory(CompiledRule rule, ReadOnlySpan<float[]> features, int coordinates, int steps,
        Span<float> output, EvalWorkspace ws)
    {
        int rows = CheckTrajectory(rule, features, coordinates, steps);
        if (output.Length < rows) throw new ArgumentException($"output has {output.Length} elements, need {rows}", nameof(output));
        if (!rule.IsStateful) return Evaluate(rule, features, rows, output, ws);
        ws.Prepare(rule.StackDepth);
        ws.PrepareState(rule, coordinates);
        int perBlock = StepsPerBlock(coordinates, ws.BlockSize);
        for (int t0 = 0; t0 < steps; t0 += perBlock)
        {
            for (int c0 = 0; c0 < coordinates; c0 += ws.BlockSize)
            {
                var blk = Block.Trajectory(t0, Math.Min(perBlock, steps - t0), c0, Math.Min(ws.BlockSize, coordinates - c0), coordinates);
                var dst = output.Slice(blk.R0, blk.N);
                RunBlock(rule, features, blk, dst, ws);
                if (!Kernels.AllFinite(dst)) return false;
            }
        }
        return true;
    }

    /// <summary>Mean squared error over a time-major trajectory (see <see cref="EvaluateTrajectory"/>); +inf when not finite.</summary>
    public static double MseTrajectory(CompiledRule rule, ReadOnlySpan<float[]> features, int coordinates, int steps,
        ReadOnlySpan<float> target, EvalWorkspace ws)
    {
        int rows = CheckTrajectory(rule, features, coordinates, steps);
        if (target.Length < rows) throw new ArgumentException($"target has {target.Length} elements, need {rows}", nameof(target));
        if (!rule.IsStateful) return Mse(rule, features, rows, target, ws);
        if (rows == 0) return 0.0;
        ws.Prepare(rule.StackDepth);
        ws.PrepareState(rule, coordinates);
        int perBlock = StepsPerBlock(coordinates, ws.BlockSize);
        double sum = 0;
        for (int t0 = 0; t0 < steps; t0 += perBlock)
        {
            for (int c0 = 0; c0 < coordinates; c0 += ws.BlockSize)
            {
                var blk = Block.Trajectory(t0, Math.Min(perBlock, steps - t0), c0, Math.Min(ws.BlockSize, coordinates - c0), coordinates);
                var dst = ws.Result(blk.N);
                RunBlock(rule, features, blk, dst, ws);
                sum += Kernels.SumSquaredError(dst, target.Slice(blk.R0, blk.N));
                if (!double.IsFinite(sum)) return double.PositiveInfinity;
            }
        }
        return sum / rows;
    }

    private static void CheckRows(CompiledRule rule, ReadOnlySpan<float[]> columns, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rule.IsStateful)
            throw new ArgumentException("rule has stateful operators (ema/lag): evaluate it with EvaluateTrajectory", nameof(rule));
        CheckColumns(rule, columns, rows);
    }

    private static int CheckTrajectory(CompiledRule rule, ReadOnlySpan<float[]> features, int coordinates, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(coordinates);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        long rows = (long)coordinates * steps;
        if (rows > Array.MaxLength) throw new ArgumentException($"trajectory of {rows} rows is too large");
        CheckColumns(rule, features, (int)rows);
        return (int)rows;
    }

    private static void CheckColumns(CompiledRule rule, ReadOnlySpan<float[]> columns, int rows)
    {
        if (columns.Length < rule.FeatureNames.Length)
            throw new ArgumentException(
                $"rule was compiled for {rule.FeatureNames.Length} features ({string.Join(", ", rule.FeatureNames)}), got {columns.Length} columns",
                nameof(columns));
        for (int i = 0; i < rule.FeatureNames.Length; i++)
        {
            if (columns[i] is null || columns[i].Length < rows)
                throw new ArgumentException(
                    $"column {i} ('{rule.FeatureNames[i]}') has {columns[i]?.Length ?? 0} values, need {rows}", nameof(columns));
        }
    }

    /// <summary>
    /// Steps of a trajectory evaluated together: with fewer coordinates than a block, several whole steps share one
    /// block (their rows are contiguous in the time-major layout), so few-coordinate trajectories keep long vectors.
    /// </summary>
    private static int StepsPerBlock(int coordinates, int blockSize) => coordinates >= blockSize ? 1 : blockSize / coordinates;

    /// <summary>
    /// A contiguous run of rows [R0, R0+N) covering <c>Steps</c> time steps from <c>T0</c> and, within each, the
    /// coordinates [C0, C0+Width) (Steps = 1, or Width = all coordinates, so the rows are contiguous).
    /// </summary>
    private readonly record struct Block(int R0, int N, int T0, int Steps, int C0, int Width, int Coordinates)
    {
        public static Block Rows(int r0, int n) => new(r0, n, 0, 1, 0, n, n);

        public static Block Trajectory(int t0, int steps, int c0, int width, int coordinates) =>
            new(t0 * coordinates + c0, steps * width, t0, steps, c0, width, coordinates);
    }

    /// <summary>Runs the program on one block; stack slot 0 is <paramref name="bottom"/>, where the result lands.</summary>
    private static void RunBlock(CompiledRule rule, ReadOnlySpan<float[]> columns, in Block blk, Span<float> bottom, EvalWorkspace ws)
    {
        int r0 = blk.R0, n = blk.N;
        var code = rule.Code;
        var consts = rule.ConstantsF;
        var scratch = ws.Scratch(n);
        int sp = 0;
        for (int pc = 0; pc < code.Length; pc++)
        {
            ref readonly var ins = ref code[pc];
            switch (ins.Code)
            {
                case OpCode.LoadFeature:
                    columns[ins.A].AsSpan(r0, n).CopyTo(S(bottom, ws, sp++, n));
                    break;
                case OpCode.LoadConst:
                    S(bottom, ws, sp++, n).Fill(consts[ins.A]);
                    break;
                case OpCode.Unary:
                {
                    var top = S(bottom, ws, sp - 1, n);
                    Kernels.Unary(ins.Op, top, top, scratch);
                    break;
                }
                case OpCode.UnaryF:
                    Kernels.Unary(ins.Op, columns[ins.A].AsSpan(r0, n), S(bottom, ws, sp++, n), scratch);
                    break;
                case OpCode.Binary:
                {
                    var l = S(bottom, ws, sp - 2, n);
                    Kernels.Binary(ins.Op, l, S(bottom, ws, sp - 1, n), l, scratch);
                    sp--;
                    break;
                }
                case OpCode.BinaryRightF:
                {
                    var top = S(bottom, ws, sp - 1, n);
                    Kernels.Binary(ins.Op, top, columns[ins.A].AsSpan(r0, n), top, scratch);
                    break;
                }
                case OpCode.BinaryRightC:
                {
                    var top = S(bottom, ws, sp - 1, n);
                    Kernels.Binary(ins.Op, top, consts[ins.A], top, scratch);
                    break;
                }
                case OpCode.BinaryLeftF:
                {
                    var top = S(bottom, ws, sp - 1, n);
                    Kernels.Binary(ins.Op, columns[ins.A].AsSpan(r0, n), top, top, scratch);
                    break;
                }
                case OpCode.BinaryLeftC:
                {
                    var top = S(bottom, ws, sp - 1, n);
                    Kernels.Binary(ins.Op, consts[ins.A], top, top, scratch);
                    break;
                }
                case OpCode.BinaryFF:
                    Kernels.Binary(ins.Op, columns[ins.A].AsSpan(r0, n), columns[ins.B].AsSpan(r0, n), S(bottom, ws, sp++, n), scratch);
                    break;
                case OpCode.BinaryFC:
                    Kernels.Binary(ins.Op, columns[ins.A].AsSpan(r0, n), consts[ins.B], S(bottom, ws, sp++, n), scratch);
                    break;
                case OpCode.BinaryCF:
                    Kernels.Binary(ins.Op, consts[ins.A], columns[ins.B].AsSpan(r0, n), S(bottom, ws, sp++, n), scratch);
                    break;
                case OpCode.Ema:
                {
                    var state = ws.State.Slice(ins.A * blk.Coordinates + blk.C0, blk.Width);
                    double beta = rule.Constants[ins.B];
                    // The correction uses the exact double beta: 1 - beta^t is tiny for beta near 1 and small t.
                    double power = ins.BiasCorrected ? Math.Pow(beta, blk.T0 + 1) : 0;
                    Kernels.EmaRun(state, S(bottom, ws, sp - 1, n), blk.Steps, blk.Width, consts[ins.B], beta, ins.BiasCorrected, power);
                    break;
                }
                case OpCode.Lag:
                {
                    int k = ins.B;
                    if (k == 0) break;
                    // Row (t mod k) of the ring holds the value from step t-k (zero while t < k); it is swapped with top.
                    var ring = ws.State.Slice(rule.LagOffsets[ins.A] * blk.Coordinates, k * blk.Coordinates);
                    Kernels.LagRun(ring, S(bottom, ws, sp - 1, n), blk.T0, blk.Steps, k, blk.Coordinates, blk.C0, blk.Width, scratch);
                    break;
                }
                default:
                    throw new InvalidOperationException($"unknown opcode {ins.Code}");
            }
        }
    }

    private static Span<float> S(Span<float> bottom, EvalWorkspace ws, int k, int n) => k == 0 ? bottom : ws.Slot(k, n);
}
