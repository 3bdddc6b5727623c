using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Funnel;

namespace L2OEvolve.Torch.Tests.Funnel;

public class UpdateChecksTests
{
    [TestCase("-1 * mt0", true)]
    [TestCase("-0.5 * g + 0.1 * p", true)]
    [TestCase("sign(mom5_3)", true)]
    [TestCase("-0.01 * p", false)]
    [TestCase("0.2 * t", false)]
    [TestCase("1.5", false)]
    public void ReadsGradient_IsTrueWhenAGradientFeatureAppears(string rule, bool expected) =>
        Assert.That(UpdateChecks.ReadsGradient(Infix.Parse(rule)), Is.EqualTo(expected));

    [TestCase("-1 * mt0 + mt1", 0.0)]
    [TestCase("-2.37 * mt_0 + mt_1", 0.0)]
    [TestCase("tanh(-1.5 * mt0)", 0.0)]
    [TestCase("-1 * ema(0.9, g) / (sqrt(ema(0.999, g * g)) + 1e-8)", 0.0)]
    [TestCase("mt0 + 0.25", 0.25)]
    [TestCase("-1 * sign(g) + t", 1.0)]
    public void RestUpdate_IsTheLargestUpdateWithAZeroGradientHistory(string rule, double expected) =>
        Assert.That(UpdateChecks.RestUpdate(Infix.Parse(rule)), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void RestUpdate_TheDriftOfAnImitatedTeacher_IsLarge() =>
        Assert.That(UpdateChecks.RestUpdate(Infix.Parse("mt0 + sqrt(exp(tanh(gt0 + 0.41)))")), Is.GreaterThan(1));
}
