using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class ConstraintsTests
{
    private static Expr Exp(Expr e) => new Expr.Unary(Op.Exp, e);

    [Test]
    public void Satisfied_NestedExpForbidden_RejectsExpInsideExp()
    {
        var g = SearchTestKit.Arithmetic(15, new NestingRule("exp", "exp", 0));
        Assert.That(Constraints.Satisfied(Exp(new Expr.Var("x0")), g), Is.True);
        Assert.That(Constraints.Satisfied(Exp(new Expr.Unary(Op.Cos, Exp(new Expr.Var("x0")))), g), Is.False);
    }

    [Test]
    public void Satisfied_MaxCountOne_AllowsOneLevelButNotTwo()
    {
        var g = SearchTestKit.Arithmetic(15, new NestingRule("cos", "cos", 1));
        var x = new Expr.Var("x0");
        Assert.That(Constraints.Satisfied(new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, x)), g), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, x))), g), Is.False);
    }

    [Test]
    public void Satisfied_SizeDepthFeaturesAndStatefulRanges_AreChecked()
    {
        var g = SearchTestKit.Arithmetic(maxSize: 3);
        var x = new Expr.Var("x0");
        Assert.That(Constraints.Satisfied(new Expr.Binary(Op.Add, x, x), g), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Binary(Op.Add, x, new Expr.Unary(Op.Neg, x)), g), Is.False, "size 4 > 3");
        Assert.That(Constraints.Satisfied(new Expr.Var("nope"), g), Is.False, "unknown feature");
        Assert.That(Constraints.Satisfied(new Expr.Ema(0.9, false, x), g), Is.False, "grammar has no ema");
        var s = SearchTestKit.Stateful();
        Assert.That(Constraints.Satisfied(new Expr.Lag(5, new Expr.Var("g")), s), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Lag(6, new Expr.Var("g")), s), Is.False, "beyond MaxLag");
    }

    [Test]
    public void Generator_WithNestingRule_NeverProducesForbiddenNesting()
    {
        var g = SearchTestKit.Arithmetic(25, new NestingRule("exp", "exp", 0), new NestingRule("cos", "exp", 0));
        var rng = new Rng(11);
        for (int i = 0; i < 300; i++)
        {
            var tree = TreeGenerator.Grow(ref rng, g, 20, 8);
            Assert.That(Constraints.NestingSatisfied(tree, g), Is.True, tree.ToString());
        }
    }
}
