using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class MigrationTests
{

    private static Individual M(int complexity, double loss, long birth) => new(new Expr.Const(birth), loss, complexity, birth, [loss]);

    [Test]
    public void RandomMigration_OnTheInterval_MovesMembersAndRestampsThem()
    {
        var islands = Enumerable.Range(0, 3).Select(i => new Island(
            Enumerable.Range(0, 20).Select(j => M(i + 1, 1, i * 100 + j)).ToImmutableArray(), new Rng((ulong)i + 1).State)).ToImmutableArray();
        var hof = HallOfFame.Empty.Update([M(50, 0.1, 999)]);
        var mig = new RandomMigration(new MigrationSettings(Interval: 2, Fraction: 0.2, HallOfFameFraction: 0.1));
        var rng = new Rng(3);
        long birth = 1000;
        Assert.That(mig.Migrate(ref rng, islands, hof, 0, ref birth), Is.EqualTo(islands), "not on the interval");
        var after = mig.Migrate(ref rng, islands, hof, 1, ref birth);
        Assert.That(birth, Is.EqualTo(1000 + 3 * (4 + 2)));
        Assert.That(after[0].Members.Any(m => m.Complexity != 1), Is.True, "island 0 received migrants");
        Assert.That(after.SelectMany(i => i.Members).Any(m => m.Complexity == 50), Is.True, "hall-of-fame members migrate");
        Assert.That(after.Select(i => i.Members.Length), Is.All.EqualTo(20));
    }
}
