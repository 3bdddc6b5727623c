using System.Collections.Immutable;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>
/// A rule compiled to a flat postfix program over feature indices, with its constants kept apart so constant
/// optimisation can rewrite them (<see cref="WithConstants"/>) without recompiling.
/// </summary>
public sealed class CompiledRule
{
    internal readonly Instruction[] Code;
    internal readonly float[] ConstantsF;

    /// <summary>First state row of each lag slot; ema slot i owns state row i.</summary>
    internal readonly int[] LagOffsets;

    /// <summary>Rows of per-coordinate state: one per ema, k per lag k.</summary>
    internal readonly int StateRows;

    internal CompiledRule(Instruction[] code, ImmutableArray<double> constants, ImmutableArray<ConstantKind> kinds,
        ImmutableArray<string> featureNames, int stackDepth, int emaSlots, ImmutableArray<int> lagSteps, int nodeCount)
    {
        Code = code;
        Constants = constants;
        ConstantKinds = kinds;
        FeatureNames = featureNames;
        StackDepth = stackDepth;
        EmaSlots = emaSlots;
        LagSteps = lagSteps;
        NodeCount = nodeCount;
        LagOffsets = lagSteps.Length == 0 ? [] : new int[lagSteps.Length];
        int rows = emaSlots;
        for (int i = 0; i < lagSteps.Length; i++)
        {
            LagOffsets[i] = rows;
            rows += lagSteps[i];
        }
        StateRows = rows;
        ConstantsF = constants.Length == 0 ? [] : new float[constants.Length];
        for (int i = 0; i < ConstantsF.Length; i++) ConstantsF[i] = (float)constants[i];
    }

    /// <summary>The postfix program.</summary>
    public ReadOnlySpan<Instruction> Program => Code;

    /// <summary>Constant slots (tree constants and ema betas) in depth-first, left-to-right tree order.</summary>
    public ImmutableArray<double> Constants { get; }

    /// <summary>What each constant slot is.</summary>
    public ImmutableArray<ConstantKind> ConstantKinds { get; }

    /// <summary>The feature names the program's column indices refer to (the list given to the compiler).</summary>
    public ImmutableArray<string> FeatureNames { get; }

    /// <summary>Maximum evaluation stack height.</summary>
    public int StackDepth { get; }

    /// <summary>Number of ema state slots.</summary>
    public int EmaSlots { get; }

    /// <summary>Steps back of each lag state slot.</summary>
    public ImmutableArray<int> LagSteps { get; }

    /// <summary>Node count of the source tree (complexity as PySR counts it).</summary>
    public int NodeCount { get; }

    /// <summary>True when the rule has ema or lag and must be evaluated along time.</summary>
    public bool IsStateful => EmaSlots > 0 || LagSteps.Length > 0;

    /// <summary>The same program with new constant values (same count and order as <see cref="Constants"/>).</summary>
    public CompiledRule WithConstants(ReadOnlySpan<double> constants)
    {
        if (constants.Length != Constants.Length)
            throw new ArgumentException($"expected {Constants.Length} constants, got {constants.Length}", nameof(constants));
        return new CompiledRule(Code, [.. constants], ConstantKinds, FeatureNames, StackDepth, EmaSlots, LagSteps, NodeCount);
    }

    /// <summary>Rebuilds the expression tree with the current constants.</summary>
    public Expr ToExpr() => Compiler.Decompile(this);

    public override string ToString() => string.Join(" ", Code.Select(i => i.Code switch
    {
        OpCode.LoadFeature => FeatureNames[i.A],
        OpCode.LoadConst => Constants[i.A].ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        OpCode.Ema => $"ema[{i.A}]",
        OpCode.Lag => $"lag{i.B}[{i.A}]",
        _ => $"{i.Code}:{i.Op}({i.A},{i.B})",
    }));
}
