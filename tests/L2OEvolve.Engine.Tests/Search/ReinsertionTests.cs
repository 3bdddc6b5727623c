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
}
