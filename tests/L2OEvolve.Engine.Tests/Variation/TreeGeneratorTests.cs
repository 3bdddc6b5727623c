using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class TreeGeneratorTests
{
    [Test]
    public void Grow_TargetSizeWithRoomyDepth_HitsTheSizeExactly()
    {
        var g = SearchTestKit.Arithmetic(40);
        var rng = new Rng(1);
        for (int size = 1; size <= 20; size++)
            Assert.That(Trees.Size(TreeGenerator.Grow(ref rng, g, size, 30)), Is.EqualTo(size));
    }

    [Test]
    public void Grow_DepthLimit_IsRespected()
    {
        var g = SearchTestKit.Arithmetic(40);
        var rng = new Rng(2);
        for (int i = 0; i < 200; i++) Assert.That(Trees.Depth(TreeGenerator.Grow(ref rng, g, 30, 4)), Is.LessThanOrEqualTo(4));
    }

    [Test]
    public void Ramped_ManyDraws_AllSatisfyTheGrammarAndVaryInSize()
    {
        var g = SearchTestKit.Arithmetic(10);
        var rng = new Rng(3);
        var sizes = new HashSet<int>();
        for (int i = 0; i < 300; i++)
        {
            var tree = TreeGenerator.Ramped(ref rng, g, 10);
            Assert.That(Constraints.Satisfied(tree, g), Is.True);
            sizes.Add(Trees.Size(tree));
        }
        Assert.That(sizes.Count, Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public void Grow_StatefulGrammar_DrawsEmaAndLagWithinTheirRanges()
    {
        var g = SearchTestKit.Stateful();
        var rng = new Rng(4);
        int emas = 0, lags = 0;
        for (int i = 0; i < 300; i++)
        {
            var tree = TreeGenerator.Grow(ref rng, g, 6, 8);
            foreach (int p in Trees.Positions(tree, n => n is Expr.Ema or Expr.Lag))
            {
                switch (Trees.NodeAt(tree, p))
                {
                    case Expr.Ema e: emas++; Assert.That(e.Beta, Is.InRange(0.5, 0.99)); break;
                    case Expr.Lag l: lags++; Assert.That(l.Steps, Is.InRange(1, 5)); break;
                }
            }
        }
        Assert.That(emas, Is.GreaterThan(0));
        Assert.That(lags, Is.GreaterThan(0));
    }

    [Test]
    public void Grow_SameSeed_SameTree()
    {
        var g = SearchTestKit.Arithmetic();
        var a = new Rng(9);
        var b = new Rng(9);
        Assert.That(TreeGenerator.Grow(ref a, g, 12, 8), Is.EqualTo(TreeGenerator.Grow(ref b, g, 12, 8)));
    }
}
