using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class StrategiesTests
{
    private static Individual M(int complexity, double loss, long birth) => new(new Expr.Const(birth), loss, complexity, birth, [loss]);

    [Test]
    public void Tournament_ProbabilityOneAndFullSample_AlwaysPicksTheLowestCost()
    {
        var sel = new TournamentSelection(5, 1.0);
        var rng = new Rng(1);
        double[] costs = [3, 1, 4, 1.5, 9];
        for (int i = 0; i < 20; i++) Assert.That(sel.Select(ref rng, costs), Is.EqualTo(1));
    }

    [Test]
    public void Tournament_SmallerCostsWinMoreOften()
    {
        var sel = new TournamentSelection(3, 0.8);
        var rng = new Rng(2);
        double[] costs = [5, 4, 3, 2, 1, 0];
        var wins = new int[6];
        for (int i = 0; i < 3000; i++) wins[sel.Select(ref rng, costs)]++;
        Assert.That(wins[5], Is.GreaterThan(wins[2]));
        Assert.That(wins[2], Is.GreaterThan(wins[0]));
    }

    [Test]
    public void Costs_AdaptiveParsimony_PenalisesCrowdedComplexities()
    {
        var members = new[] { M(3, 1.0, 0), M(7, 1.0, 1) };
        var freq = new Dictionary<int, double> { [3] = 0.9, [7] = 0.1 };
        var costs = Parsimony.Costs(members, 1.0, 0.0, 20, freq);
        Assert.That(costs[0], Is.GreaterThan(costs[1]));
        var plain = Parsimony.Costs(members, 1.0, 0.01, 0, freq);
        Assert.That(plain[1] - plain[0], Is.EqualTo(0.04).Within(1e-12), "parsimony · Δcomplexity");
    }

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

    [Test]
    public void Terminations_ComposeWithAndOr()
    {
        var p = new SearchProgress(10, 5000, 0.5, TimeSpan.FromSeconds(3));
        Assert.That(new GenerationTermination(10).IsReached(p), Is.True);
        Assert.That(new GenerationTermination(11).IsReached(p), Is.False);
        Assert.That(new EvaluationTermination(5001).IsReached(p), Is.False);
        Assert.That(new TimeTermination(TimeSpan.FromSeconds(2)).IsReached(p), Is.True);
        Assert.That(new TargetLossTermination(0.5).IsReached(p), Is.True);
        Assert.That(new AndTermination(new GenerationTermination(5), new TargetLossTermination(0.1)).IsReached(p), Is.False);
        Assert.That(new OrTermination(new GenerationTermination(50), new TargetLossTermination(0.6)).IsReached(p), Is.True);
    }
}
