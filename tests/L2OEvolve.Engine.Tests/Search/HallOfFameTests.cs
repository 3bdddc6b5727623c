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
}
