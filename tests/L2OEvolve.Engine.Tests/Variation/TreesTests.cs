using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class TreesTests
{
    private static readonly Expr Sample = new Expr.Binary(Op.Add,
        new Expr.Unary(Op.Cos, new Expr.Var("x0")),
        new Expr.Binary(Op.Mul, new Expr.Const(2), new Expr.Var("x1")));

    [Test]
    public void SizeAndDepth_SampleTree_CountNodesAndLevels()
    {
        Assert.That(Trees.Size(Sample), Is.EqualTo(6));
        Assert.That(Trees.Depth(Sample), Is.EqualTo(3));
    }

    [Test]
    public void NodeAt_PreorderPositions_VisitRootThenLeftThenRight()
    {
        Assert.That(Trees.NodeAt(Sample, 0), Is.SameAs(Sample));
        Assert.That(Trees.NodeAt(Sample, 2), Is.EqualTo(new Expr.Var("x0")));
        Assert.That(Trees.NodeAt(Sample, 4), Is.EqualTo(new Expr.Const(2)));
        Assert.That(Trees.NodeAt(Sample, 5), Is.EqualTo(new Expr.Var("x1")));
    }

    [Test]
    public void ReplaceAt_OneLeaf_SharesTheUntouchedSubtree()
    {
        var edited = (Expr.Binary)Trees.ReplaceAt(Sample, 5, new Expr.Var("x2"));
        Assert.That(edited.Left, Is.SameAs(((Expr.Binary)Sample).Left));
        Assert.That(Trees.NodeAt(edited, 5), Is.EqualTo(new Expr.Var("x2")));
        Assert.That(Trees.NodeAt(Sample, 5), Is.EqualTo(new Expr.Var("x1")), "the input is unchanged");
    }

    [Test]
    public void ReplaceAt_EveryPosition_AgreesWithNodeAt()
    {
        var rng = new Rng(3);
        var g = SearchTestKit.Arithmetic();
        for (int t = 0; t < 50; t++)
        {
            var tree = TreeGenerator.Grow(ref rng, g, 12, 8);
            for (int p = 0; p < Trees.Size(tree); p++)
            {
                var marker = new Expr.Var("marker");
                Assert.That(Trees.NodeAt(Trees.ReplaceAt(tree, p, marker), p), Is.SameAs(marker));
            }
        }
    }

    [Test]
    public void Complexity_GrammarWeights_AreSummed()
    {
        var g = SearchTestKit.Arithmetic() with { Ops = [new(Op.Add), new(Op.Mul, 3), new(Op.Cos, 2)] };
        Assert.That(Trees.Complexity(Sample, g), Is.EqualTo(1 + 2 + 1 + 3 + 1 + 1));
    }
}
