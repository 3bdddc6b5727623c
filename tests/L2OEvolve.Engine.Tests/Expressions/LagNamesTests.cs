using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Tests.Expressions;

public class LagNamesTests
{
    [TestCase("g", "g", 0)]
    [TestCase("g0", "g", 0)]
    [TestCase("g19", "g", 19)]
    [TestCase("g_4", "g", 4)]
    [TestCase("mt_1", "mt", 1)]
    [TestCase("mom9", "mom9", 0)]
    [TestCase("mom55", "mom5", 5)]
    [TestCase("mom99_12", "mom99", 12)]
    public void TryParse_LagColumn_SplitsBaseAndLag(string name, string expectedBase, int expectedLag)
    {
        Assert.That(LagNames.TryParse(name, RuleFeatures.Names, out var b, out int k), Is.True);
        Assert.That((b, k), Is.EqualTo((expectedBase, expectedLag)));
    }

    [TestCase("ilayer")]
    [TestCase("mean_g2")]
    [TestCase("gx")]
    public void TryParse_OtherName_IsFalse(string name) =>
        Assert.That(LagNames.TryParse(name, RuleFeatures.Names, out _, out _), Is.False);

    [TestCase("mom53", "mom5", "3")]
    [TestCase("mt_1", "mt", "1")]
    [TestCase("mp2h0", "mp2h", "0")]
    [TestCase("x12", "x", "12")]
    public void TrySubscript_Name_SplitsAsTheLagConventionThenLettersAndDigits(string name, string expectedBase, string expectedIndex)
    {
        Assert.That(LagNames.TrySubscript(name, RuleFeatures.Names, out var b, out var index), Is.True);
        Assert.That((b, index), Is.EqualTo((expectedBase, expectedIndex)));
    }

    [Test]
    public void TrySubscript_PlainName_IsFalse() => Assert.That(LagNames.TrySubscript("mom5", RuleFeatures.Names, out _, out _), Is.False);

    [Test]
    public void ToLagNodes_ThenToLagColumns_RoundTrips()
    {
        var columns = Infix.Parse("g0 + 0.5 * g3 - mom5_2 * mean_g");
        var nodes = LagNames.ToLagNodes(columns, RuleFeatures.Names);
        Assert.That(nodes.ToString(), Is.EqualTo("g + 0.5 * lag(3, g) - lag(2, mom5) * mean_g"));
        Assert.That(LagNames.ToLagColumns(nodes).ToString(), Is.EqualTo("g + 0.5 * g3 - mom5_2 * mean_g"));
    }
}
