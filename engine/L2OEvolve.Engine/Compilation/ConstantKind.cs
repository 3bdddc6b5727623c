namespace L2OEvolve.Engine.Compilation;

/// <summary>What a slot of a rule's constant table holds, so optimisers know its admissible range.</summary>
public enum ConstantKind : byte
{
    /// <summary>A free real constant.</summary>
    Value,
    /// <summary>The beta of an ema, confined to the open interval (0, 1).</summary>
    EmaBeta,
}
