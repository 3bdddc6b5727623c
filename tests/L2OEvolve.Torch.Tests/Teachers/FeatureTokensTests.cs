using L2OEvolve.Torch.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Teachers;

public class FeatureTokensTests
{
    [Test]
    public void Canonicalize_AnyOrder_GivesFixedOrder()
    {
        Assert.That(FeatureTokens.Canonicalize(["mom5", "g", "mt"]), Is.EqualTo(new[] { "mt", "g", "mom5" }));
    }

    [Test]
    public void Parse_Magic1_ExpandsToThreeNorms()
    {
        Assert.That(FeatureTokens.Parse("magic1"), Is.EqualTo(new[] { "mp2", "mp3", "mp4" }));
    }

    [Test]
    public void Parse_UnknownToken_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => FeatureTokens.Parse("mt+adam"));
        Assert.That(ex!.Message, Does.Contain("'adam'"));
    }

    [TestCase("g0", "g", 0)]
    [TestCase("mom53", "mom5", 3)]
    [TestCase("mom9912", "mom99", 12)]
    [TestCase("mt_7", "mt", 7)]
    [TestCase("mp2h0", "mp2h", 0)]
    public void TryParseLagged_Column_GivesBaseAndLag(string column, string token, int lag)
    {
        Assert.That(FeatureTokens.TryParseLagged(column, out var t, out var l), Is.True);
        Assert.That((t, l), Is.EqualTo((token, lag)));
    }

    [Test]
    public void TryParseLagged_NoLag_IsFalse() => Assert.That(FeatureTokens.TryParseLagged("mt", out _, out _), Is.False);

    [Test]
    public void Step_TwoSteps_MatchesSpecFormulas()
    {
        using var scope = NewDisposeScope();
        var fc = new FeatureComputer(["mt", "gt", "g", "mom5", "mom9", "mom99", "t", "mp2", "m", "vs"], 0.95, 0.95);
        var s = fc.Initial(1, CPU);
        var (_, s1) = fc.Step(tensor(new[] { 2f }), s, 1);
        var (f, _) = fc.Step(tensor(new[] { -1f }), s1, 2);
        double m = 0.95 * 0.05 * 2 + 0.05 * -1, v = 0.95 * 0.05 * 4 + 0.05 * 1;
        double mhat = m / (1 - 0.95 * 0.95), vs = Math.Sqrt(v / (1 - 0.95 * 0.95)) + 1e-12;
        double vp2 = v; // |g|² accumulates exactly like v
        var expected = new[]
        {
            mhat / vs, -1 / vs, -1, 0.5 * 0.5 * 2 - 0.5, 0.9 * 0.1 * 2 - 0.1, 0.99 * 0.01 * 2 - 0.01, 0.002,
            m / (Math.Sqrt(vp2 / (1 - 0.95 * 0.95)) + 1e-8), m, vs,
        };
        var got = f.data<float>().ToArray();
        Assert.That(got, Is.EqualTo(expected.Select(x => (float)x)).Within(1e-5));
    }
}
