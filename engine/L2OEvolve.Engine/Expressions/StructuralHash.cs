using System.Numerics;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// A 64-bit hash of a tree's structure that is the same in every process and on every run (no randomised string
/// hashing), for deduplication and fitness caches. Structurally equal trees (record equality) hash equally: -0.0
/// hashes as 0.0 and every NaN alike, because <see cref="double.Equals(double)"/> treats them as equal.
/// </summary>
/// <remarks>
/// Each node mixes a kind tag, its payload (operator number, name characters, constant bits, beta, steps) and its
/// children's hashes with a SplitMix64 finaliser, so child order matters. Operator numbers are <see cref="Op.HashId"/>
/// (the built-ins keep their historical numbers, so persisted hashes stay valid).
/// </remarks>
public static class StructuralHash
{
    /// <summary>The hash of <paramref name="expr"/> (computed once per node: each node keeps its own).</summary>
    public static ulong Of(Expr expr)
    {
        ulong hash = expr.HashCache;
        if (hash == 0) expr.HashCache = hash = Compute(expr);
        return hash;
    }

    private static ulong Compute(Expr expr) => expr switch
    {
        Expr.Const c => Mix(0x01, DoubleBits(c.Value)),
        Expr.Var v => Mix(0x02, OfName(v.Name)),
        Expr.Unary u => Mix(Mix(0x03, u.Op.HashId), Of(u.Arg)),
        Expr.Binary b => Mix(Mix(Mix(0x04, b.Op.HashId), Of(b.Left)), Of(b.Right)),
        Expr.Ema e => Mix(Mix(Mix(0x05, DoubleBits(e.Beta)), e.BiasCorrected ? 1UL : 0UL), Of(e.Arg)),
        Expr.Lag l => Mix(Mix(0x06, (ulong)(uint)l.Steps), Of(l.Arg)),
        _ => throw new InvalidOperationException("unknown node"),
    };

    /// <summary>The bits of <paramref name="x"/> with the values record equality holds equal made equal: ±0.0 as 0.0,
    /// every NaN as one.</summary>
    internal static ulong DoubleBits(double x) =>
        x == 0.0 ? 0UL : double.IsNaN(x) ? 0x7FF8_0000_0000_0000UL : (ulong)BitConverter.DoubleToInt64Bits(x);

    private static ulong OfName(string name)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL; // FNV-1a over UTF-16 code units, then finalised
        foreach (char ch in name) h = (h ^ ch) * 0x0000_0100_0000_01B3UL;
        return Finalise(h ^ (ulong)name.Length);
    }

    private static ulong Mix(ulong seed, ulong value) =>
        Finalise(BitOperations.RotateLeft(seed, 23) * 0x9E37_79B9_7F4A_7C15UL ^ value);

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
