using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Variation;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

/// <summary>
/// The facts a node keeps about its subtree (size, numbers, structural hash) are what walking the subtree gives,
/// whatever was asked first, after path-copying edits and after <c>with</c> copies; and equality ignores them.
/// </summary>
public class ExprFactsTests
{
    // The definitions, by walking every node each time.
    private static int WalkedSize(Expr e) => 1 + e.Children.Sum(WalkedSize);

    private static int WalkedCount(Expr e, Func<Expr, bool> counts) => (counts(e) ? 1 : 0) + e.Children.Sum(c => WalkedCount(c, counts));

    private static bool Tunable(Expr e) => e is Const or Ema;

    private static bool Number(Expr e) => e is Const or Ema or Lag;

    /// <summary>The node at preorder <paramref name="index"/>, by listing every node.</summary>
    private static Expr ListedNodeAt(Expr e, int index) => e.Preorder().ElementAt(index);

    /// <summary>The tree with the subtree at preorder <paramref name="index"/> replaced, rebuilt from scratch.</summary>
    private static Expr Rebuilt(Expr e, int index, Expr replacement)
    {
        int next = 0;
        return Walk(e);

        Expr Walk(Expr n)
        {
            if (next++ == index) return replacement;
            var children = n.Children.Select(Walk).ToArray();
            return n.WithChildren(children);
        }
    }

    [Test]
    public void SizeAndCounts_RandomTreesAndEdits_AreTheWalkedCounts()
    {
        var rng = new Rng(41);
        for (int t = 0; t < 1000; t++)
        {
            var e = TestTrees.Random(ref rng, 1 + t % 30);
            // Ask in a different order each time, so no fact relies on another having been computed.
            if (t % 2 == 0) Assert.That(e.Size(), Is.EqualTo(WalkedSize(e)), e.ToString());
            Assert.That(Trees.TunableCount(e), Is.EqualTo(WalkedCount(e, Tunable)), e.ToString());
            Assert.That(Trees.NumberCount(e), Is.EqualTo(WalkedCount(e, Number)), e.ToString());
            Assert.That(e.Size(), Is.EqualTo(WalkedSize(e)), e.ToString());
            Assert.That((e.FeatureCount(), e.ConstantCount(), e.BinaryCount(), e.MovableCount()), Is.EqualTo((
                WalkedCount(e, n => n is Var), WalkedCount(e, n => n is Const), WalkedCount(e, n => n is Binary),
                WalkedCount(e, n => n is Const or Ema or Lag { Steps: > 1 }))), e.ToString());
            // An edit shares every subtree off the edited path, with their facts already computed.
            int at = rng.NextInt(e.Size());
            var edited = e.ReplaceAt(at, TestTrees.Random(ref rng, 5));
            Assert.That(edited.Size(), Is.EqualTo(WalkedSize(edited)), edited.ToString());
            Assert.That(Trees.NumberCount(edited), Is.EqualTo(WalkedCount(edited, Number)), edited.ToString());
        }
    }

    [Test]
    public void NodeAtAndReplaceAt_RandomTrees_AreThePreorderDefinitions()
    {
        var rng = new Rng(43);
        for (int t = 0; t < 500; t++)
        {
            var e = TestTrees.Random(ref rng, 2 + t % 30);
            for (int i = 0; i < e.Size(); i++)
                Assert.That(e.NodeAt(i), Is.SameAs(ListedNodeAt(e, i)), $"{e} at {i}");
            int at = rng.NextInt(e.Size());
            var replacement = TestTrees.Random(ref rng, 4);
            var edited = e.ReplaceAt(at, replacement);
            Assert.That(edited, Is.EqualTo(Rebuilt(e, at, replacement)), $"{e} at {at}");
            Assert.That(edited.NodeAt(at), Is.SameAs(replacement));
        }
    }

