using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class MutationsTests
{
    private static readonly Expr X0 = new Expr.Var("x0");
    private static readonly Expr Sample = new Expr.Binary(Op.Add, new Expr.Unary(Op.Cos, X0), new Expr.Binary(Op.Mul, new Expr.Const(2), new Expr.Var("x1")));

    [Test]
    public void MutateConstant_OnlyConstantChanges_ShapeIsKept()
    {
        var rng = new Rng(1);
        var m = (Expr.Binary)Mutations.MutateConstant(ref rng, Sample, 1.0);
        Assert.That(m.Left, Is.SameAs(((Expr.Binary)Sample).Left));
        var c = (Expr.Const)((Expr.Binary)m.Right).Left;
        Assert.That(Math.Abs(c.Value), Is.InRange(1.0, 4.0).And.Not.EqualTo(2.0));
    }

    [Test]
    public void MutateConstant_NoTunableNumber_ReturnsTheInput()
    {
        var rng = new Rng(1);
        Assert.That(Mutations.MutateConstant(ref rng, X0, 1.0), Is.SameAs(X0));
    }

    [Test]
    public void MutateConstant_Ema_KeepsBetaInsideUnitInterval()
    {
        var rng = new Rng(2);
        Expr e = new Expr.Ema(0.999, false, new Expr.Var("g"));
        for (int i = 0; i < 200; i++)
        {
            e = Mutations.MutateConstant(ref rng, e, 3.0);
            Assert.That(((Expr.Ema)e).Beta, Is.GreaterThan(0).And.LessThan(1));
        }
    }

    [Test]
    public void MutateOperator_KeepsArityAndSize()
    {
        var g = SearchTestKit.Arithmetic();
        var rng = new Rng(3);
        for (int i = 0; i < 100; i++)
        {
            var m = Mutations.MutateOperator(ref rng, Sample, g);
            Assert.That(Trees.Size(m), Is.EqualTo(Trees.Size(Sample)));
            Assert.That(m, Is.Not.EqualTo(Sample));
        }
    }

    [Test]
    public void InsertNode_GrowsByOneOrTwo_AndDeleteNodeShrinks()
    {
        var g = SearchTestKit.Arithmetic();
        var rng = new Rng(4);
        for (int i = 0; i < 100; i++)
        {
            int grown = Trees.Size(Mutations.InsertNode(ref rng, Sample, g)) - Trees.Size(Sample);
            Assert.That(grown, Is.EqualTo(1).Or.EqualTo(2));
            Assert.That(Trees.Size(Mutations.DeleteNode(ref rng, Sample)), Is.LessThan(Trees.Size(Sample)));
        }
    }

    [Test]
    public void Hoist_ResultIsSmallerAndContainsOnlyOriginalLeaves()
    {
        var rng = new Rng(5);
        for (int i = 0; i < 50; i++)
        {
            var h = Mutations.Hoist(ref rng, Sample);
            Assert.That(Trees.Size(h), Is.LessThan(Trees.Size(Sample)));
        }
    }

    [Test]
    public void SwapOperands_SwapsTheChildrenOfABinaryNode()
    {
        var rng = new Rng(6);
        var s = Mutations.SwapOperands(ref rng, new Expr.Binary(Op.Sub, X0, new Expr.Const(1)));
        Assert.That(s, Is.EqualTo(new Expr.Binary(Op.Sub, new Expr.Const(1), X0)));
    }

    [Test]
    public void MutateFeature_ReplacesAFeatureWithADifferentOne()
    {
        var g = SearchTestKit.Arithmetic();
        var rng = new Rng(7);
        for (int i = 0; i < 50; i++)
        {
            var m = Mutations.MutateFeature(ref rng, X0, g);
            Assert.That(m, Is.TypeOf<Expr.Var>().And.Not.EqualTo(X0));
        }
    }

    [Test]
    public void Apply_SimplifyWithoutSimplifier_ReturnsInput_AndWithOneCallsIt()
    {
        var g = SearchTestKit.Arithmetic();
        var rng = new Rng(8);
        Assert.That(Mutations.Apply(ref rng, MutationKind.Simplify, Sample, g, 1, null), Is.SameAs(Sample));
        Assert.That(Mutations.Apply(ref rng, MutationKind.Simplify, Sample, g, 1, _ => X0), Is.SameAs(X0));
        Assert.That(Mutations.Apply(ref rng, MutationKind.DoNothing, Sample, g, 1, null), Is.SameAs(Sample));
    }

    [Test]
    public void Sample_Weights_AreHonouredAndConstantWeightScalesWithConstants()
    {
        var only = new MutationWeights(0, 0, 0, 0, 1, 0, 0, 0, 0, 0);
        var rng = new Rng(9);
        for (int i = 0; i < 50; i++) Assert.That(only.Sample(ref rng, 3), Is.EqualTo(MutationKind.InsertNode));
        var constantsOrNothing = new MutationWeights(1, 0, 0, 0, 0, 0, 0, 0, 0, 1);
        int constantDraws = 0;
        for (int i = 0; i < 1000; i++) if (constantsOrNothing.Sample(ref rng, 0) == MutationKind.MutateConstant) constantDraws++;
        Assert.That(constantDraws, Is.Zero, "no constants → never MutateConstant");
    }
}
