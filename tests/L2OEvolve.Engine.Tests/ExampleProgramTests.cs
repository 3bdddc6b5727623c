using L2OEvolve.Engine.Expressions;
using L2OEvolve.Example;

namespace L2OEvolve.Engine.Tests;

/// <summary>The example program (experiments/L2OEvolve.Example): the engine used from C# with a custom operator and fitness.</summary>
public class ExampleProgramTests
{
    [Test]
    public void Demo_SearchesWithItsOwnOperatorAndFitness_AndReportsAFiniteBest()
    {
        string report = Demo.Run(generations: 12);
        Assert.That(Ops.TryParse("softplus", out var op) && op is Softplus, "the custom operator is registered by name");
        Assert.That(report, Does.StartWith("best after 12 generations: ").And.Not.Contain("∞").And.Not.Contain("Infinity"));
        Assert.That(Demo.Run(generations: 12), Is.EqualTo(report), "seeded: the same search twice gives the same result");
    }
}
