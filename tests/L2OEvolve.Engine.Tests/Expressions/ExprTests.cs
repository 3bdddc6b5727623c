using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

public class ExprTests
{
    // (x + 2) * tanh(ema(0.9, g)): preorder Mul, Add, x, 2, tanh, ema, g
    private static readonly Expr Sample = Infix.Parse("(x + 2) * tanh(ema(0.9, g))");

    [Test]
    public void Size_CountsEveryNodeOnce() => Assert.That(Sample.Size(), Is.EqualTo(7));

    [Test]
    public void Size_PySrHallOfFameEquation_MatchesItsComplexity()
    {
        // Complexity is the node count (docs/symbolic-l2o.md, 'Symbolic regression'); mult(plus(g0, -0.0036), t) has complexity 5.
        Assert.That(Infix.Parse("mult(plus(g0, -0.0036), t)").Size(), Is.EqualTo(5));
    }

    [Test]
    public void Depth_LeafIsOne_SampleIsFour()
    {
        Assert.That(new Var("x").Depth(), Is.EqualTo(1));
        Assert.That(Sample.Depth(), Is.EqualTo(4));
    }

    [Test]
    public void Complexity_UsesGrammarWeights()
    {
        var grammar = new Grammar("t", ["x", "g"], [new OpSpec(Op.Mul, 1), new OpSpec(Op.Add, 1), new OpSpec(Op.Tanh, 3)],
            new ConstantSpec(Complexity: 2), new StatefulSpec(Ema: true, Complexity: 4), 20, 10, [], 0, "");
        // Mul 1 + Add 1 + x 1 + const 2 + tanh 3 + ema 4 + g 1
        Assert.That(Sample.Complexity(grammar), Is.EqualTo(13));
    }

    [Test]
    public void NodeAt_PreorderIndices_ReturnNodes()
    {
        Assert.That(Sample.NodeAt(0), Is.SameAs(Sample));
        Assert.That(Sample.NodeAt(2), Is.EqualTo(new Var("x")));
        Assert.That(Sample.NodeAt(3), Is.EqualTo(new Const(2)));
        Assert.That(Sample.NodeAt(5), Is.InstanceOf<Ema>());
        Assert.That(Sample.NodeAt(6), Is.EqualTo(new Var("g")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample.NodeAt(7));
    }

    [Test]
    public void ReplaceAt_RebuildsOnlyRootPath()
    {
        var edited = (Binary)Sample.ReplaceAt(3, new Var("y"));
        var original = (Binary)Sample;
        Assert.That(edited.ToString(), Is.EqualTo("(x + y) * tanh(ema(0.9, g))"));
        Assert.That(edited.Right, Is.SameAs(original.Right));
        Assert.That(((Binary)edited.Left).Left, Is.SameAs(((Binary)original.Left).Left));
    }

    [Test]
    public void ReplaceAt_SameNode_ReturnsSameInstance()
    {
        var node = Sample.NodeAt(4);
        Assert.That(Sample.ReplaceAt(4, node), Is.SameAs(Sample));
    }

    [Test]
    public void ReplaceAt_EveryIndexOfRandomTrees_AgreesWithNodeAt()
    {
        var rng = new Rng(7);
        for (int i = 0; i < 200; i++)
        {
            var e = TestTrees.Random(ref rng, 15);
            int size = e.Size();
            Assert.That(e.Preorder().Count(), Is.EqualTo(size));
            for (int k = 0; k < size; k++)
            {
                var marker = new Var("marker");
                var edited = e.ReplaceAt(k, marker);
                Assert.That(edited.NodeAt(k), Is.SameAs(marker));
                Assert.That(edited.Size(), Is.EqualTo(size - e.NodeAt(k).Size() + 1));
                Assert.That(e.NodeAt(k), Is.SameAs(e.Preorder().ElementAt(k)));
            }
        }
    }

    [Test]
    public void Map_IdentityFunction_ReturnsSameInstance() =>
        Assert.That(Sample.Map(n => n), Is.SameAs(Sample));

    [Test]
    public void Map_RenamesVariables()
    {
        var renamed = Sample.Map(n => n is Var { Name: "x" } ? new Var("w") : n);
        Assert.That(renamed.ToString(), Is.EqualTo("(w + 2) * tanh(ema(0.9, g))"));
    }

    [Test]
    public void Fold_CountsLeaves() =>
        Assert.That(Sample.Fold<int>((n, kids) => kids.Count == 0 ? 1 : kids.Sum()), Is.EqualTo(3));

    [Test]
    public void Variables_DistinctInFirstAppearanceOrder() =>
        Assert.That(Infix.Parse("y * x + y + g").Variables(), Is.EqualTo(new[] { "y", "x", "g" }));

    [Test]
    public void Constants_PreorderValues_WithConstantsReplacesThem()
    {
        var e = Infix.Parse("1.5 * x + pow(y, 2) - 3");
        Assert.That(e.Constants(), Is.EqualTo(new[] { 1.5, 2, 3 }));
        var updated = e.WithConstants([0.5, 4, 1]);
        Assert.That(updated.ToString(), Is.EqualTo("0.5 * x + pow(y, 4) - 1"));
        Assert.That(e.WithConstants([1.5, 2, 3]), Is.SameAs(e));
        Assert.Throws<ArgumentException>(() => e.WithConstants([1.0]));
        Assert.Throws<ArgumentException>(() => e.WithConstants([1.0, 2, 3, 4]));
    }

    [Test]
    public void Constants_IncludingBetas_InterleavesEmaBetasInPreorder()
    {
        var e = Infix.Parse("2 * ema(0.9, g) + ema_bc(0.99, 3 * g)");
        Assert.That(e.Constants(includeBetas: true), Is.EqualTo(new[] { 2, 0.9, 0.99, 3 }));
        var updated = e.WithConstants([1, 0.5, 0.95, 4], includeBetas: true);
        Assert.That(updated.ToString(), Is.EqualTo("1 * ema(0.5, g) + ema_bc(0.95, 4 * g)"));
        Assert.That(e.WithConstants([2, 0.9, 0.99, 3], includeBetas: true), Is.SameAs(e));
    }

    [Test]
    public void IsStateful_DetectsEmaAndLag()
    {
        Assert.That(Sample.IsStateful, Is.True);
        Assert.That(Infix.Parse("x + lag(2, y)").IsStateful, Is.True);
        Assert.That(Infix.Parse("x + y").IsStateful, Is.False);
    }
}
