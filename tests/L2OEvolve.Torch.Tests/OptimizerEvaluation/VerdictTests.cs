using L2OEvolve.Torch.OptimizerEvaluation;

namespace L2OEvolve.Torch.Tests.OptimizerEvaluation;

public class VerdictTests
{
    private static readonly double[] Adam = [0.50, 0.52, 0.48, 0.51, 0.49, 0.50, 0.53, 0.47, 0.50, 0.50];

    [Test]
    public void LowerOnEverySeed_WithinOneStd_Beats()
    {
        var rule = Adam.Select(x => x - 0.01).ToArray();
        var v = Verdict.Of(rule, Adam);
        Assert.That(v.Kind, Is.EqualTo(VerdictKind.Beats));
        Assert.That(v.Wins, Is.EqualTo(10));
        Assert.That(v.Phrase("Adam"), Is.EqualTo("beats Adam (within one std, but lower on 10 of 10 seeds)"));
    }

    [Test]
    public void LowerByMoreThanOneStd_BeatsByKStd()
    {
        var v = Verdict.Of(Adam.Select(x => x - 0.1).ToArray(), Adam);
        Assert.That(v.Kind, Is.EqualTo(VerdictKind.Beats));
        Assert.That(v.Phrase("Adam"), Does.StartWith("beats Adam by").And.Contain("std"));
    }

    [Test]
    public void MixedWithinOneStd_Ties()
    {
        var rule = Adam.Select((x, i) => i % 2 == 0 ? x - 0.005 : x + 0.006).ToArray();
        var v = Verdict.Of(rule, Adam);
        Assert.That(v.Kind, Is.EqualTo(VerdictKind.Ties));
        Assert.That(v.Phrase("Adam"), Does.StartWith("ties Adam within one std; lower on 5 of 10 seeds"));
    }

    [Test]
    public void FarHigher_LosesByKStd()
    {
        // The mistake this guards against: 0.818 against 0.473 ± 0.032 is a loss by about ten std, not a near miss.
        var adam = new[] { 0.44, 0.47, 0.50, 0.43, 0.48, 0.51, 0.46, 0.49, 0.47, 0.48 };
        var rule = adam.Select(x => x + 0.345).ToArray();
        var v = Verdict.Of(rule, adam);
        Assert.That(v.Kind, Is.EqualTo(VerdictKind.Loses));
        Assert.That(v.Gap, Is.GreaterThan(9));
        Assert.That(v.Phrase("Adam"), Does.StartWith($"loses to Adam by {v.Gap:0.#} std"));
        Assert.That(v.Wins, Is.EqualTo(0));
    }

    [Test]
    public void DivergingWhereAdamDoesNot_Loses()
    {
        var rule = Adam.Select((x, i) => i == 3 ? double.NaN : x - 0.05).ToArray();
        var v = Verdict.Of(rule, Adam);
        Assert.That(v.Kind, Is.EqualTo(VerdictKind.Loses));
        Assert.That(v.Phrase("Adam"), Does.Contain("diverged"));
    }

    [Test]
    public void UnpairedLists_AreRejected() =>
        Assert.Throws<ArgumentException>(() => Verdict.Of([1.0, 2.0], [1.0]));
}
