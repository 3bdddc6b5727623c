using System.Numerics;

namespace L2OEvolve.Engine.Random;

/// <summary>The complete state of an <see cref="Rng"/>: four words, so it can be checkpointed and restored exactly.</summary>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3);

/// <summary>
/// A small, fast, explicitly passed random generator (xoshiro256**). There is no global instance: every function
/// that draws takes <c>ref Rng</c>, and parallel work uses <see cref="Fork"/> so results do not depend on scheduling.
/// </summary>
public struct Rng
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Seeds the generator by running SplitMix64 over <paramref name="seed"/>, as the xoshiro authors advise.</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>Restores a generator from a saved state.</summary>
    public Rng(RngState state)
    {
        (_s0, _s1, _s2, _s3) = (state.S0, state.S1, state.S2, state.S3);
        if ((_s0 | _s1 | _s2 | _s3) == 0) throw new ArgumentException("an all-zero xoshiro state never leaves zero", nameof(state));
    }

    /// <summary>The current state; a generator rebuilt from it continues with the same draws.</summary>
    public readonly RngState State => new(_s0, _s1, _s2, _s3);

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="n"/>), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        ulong bound = (ulong)n;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong hi = Math.BigMul(NextUInt64(), bound, out ulong lo);
            if (lo >= threshold) return (int)hi;
        }
    }

    /// <summary>Uniform integer in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public int NextInt(int lo, int hi) => lo + NextInt(hi - lo);

    /// <summary>Standard normal draw (Box-Muller; one value per call keeps the state a pure function of draws).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool NextBool(double p = 0.5) => NextDouble() < p;

    /// <summary>
    /// A new independent generator for stream <paramref name="stream"/>, derived from this one's current state
    /// without advancing it: the same parent state and stream always give the same child.
    /// </summary>
    public readonly Rng Fork(ulong stream)
    {
        ulong x = _s0 ^ BitOperations.RotateLeft(_s1, 17) ^ BitOperations.RotateLeft(_s2, 31) ^ BitOperations.RotateLeft(_s3, 47);
        x ^= 0x9E3779B97F4A7C15UL * (stream + 1);
        return new Rng(SplitMix64(ref x));
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
