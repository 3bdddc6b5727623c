using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Engine.Tests.Regression;

public class EquationsTests
{
    [TestCase("-0.5 * mt0", "-0.5 * mt0")]
    [TestCase("mult(plus(g0, -0.0036), t)", "(g0 + -0.0036) * t")]
    public void Parse_InfixOrPySrPrefix_GivesTheSameTreeAsInfix(string text, string infix) =>
        Assert.That(Equations.Parse(text, "--equation"), Is.EqualTo(Infix.Parse(infix)));

    [Test]
    public void Parse_Neither_FailsNamingTheOptionAndTheInfixFault()
    {
        var e = Assert.Throws<InputException>(() => Equations.Parse("x +* y", "--warm-start"));
        Assert.That(e!.Message, Does.StartWith("--warm-start: "));
    }
}
