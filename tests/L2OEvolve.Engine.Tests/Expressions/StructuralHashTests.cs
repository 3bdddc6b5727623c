using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

public class StructuralHashTests
{
    [Test]
    public void Of_EqualTreesBuiltSeparately_HashEqually()
    {
        var rng = new Rng(3);
        for (int i = 0; i < 500; i++)
        {
            var e = TestTrees.Random(ref rng, 20);
            var copy = Infix.Parse(Infix.Print(e));
            Assert.That(copy, Is.Not.SameAs(e));
            Assert.That(StructuralHash.Of(copy), Is.EqualTo(StructuralHash.Of(e)));
        }
    }

    [Test]
    public void Of_NegativeZeroAndZero_HashEquallyAsRecordEqualityDemands()
    {
        Assert.That(new Const(-0.0), Is.EqualTo(new Const(0.0)));
        Assert.That(StructuralHash.Of(new Const(-0.0)), Is.EqualTo(StructuralHash.Of(new Const(0.0))));
    }

    [Test]
    public void Of_KnownTree_IsStableAcrossProcesses()
    {
        // A fixed value: string hashing in .NET is randomised per process, this hash must not be.
        Assert.That(StructuralHash.Of(new Var("x")), Is.EqualTo(4033680986276494990UL));
        Assert.That(StructuralHash.Of(Infix.Parse("x * tanh(g + 1) - ema_bc(0.9, lag(2, g))")), Is.EqualTo(4419210863009681131UL));
    }

    [Test]
    public void Of_DistinctRandomTrees_RarelyCollide()
    {
        var rng = new Rng(11);
        var byHash = new Dictionary<ulong, Expr>();
        int distinct = 0;
        for (int i = 0; i < 5000; i++)
        {
            var e = TestTrees.Random(ref rng, 12);
            ulong h = StructuralHash.Of(e);
            if (byHash.TryGetValue(h, out var other)) Assert.That(other, Is.EqualTo(e), "64-bit collision");
            else { byHash[h] = e; distinct++; }
        }
        Assert.That(distinct, Is.GreaterThan(1000));
    }

    [Test]
    public void Of_ChildOrderAndOperator_ChangeTheHash()
    {
        var x = new Var("x");
        var y = new Var("y");
        Assert.That(StructuralHash.Of(new Binary(Op.Sub, x, y)), Is.Not.EqualTo(StructuralHash.Of(new Binary(Op.Sub, y, x))));
        Assert.That(StructuralHash.Of(new Binary(Op.Sub, x, y)), Is.Not.EqualTo(StructuralHash.Of(new Binary(Op.Add, x, y))));
        Assert.That(StructuralHash.Of(new Ema(0.9, true, x)), Is.Not.EqualTo(StructuralHash.Of(new Ema(0.9, false, x))));
        Assert.That(StructuralHash.Of(new Lag(1, x)), Is.Not.EqualTo(StructuralHash.Of(new Lag(2, x))));
    }
}
