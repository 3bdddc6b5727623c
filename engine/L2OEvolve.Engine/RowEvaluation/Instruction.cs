using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>What one postfix instruction does to the evaluation stack.</summary>
/// <remarks>
/// "F" operands are read straight from a feature column and "C" operands are broadcast constants, so the common
/// shapes (an operator with a leaf child) cost one pass over the block instead of a copy plus a pass.
/// </remarks>
public enum OpCode : byte
{
    /// <summary>push column A.</summary>
    LoadFeature,
    /// <summary>push constant A.</summary>
    LoadConst,
    /// <summary>top = op(top).</summary>
    Unary,
    /// <summary>push op(column A).</summary>
    UnaryF,
    /// <summary>pop r; top = op(top, r).</summary>
    Binary,
    /// <summary>top = op(top, column A).</summary>
    BinaryRightF,
    /// <summary>top = op(top, constant A).</summary>
    BinaryRightC,
    /// <summary>top = op(column A, top).</summary>
    BinaryLeftF,
    /// <summary>top = op(constant A, top).</summary>
    BinaryLeftC,
    /// <summary>push op(column A, column B).</summary>
    BinaryFF,
    /// <summary>push op(column A, constant B).</summary>
    BinaryFC,
    /// <summary>push op(constant A, column B).</summary>
    BinaryCF,
    /// <summary>top = exponential moving average of top over time, state slot A, beta = constant B (Flag 1: bias corrected).</summary>
    Ema,
    /// <summary>top = the value top had B steps earlier, history in state slot A.</summary>
    Lag,
}

/// <summary>One postfix instruction: an opcode, the operator it applies (by its slot in the operator table, so the
/// instruction stays a small unmanaged value) and two integer operands.</summary>
/// <param name="Flag">For <see cref="OpCode.Ema"/>: 1 when bias corrected.</param>
public readonly record struct Instruction(OpCode Code, ushort OpSlot, int A, int B, int Flag = 0)
{
    /// <summary>The operator applied (meaningless for loads, ema and lag).</summary>
    public Op Op => Ops.AtSlot(OpSlot);

    /// <summary>True for an <see cref="OpCode.Ema"/> with bias correction.</summary>
    public bool BiasCorrected => Flag != 0;

    /// <summary>Stack height change made by this instruction.</summary>
    public int StackEffect => StackEffectOf(Code);

    /// <summary>Tree nodes this instruction stands for (fused leaves count as nodes).</summary>
    public int NodeCount => NodeCountOf(Code);

    // Tables rather than switches: the compiler asks for every instruction of every candidate a search scores.
    // By OpCode: LoadFeature, LoadConst, Unary, UnaryF, Binary, BinaryRightF, BinaryRightC, BinaryLeftF,
    // BinaryLeftC, BinaryFF, BinaryFC, BinaryCF, Ema, Lag.
    private static ReadOnlySpan<sbyte> StackEffects => [1, 1, 0, 1, -1, 0, 0, 0, 0, 1, 1, 1, 0, 0];
    private static ReadOnlySpan<byte> NodeCounts => [1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 3, 3, 1, 1];

    internal static int StackEffectOf(OpCode code) => StackEffects[(int)code];

    internal static int NodeCountOf(OpCode code) => NodeCounts[(int)code];
}
