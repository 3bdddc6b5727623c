using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.Expressions.Operators;

public class PowersTests
{
    private static float[] Bases()
    {
        var rng = new Rng(5);
        // Magnitudes: the kernel is given |x| (never -0).
        var list = new List<float> { 0f, float.Epsilon, 1e-40f, 1e-30f, 1f, 2f, 0.5f, 10f, 1e30f, float.MaxValue, float.PositiveInfinity, float.NaN };
        for (int i = 0; i < 3000; i++) list.Add((float)Math.Exp(rng.NextDouble() * 120 - 60)); // magnitudes 1e-26 .. 1e26
        return [.. list];
    }

    [TestCase(2f)]
    [TestCase(0.5f)]
    [TestCase(2.5f)]
    [TestCase(1f / 3)]
    [TestCase(0.4f)]
    [TestCase(3f)]
    [TestCase(4f)]
    [TestCase(1f)]
    [TestCase(-1f)]
    [TestCase(-2.5f)]
    [TestCase(7.3f)]
    [TestCase(0f)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    [TestCase(float.NaN)]
    public void MagnitudePower_AnyExponent_IsWithinAnUlpOfPowf(float y)
    {
        var a = Bases();
        var d = new float[a.Length];
        PowOp.MagnitudePower(a, y, d);
        for (int i = 0; i < a.Length; i++)
        {
            float want = MathF.Pow(a[i], y);
            if (float.IsNaN(want) || float.IsInfinity(want) || want == 0f)
                Assert.That(d[i], Is.EqualTo(want), $"{a[i]}^{y}"); // NaN equals NaN here; 0 and ∞ exactly
            else
                Assert.That(Math.Abs(BitConverter.SingleToInt32Bits(d[i]) - BitConverter.SingleToInt32Bits(want)), Is.LessThanOrEqualTo(1), $"{a[i]}^{y}: {d[i]} vs {want}");
        }
    }

    [Test]
    public void MagnitudePower_InPlace_GivesTheSameValues()
    {
        var a = Bases();
        var expected = new float[a.Length];
        PowOp.MagnitudePower(a, 2.5f, expected);
        PowOp.MagnitudePower(a, 2.5f, a);
        Assert.That(a, Is.EqualTo(expected));
    }
}
