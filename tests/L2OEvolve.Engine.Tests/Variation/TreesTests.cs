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

    [Test]
    public void CountAndNthPosition_RandomTrees_AgreeWithPositions()
    {
        var rng = new Rng(11);
        Func<Expr, bool>[] predicates = [n => n is Expr.Const, n => n is not (Expr.Const or Expr.Var), n => n is Expr.Binary, n => true];
        for (int t = 0; t < 200; t++)
        {
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 1 + t % 25);
            foreach (var p in predicates)
            {
                var positions = Trees.Positions(tree, p);
                Assert.That(Trees.Count(tree, p), Is.EqualTo(positions.Count));
                Assert.That(Enumerable.Range(0, positions.Count).Select(i => Trees.NthPosition(tree, p, i)), Is.EqualTo(positions));
                Assert.That(Trees.NthPosition(tree, p, positions.Count), Is.EqualTo(-1));
            }
        }
    }

    [Test]
    public void TunableAndNumberCount_RandomStatefulTrees_CountWhatTheirPredicatesMatch()
    {
        var rng = new Rng(12);
        for (int t = 0; t < 300; t++)
        {
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 1 + t % 25);
            Assert.That(Trees.TunableCount(tree), Is.EqualTo(Trees.Count(tree, n => n is Expr.Const or Expr.Ema)), tree.ToString());
            Assert.That(Trees.NumberCount(tree), Is.EqualTo(Trees.Count(tree, n => n is Expr.Const or Expr.Ema or Expr.Lag)), tree.ToString());
        }
        var stateful = new Expr.Lag(2, new Expr.Ema(0.9, true, new Expr.Binary(Op.Mul, new Expr.Const(3), new Expr.Var("g"))));
        Assert.That((Trees.TunableCount(stateful), Trees.NumberCount(stateful)), Is.EqualTo((2, 3)));
    }

    [Test]
    public void RandomPosition_DrawsAsIndexingPositionsWould_AndNothingWhenNoneMatch()
    {
        var (a, b) = (new Rng(3), new Rng(3));
        for (int i = 0; i < 50; i++)
        {
            var positions = Trees.Positions(Sample, n => n is Expr.Var or Expr.Const);
            Assert.That(Trees.RandomPosition(ref a, Sample, n => n is Expr.Var or Expr.Const), Is.EqualTo(positions[b.NextInt(positions.Count)]));
        }
        var before = a.State;
        Assert.That(Trees.RandomPosition(ref a, Sample, n => n is Expr.Ema), Is.EqualTo(-1));
        Assert.That(a.State, Is.EqualTo(before), "no draw when nothing matches");
    }

    /// <summary>A test whose counts are never kept, so the walk is taken.</summary>
    private readonly struct WalkedLeaf : Trees.INodeTest
    {
        public static bool Test(Expr n) => n is Expr.Var or Expr.Const;
        public static int CountIn(Expr e) => -1;
    }

    [Test]
    public void RandomPositionOfATestType_RandomTrees_DrawsAsTheDelegateVersion()
    {
        // Each mutation's node test, counted from the nodes' kept facts and found by going down one path, must draw
        // exactly as counting and finding with the predicate would (and so must the walk for counts not kept).
        var cases = new (Func<Rng, Expr, (int, Rng)> Typed, Func<Expr, bool> Predicate)[]
        {
            ((r, e) => (Trees.RandomPosition<Mutations.MovableNumber>(ref r, e), r), n => n is Expr.Const or Expr.Ema or Expr.Lag { Steps: > 1 }),
            ((r, e) => (Trees.RandomPosition<Mutations.OperatorNode>(ref r, e), r), n => n is Expr.Unary or Expr.Binary),
            ((r, e) => (Trees.RandomPosition<Mutations.FeatureLeaf>(ref r, e), r), n => n is Expr.Var),
            ((r, e) => (Trees.RandomPosition<Mutations.BinaryNode>(ref r, e), r), n => n is Expr.Binary),
            ((r, e) => (Trees.RandomPosition<Mutations.InnerNode>(ref r, e), r), n => n is not (Expr.Const or Expr.Var)),
            ((r, e) => (Trees.RandomPosition<WalkedLeaf>(ref r, e), r), n => n is Expr.Var or Expr.Const),
        };
        var rng = new Rng(29);
        var draws = new Rng(30);
        var found = new int[cases.Length];
        for (int t = 0; t < 3000; t++)
        {
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 1 + t % 20);
            int c = t % cases.Length;
            var (typed, after) = cases[c].Typed(draws, tree);
            var expected = draws;
            int byDelegate = Trees.RandomPosition(ref expected, tree, cases[c].Predicate);
            Assert.That(typed, Is.EqualTo(byDelegate), $"case {c}: {tree}");
            Assert.That(after.State, Is.EqualTo(expected.State), "the same draws");
            draws = after;
            if (typed >= 0) found[c]++;
        }
        Assert.That(found[..^1], Has.All.InRange(50, 499), "each mutation's test finds nodes in some trees and none in others");
        Assert.That(found[^1], Is.EqualTo(500), "every tree has a leaf");
    }
}
