namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>
/// Per-thread scratch memory for <see cref="Evaluator"/>: the block stack, kernel scratch and the per-coordinate
/// state of stateful operators. Buffers only grow, so once warm an evaluation allocates nothing. Not thread-safe:
/// give each worker its own.
/// </summary>
public sealed class EvalWorkspace
{
    /// <summary>
    /// Rows per block: long enough that per-instruction dispatch (~6 ns) is small beside the vector loop, short
    /// enough that the stack of a typical tree (4 KB per slot) stays in L1/L2. 1024 measured a little faster than
    /// 512 on size-20 trees (experiments/L2OEvolve.Benchmarks --quick --block N).
    /// </summary>
    public const int DefaultBlockSize = 1024;

    private float[] _stack = [];
    private float[] _scratch = [];
    private float[] _result = [];
    private float[] _state = [];

    /// <summary>A workspace evaluating <paramref name="blockSize"/> rows (or coordinates) at a time.</summary>
    public EvalWorkspace(int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockSize = blockSize;
    }

    /// <summary>Rows (or trajectory coordinates) processed per block.</summary>
    public int BlockSize { get; }

    internal Span<float> Slot(int k, int n) => _stack.AsSpan(k * BlockSize, n);

    internal Span<float> Scratch(int n) => _scratch.AsSpan(0, n);

    internal Span<float> Result(int n) => _result.AsSpan(0, n);

    internal Span<float> State => _state;

    /// <summary>Grows the stack for <paramref name="depth"/> slots.</summary>
    internal void Prepare(int depth)
    {
        int need = Math.Max(depth, 1) * BlockSize;
        if (_stack.Length < need) _stack = new float[need];
        if (_scratch.Length < BlockSize) _scratch = new float[BlockSize];
        if (_result.Length < BlockSize) _result = new float[BlockSize];
    }

    /// <summary>Grows and zeroes the state area: one row of coordinates per ema, k rows per lag k.</summary>
    internal void PrepareState(CompiledRule rule, int coordinates)
    {
        long need = (long)rule.StateRows * coordinates;
        if (need > Array.MaxLength) throw new ArgumentException($"stateful rule needs {need} floats of state");
        if (_state.Length < need) _state = new float[need];
        else _state.AsSpan(0, (int)need).Clear();
    }
}
