using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class HallOfFameTests
{
    private static Individual M(int complexity, double loss, long birth = 0) =>
        new(new Expr.Const(complexity), loss, complexity, birth, [loss]);

    [Test]
    public void Update_KeepsTheBestPerComplexity_AndIgnoresNonFinite()
    {
        var h = HallOfFame.Empty.Update([M(3, 1.0), M(3, 0.5), M(1, 2.0), M(5, double.PositiveInfinity), M(3, 0.7)]);
        Assert.That(h.Members.Select(m => (m.Complexity, m.Loss)), Is.EqualTo(new[] { (1, 2.0), (3, 0.5) }));
    }

    [Test]
    public void Update_Tie_KeepsTheIncumbent()
    {
        var h = HallOfFame.Empty.Update([M(3, 1.0, birth: 1)]).Update([M(3, 1.0, birth: 2)]);
        Assert.That(h.At(3)!.Birth, Is.EqualTo(1));
    }

    [Test]
    public void ParetoFront_DropsMembersNoBetterThanASimplerOne()
    {
        var h = HallOfFame.Empty.Update([M(1, 1.0), M(2, 1.5), M(3, 0.5), M(4, 0.5), M(6, 0.1)]);
        Assert.That(h.ParetoFront().Select(m => m.Complexity), Is.EqualTo(new[] { 1, 3, 6 }));
    }

    [Test]
    public void Chosen_PySrScore_PicksTheSteepestDropInLogLossPerComplexity()
    {
        // drops: 1→3: ln(1/0.01)/2 = 2.30; 3→9: ln(0.01/0.005)/6 = 0.12
        var h = HallOfFame.Empty.Update([M(1, 1.0), M(3, 0.01), M(9, 0.005)]);
        Assert.That(h.Chosen()!.Complexity, Is.EqualTo(3));
        Assert.That(h.MostAccurate()!.Complexity, Is.EqualTo(9));
    }

    [Test]
    public void Chosen_ExactFit_ScoresFinitelyAndWins()
    {
        var h = HallOfFame.Empty.Update([M(1, 1.0), M(5, 0.0)]);
        Assert.That(h.Chosen()!.Complexity, Is.EqualTo(5));
    }

    /// <summary>The definition: best per complexity (ties keep the incumbent), sorted by complexity; the same
    /// instance when no candidate gets in.</summary>
    private static HallOfFame Reference(HallOfFame h, IEnumerable<Individual> candidates)
    {
        var best = new SortedDictionary<int, Individual>();
        foreach (var m in h.Members) best[m.Complexity] = m;
        bool changed = false;
        foreach (var c in candidates)
        {
            if (!double.IsFinite(c.Loss) || best.TryGetValue(c.Complexity, out var incumbent) && !(c.Loss < incumbent.Loss)) continue;
            best[c.Complexity] = c;
            changed = true;
        }
        return changed ? new HallOfFame([.. best.Values]) : h;
    }

    [Test]
    public void Update_RandomBatches_IsTheSortedMapDefinition()
    {
        var rng = new L2OEvolve.Engine.Random.Rng(9);
        var h = HallOfFame.Empty;
        for (int batch = 0; batch < 300; batch++)
        {
            var candidates = Enumerable.Range(0, rng.NextInt(6))
                .Select(i => M(1 + rng.NextInt(30), rng.NextBool(0.1) ? double.NaN : Math.Round(rng.NextDouble() * 5, 1), birth: batch * 10 + i))
                .ToArray();
            var expected = Reference(h, candidates);
            var updated = h.Update(candidates);
            Assert.That(updated.Members.Select(m => (m.Complexity, m.Loss, m.Birth)), Is.EqualTo(expected.Members.Select(m => (m.Complexity, m.Loss, m.Birth))));
            Assert.That(ReferenceEquals(updated, h), Is.EqualTo(ReferenceEquals(expected, h)), "unchanged exactly when nothing got in");
            h = updated;
        }
        Assert.That(h.Members, Has.Length.GreaterThan(10));
    }

    [Test]
    public void Update_MembersNotInOrder_AreSortedKeepingTheLastPerComplexity()
    {
        var h = new HallOfFame([M(5, 1.0, birth: 1), M(2, 3.0, birth: 2), M(5, 2.0, birth: 3)]);
        var updated = h.Update([M(3, 1.5, birth: 4)]);
        Assert.That(updated.Members.Select(m => (m.Complexity, m.Birth)), Is.EqualTo(new[] { (2, 2L), (3, 4L), (5, 3L) }));
        Assert.That(h.Update([M(2, 9.0)]), Is.SameAs(h));
    }
}
