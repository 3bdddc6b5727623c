using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class SelectionTests
{
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
}
