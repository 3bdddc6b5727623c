using System.Runtime.Intrinsics;
using L2OEvolve.Torch.Teachers;

namespace L2OEvolve.Torch.Tests.Teachers;

public class LstmMathTests
{
    private static IEnumerable<float> Inputs()
    {
        var rng = new System.Random(1);
        for (int i = 0; i < 20000; i++) yield return (float)(rng.NextDouble() * 180 - 90);
        for (int i = 0; i < 2000; i++) yield return (float)((rng.NextDouble() * 2 - 1) * 1e-3);
        foreach (var x in new[] { 0f, -0f, 1e-30f, -1e-30f, 80f, -80f, 79.99f, 88.7f, -87.3f, 200f, -200f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity })
            yield return x;
    }

    private static float[] VectorSigmoid(float[] xs)
    {
        var ys = new float[xs.Length];
        for (int i = 0; i + 8 <= xs.Length; i += 8)
            LstmMath.Sigmoid(Vector256.Create(xs, i)).CopyTo(ys, i);
        return ys;
    }

    // Exp's last step y·2^k runs as one scaling instruction on vectors where AVX-512 runs and as a multiplication on
    // scalars: both exact over the clamped range, so every lane must equal the scalar, down to σ's tiny e^−80.
    [Test]
    public void Exp_EightAndSixteenLanes_BitIdenticalToScalar()
    {
        var xs = Inputs().Take(22000).Append(float.NaN).ToArray();
        var v8 = new float[8];
        var v16 = new float[16];
        bool wide = Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            LstmMath.Exp(Vector256.Create(xs, i)).CopyTo(v8);
            LstmMath.Exp(Vector256.Create(xs, i + 8)).CopyTo(v16, 8);
            v8.CopyTo(v16, 0);
            for (int j = 0; j < 16; j++)
                Assert.That(BitConverter.SingleToInt32Bits(v16[j]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Exp(xs[i + j]))), $"8 lanes, x = {xs[i + j]:R}");
            if (!wide) continue;
            LstmMath.Exp(Vector512.Create(xs, i)).CopyTo(v16);
            for (int j = 0; j < 16; j++)
                Assert.That(BitConverter.SingleToInt32Bits(v16[j]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Exp(xs[i + j]))), $"16 lanes, x = {xs[i + j]:R}");
        }
        Assert.That(float.IsNaN(LstmMath.Exp(Vector256.Create(float.NaN))[3]), Is.True);
    }

    [Test]
    public void Sigmoid_VectorLanes_BitIdenticalToScalar()
    {
        var xs = Inputs().Take(22008).ToArray();
        var vs = VectorSigmoid(xs);
        for (int i = 0; i < xs.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(vs[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Sigmoid(xs[i]))), $"x = {xs[i]:R}");
    }

    [Test]
    public void Sigmoid_SixteenLanes_BitIdenticalToScalar()
    {
        Assume.That(Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "no AVX-512 here");
        var xs = Inputs().Take(22000).ToArray();
        var v = new float[16];
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            LstmMath.Sigmoid(Vector512.Create(xs, i)).CopyTo(v);
            for (int j = 0; j < 16; j++)
                Assert.That(BitConverter.SingleToInt32Bits(v[j]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Sigmoid(xs[i + j]))), $"x = {xs[i + j]:R}");
        }
        Assert.That(float.IsNaN(LstmMath.Sigmoid(Vector512.Create(float.NaN))[5]), Is.True);
    }

    // 43 = 2·16 + 8 + 3: the 16-lane, 8-lane and scalar paths in one call.
    [Test]
    public unsafe void SigmoidAndTanhInPlace_EveryPathGivesTheScalarBits()
    {
        var xs = Inputs().Skip(100).Take(43).ToArray();
        var s = (float[])xs.Clone();
        var t = (float[])xs.Clone();
        fixed (float* ps = s, pt = t)
        {
            LstmMath.SigmoidInPlace(ps, s.Length);
            LstmMath.TanhInPlace(pt, t.Length);
        }
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.That(BitConverter.SingleToInt32Bits(s[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Sigmoid(xs[i]))), $"σ({xs[i]:R})");
            Assert.That(BitConverter.SingleToInt32Bits(t[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(2f * LstmMath.Sigmoid(2f * xs[i]) - 1f)), $"tanh({xs[i]:R})");
        }
    }

    [Test]
    public unsafe void EluInPlace_EveryPathGivesTheScalarBits()
    {
        var xs = Inputs().Skip(300).Take(43).Select(x => x / 20).ToArray();
        var y = (float[])xs.Clone();
        fixed (float* p = y) LstmMath.EluInPlace(p, y.Length);
        for (int i = 0; i < xs.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(y[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(xs[i] > 0 ? xs[i] : LstmMath.Exp(xs[i]) - 1f)), $"elu({xs[i]:R})");
    }

    [Test]
    public unsafe void AddInPlace_EveryPath_AddsEachElementOnce()
    {
        // 43 = 16 + 16 + 8 + 3: the 16-lane, 8-lane and scalar loops, none of them overlapping.
        var xs = Inputs().Take(43).ToArray();
        var ys = Inputs().Skip(100).Take(43).ToArray();
        var sum = (float[])xs.Clone();
        fixed (float* p = sum, q = ys) LstmMath.AddInPlace(p, q, sum.Length);
        for (int i = 0; i < xs.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(sum[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(xs[i] + ys[i])), $"element {i}");
    }

    [Test]
    public void Exp_WithinTwoUlpOfTheExactValue_OnTheClampedRange()
    {
        var rng = new System.Random(2);
        for (int i = 0; i < 50000; i++)
        {
            float x = (float)(rng.NextDouble() * 160 - 80);
            double exact = Math.Exp(x);
            double ulp = MathF.BitIncrement((float)exact) - (float)exact;
            Assert.That(Math.Abs(LstmMath.Exp(x) - exact), Is.LessThanOrEqualTo(2 * ulp), $"x = {x:R}");
        }
    }

    [Test]
    public void Sigmoid_MatchesTheLogisticFunction_AndSaturatesToNormalFloats()
    {
        foreach (var x in Inputs().Where(float.IsFinite))
        {
            double exact = 1 / (1 + Math.Exp(-(double)Math.Clamp(x, -80f, 80f)));
            float s = LstmMath.Sigmoid(x);
            Assert.That(Math.Abs(s - exact), Is.LessThanOrEqualTo(3e-7 * exact + 1e-45), $"x = {x:R}");
            Assert.That(s == 0 || float.IsNormal(s), Is.True, $"σ({x:R}) = {s:R} is subnormal");
        }
        Assert.That(LstmMath.Sigmoid(float.PositiveInfinity), Is.EqualTo(1f));
        Assert.That(LstmMath.Sigmoid(float.NegativeInfinity), Is.GreaterThan(0f).And.LessThan(1e-30f));
    }

    [Test]
    public void Sigmoid_NaN_StaysNaN_InScalarAndVector()
    {
        Assert.That(float.IsNaN(LstmMath.Sigmoid(float.NaN)), Is.True);
        Assert.That(float.IsNaN(LstmMath.Sigmoid(Vector256.Create(float.NaN))[3]), Is.True);
    }

    [Test]
    public unsafe void SigmoidInPlace_LengthNotAMultipleOfTheVector_TailGivesTheSameBits()
    {
        var xs = Inputs().Take(19).ToArray();
        var ys = (float[])xs.Clone();
        fixed (float* p = ys) LstmMath.SigmoidInPlace(p, ys.Length);
        for (int i = 0; i < xs.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(ys[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(LstmMath.Sigmoid(xs[i]))));
    }
}