    [Test]
    public void StructuralHash_Cached_IsTheHashOfAFreshCopy()
    {
        var rng = new Rng(47);
        for (int t = 0; t < 500; t++)
        {
            var e = TestTrees.Random(ref rng, 1 + t % 25);
            ulong first = StructuralHash.Of(e);
            Assert.That(StructuralHash.Of(e), Is.EqualTo(first), "asked twice");
            var fresh = Infix.Parse(Infix.Print(e)); // new nodes, nothing computed yet
            Assert.That(StructuralHash.Of(fresh), Is.EqualTo(first), e.ToString());
            int at = rng.NextInt(e.Size());
            var edited = e.ReplaceAt(at, new Var("y"));
            Assert.That(StructuralHash.Of(edited), Is.EqualTo(StructuralHash.Of(Infix.Parse(Infix.Print(edited)))), edited.ToString());
        }
    }

    [Test]
    public void WithCopy_NewChildren_StartsWithoutTheOriginalsFacts()
    {
        var small = new Binary(Op.Add, new Var("x"), new Const(1));
        // Every fact of the original is computed before the copy is made.
        (int size, int numbers, ulong hash) = (small.Size(), Trees.NumberCount(small), StructuralHash.Of(small));
        var bigger = small with { Left = new Unary(Op.Exp, new Binary(Op.Mul, new Const(2), new Var("y"))) };
        Assert.That(bigger.Size(), Is.EqualTo(6).And.Not.EqualTo(size));
        Assert.That(Trees.NumberCount(bigger), Is.EqualTo(2).And.Not.EqualTo(numbers));
        Assert.That(StructuralHash.Of(bigger), Is.EqualTo(StructuralHash.Of(Infix.Parse("exp(2 * y) + 1"))).And.Not.EqualTo(hash));
        var one = new Const(1);
        _ = StructuralHash.Of(one);
        Assert.That(StructuralHash.Of(one with { Value = 2 }), Is.EqualTo(StructuralHash.Of(new Const(2))));
    }

    [Test]
    public void Equality_IgnoresWhichFactsWereComputed()
    {
        var asked = Infix.Parse("sin(x * 2) - ema(0.9, y)");
        var fresh = Infix.Parse("sin(x * 2) - ema(0.9, y)");
        _ = (asked.Size(), Trees.TunableCount(asked), StructuralHash.Of(asked));
        Assert.That(asked, Is.EqualTo(fresh));
        Assert.That(fresh, Is.EqualTo(asked));
        Assert.That(asked.GetHashCode(), Is.EqualTo(fresh.GetHashCode()));
        Assert.That(asked, Is.Not.EqualTo(Infix.Parse("sin(x * 2) - ema(0.9, x)")));
    }

    [Test]
    public void Counts_BeyondWhatANodeHolds_AreCountedByWalking()
    {
        // 70,000 constants: more than a node's 16-bit count holds.
        Expr Sum(int from, int count) => count == 1 ? new Const(from) : new Binary(Op.Add, Sum(from, count / 2), Sum(from + count / 2, count - count / 2));
        var e = new Lag(2, Sum(0, 70_000));
        Assert.That(Trees.TunableCount(e), Is.EqualTo(70_000));
        Assert.That(Trees.NumberCount(e), Is.EqualTo(70_001));
        Assert.That(e.Size(), Is.EqualTo(2 * 70_000));
        Assert.That((e.ConstantCount(), e.MovableCount(), e.BinaryCount(), e.FeatureCount()), Is.EqualTo((-1, -1, -1, 0)), "70,000 constants and 69,999 sums are beyond a node's counts");
        // A mutation's pick then walks the tree, drawing as the predicate would.
        var (a, b) = (new Rng(2), new Rng(2));
        Assert.That(Trees.RandomPosition<Mutations.MovableNumber>(ref a, e),
            Is.EqualTo(Trees.RandomPosition(ref b, e, n => n is Const or Ema or Lag { Steps: > 1 })));
    }
}
