using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class ReinsertionTests
{

    private static Individual M(int complexity, double loss, long birth) => new(new Expr.Const(birth), loss, complexity, birth, [loss]);

    [Test]
    public void ReplaceOldest_ChildrenTakeTheSlotsOfTheOldestMembers()
    {
        ImmutableArray<Individual> members = [M(1, 1, 10), M(1, 1, 3), M(1, 1, 7), M(1, 1, 5)];
        var children = new[] { M(1, 9, 20), M(1, 9, 21) };
        var after = new ReplaceOldest().Reinsert(members, new double[4], children, new double[2]);
        Assert.That(after.Select(m => m.Birth), Is.EqualTo(new long[] { 10, 20, 7, 21 }));
    }

    [Test]
    public void ReplaceWorst_KeepsTheBestOfMembersAndChildren()
    {
        ImmutableArray<Individual> members = [M(1, 1, 1), M(1, 5, 2), M(1, 3, 3)];
        var children = new[] { M(1, 2, 4), M(1, 9, 5) };
        var after = new ReplaceWorst().Reinsert(members, [1, 5, 3], children, [2, 9]);
        Assert.That(after.Select(m => m.Birth), Is.EqualTo(new long[] { 1, 4, 3 }));
    }

    [Test]
    public void ReplaceOldest_RandomAges_IsTheStableSortDefinition()
    {
        // Oldest first, equal ages in member order (a stable sort by birth), the i-th child into the i-th slot.
        var rng = new Rng(13);
        for (int t = 0; t < 200; t++)
        {
            int size = 1 + rng.NextInt(40);
            ImmutableArray<Individual> members = [.. Enumerable.Range(0, size).Select(i => M(1, 1, rng.NextInt(30)))];
            var children = Enumerable.Range(0, rng.NextInt(size + 5)).Select(i => M(2, 2, 100 + i)).ToArray();
            var oldest = Enumerable.Range(0, size).OrderBy(i => members[i].Birth).Take(children.Length).ToArray();
            var expected = members.ToBuilder();
            for (int k = 0; k < oldest.Length; k++) expected[oldest[k]] = children[k];
            var after = new ReplaceOldest().Reinsert(members, new double[size], children, new double[children.Length]);
            Assert.That(after, Is.EqualTo(expected.ToImmutable()));
        }
    }
}
