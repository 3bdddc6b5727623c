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
        Assert.That(LagNames.TryParse(name, LagNames.RuntimeBases, out var b, out int k), Is.True);
        Assert.That((b, k), Is.EqualTo((expectedBase, expectedLag)));
    }

    [TestCase("ilayer")]
    [TestCase("mean_g2")]
    [TestCase("gx")]
    public void TryParse_OtherName_IsFalse(string name) =>
        Assert.That(LagNames.TryParse(name, LagNames.RuntimeBases, out _, out _), Is.False);

    [Test]
    public void ToLagNodes_ThenToLagColumns_RoundTrips()
    {
        var columns = Infix.Parse("g0 + 0.5 * g3 - mom5_2 * mean_g");
        var nodes = LagNames.ToLagNodes(columns, LagNames.RuntimeBases);
        Assert.That(nodes.ToString(), Is.EqualTo("g + 0.5 * lag(3, g) - lag(2, mom5) * mean_g"));
        Assert.That(LagNames.ToLagColumns(nodes).ToString(), Is.EqualTo("g + 0.5 * g3 - mom5_2 * mean_g"));
    }
}
