using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Search;

public class FitnessCacheTests
{
    private static Expr X(int i) => new Var("x" + i);

    [Test]
    public void StructurallyEqualTreesShareAnEntry_AndDistinctTreesDoNot()
    {
        var cache = new FitnessCache(1024);
        var tree = new Binary(Op.Add, X(0), new Const(1));
        cache.Add(tree, [0.5]);
        // Built anew, with a variable name that is a different string instance.
        Assert.That(cache.TryGet(new Binary(Op.Add, new Var(new string(['x', '0'])), new Const(1)), out var same) ? same[0] : double.NaN, Is.EqualTo(0.5));
        Assert.That(cache.TryGet(new Binary(Op.Add, X(0), new Const(2)), out _), Is.False);
        Assert.That(cache.TryGet(new Binary(Op.Sub, X(0), new Const(1)), out _), Is.False);
        Assert.That(cache.TryGet(new Binary(Op.Add, new Const(1), X(0)), out _), Is.False);
        Assert.That(cache.Hits, Is.EqualTo(1));
        Assert.That(cache.Count, Is.EqualTo(1));
    }

    [Test]
    public void AForgedHash_IsCheckedAgainstTheTree_AndCountsACollision()
    {
        var cache = new FitnessCache(1024);
        var tree = new Binary(Op.Add, X(0), new Const(1));
        cache.Add(tree, [0.5]);
        Assert.That(cache.TryGet(StructuralHash.Of(tree), X(1), out _), Is.False);
        Assert.That(cache.TryGet(StructuralHash.Of(tree), new Binary(Op.Add, X(0), new Const(1.0000001)), out _), Is.False);
        Assert.That(cache.Collisions, Is.EqualTo(2));
    }

    [Test]
    public void ManyVariables_AreEachTheirOwnKey()
    {
        // Past a few names the memo looks them up by value rather than by scanning (a large memo: no set fills up).
        var cache = new FitnessCache(1 << 16);
        for (int i = 0; i < 100; i++) cache.Add(new Binary(Op.Mul, X(i), X(99 - i)), [i]);
        for (int i = 0; i < 100; i++)
            Assert.That(cache.TryGet(new Binary(Op.Mul, X(i), X(99 - i)), out var got) ? got[0] : -1, Is.EqualTo(i));
        Assert.That(cache.TryGet(new Binary(Op.Mul, X(100), X(0)), out _), Is.False, "a name never memoised");
    }

    [Test]
    public void EveryNodeKind_IsPartOfTheKey()
    {
        var cache = new FitnessCache(1024);
        Expr[] distinct =
        [
            new Ema(0.9, true, X(0)), new Ema(0.9, false, X(0)), new Ema(0.99, true, X(0)),
            new Lag(1, X(0)), new Lag(2, X(0)), new Unary(Op.Sin, X(0)), new Unary(Op.Cos, X(0)),
            new Binary(Op.Mul, X(0), X(1)), new Binary(Op.Mul, X(1), X(0)), new Const(double.NaN), new Const(-1),
            new Unary(Op.Neg, new Unary(Op.Neg, X(0))), new Binary(Op.Mul, new Unary(Op.Neg, X(0)), X(1)),
        ];
        for (int i = 0; i < distinct.Length; i++) cache.Add(distinct[i], [i]);
        for (int i = 0; i < distinct.Length; i++)
        {
            Assert.That(cache.TryGet(distinct[i], out var got), Is.True, distinct[i].ToString());
            Assert.That(got[0], Is.EqualTo(i), distinct[i].ToString());
        }
    }

    [Test]
    public void ConstantsEqualUnderRecordEquality_ShareAnEntry()
    {
        // Record equality holds -0.0 equal to 0.0 and every NaN equal to every other; the memo agrees with it.
        var cache = new FitnessCache(64);
        cache.Add(new Const(0.0), [1]);
        cache.Add(new Const(double.NaN), [2]);
        Assert.That(new Const(-0.0), Is.EqualTo(new Const(0.0)));
        Assert.That(cache.TryGet(new Const(-0.0), out var zero) ? zero[0] : 0, Is.EqualTo(1));
        Assert.That(cache.TryGet(new Const(BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0001UL))), out var nan) ? nan[0] : 0, Is.EqualTo(2));
    }

    [Test]
    public void EachObjective_IsKept_AndAHitReturnsACopy()
    {
        var cache = new FitnessCache(64, objectives: 3);
        cache.Add(X(0), [1, 2, 3]);
        Assert.That(cache.TryGet(X(0), out var first), Is.True);
        first[0] = 99;
        Assert.That(cache.TryGet(X(0), out var second) ? second : null, Is.EqualTo(new double[] { 1, 2, 3 }));
    }

    [Test]
    public void WrongNumberOfObjectives_IsRejected()
    {
        var cache = new FitnessCache(64, objectives: 2);
        Assert.Throws<ArgumentException>(() => cache.Add(X(0), [1]));
    }

    [Test]
    public void AMemoTooLargeForOneArray_IsRejected_NotOverflowed()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitnessCache(1 << 24, objectives: 1, maxNodes: 512));
    }

    [Test]
    public void TreesWiderThanTheEntries_AreNotMemoised()
    {
        var cache = new FitnessCache(64, maxNodes: 4);
        Expr small = new Binary(Op.Add, X(0), X(1)), large = new Binary(Op.Add, new Binary(Op.Mul, X(0), new Const(2)), new Binary(Op.Mul, X(1), new Const(3)));
        cache.Add(small, [1]);
        cache.Add(large, [2]);
        Assert.That(cache.TryGet(small, out _), Is.True);
        Assert.That(cache.TryGet(large, out _), Is.False);
        Assert.That(cache.Count, Is.EqualTo(1));
    }

    [Test]
    public void AFullSet_DropsItsOlderEntry()
    {
        // Capacity 2 is one set of two ways: every tree lands in it.
        var cache = new FitnessCache(2);
        cache.Add(X(0), [0]);
        cache.Add(X(1), [1]);
        cache.Add(X(2), [2]);
        Assert.That(cache.TryGet(X(0), out _), Is.False, "the oldest entry was dropped");
        Assert.That(cache.TryGet(X(1), out _) && cache.TryGet(X(2), out _), Is.True);
        Assert.That(cache.Count, Is.EqualTo(2));
    }

    [Test]
    public void ConcurrentAddsAndLookups_NeverAnswerWithAnotherTreesObjectives()
    {
        // A small memo under four threads: ways are overwritten while they are read, which must read as misses.
        var cache = new FitnessCache(16, objectives: 2);
        var trees = Enumerable.Range(0, 200).Select(i => (Expr)new Binary(Op.Mul, X(i % 5), new Const(i))).ToArray();
        int wrong = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                int k = (i * 7 + worker * 13) % trees.Length;
                if (cache.TryGet(trees[k], out var got)) { if (got[0] != k || got[1] != -k) Interlocked.Increment(ref wrong); }
                else cache.Add(trees[k], [k, -k]);
            }
        });
        Assert.That(wrong, Is.Zero);
        Assert.That(cache.Count, Is.LessThanOrEqualTo(cache.Capacity));
        Assert.That(cache.Hits + cache.Misses, Is.EqualTo(400_000));
    }
}
