using L2OEvolve.Torch.Teachers;
using Decision = L2OEvolve.Torch.Teachers.CurriculumState.Decision;

namespace L2OEvolve.Torch.Tests.Teachers;

public class CurriculumStateTests
{
    [Test]
    public void After_FirstCost_IsBaselineNotImprovement()
    {
        var (s, d) = CurriculumState.Start.After(10, 3, 4);
        Assert.That(d, Is.EqualTo(Decision.SavedBest));
        Assert.That(s.Best, Is.EqualTo(10));
        Assert.That(s.Improved, Is.False);
    }

    [Test]
    public void After_BetterCost_SavesBest()
    {
        var (s, d) = CurriculumState.Start.After(12, 3, 4).Next.After(10, 3, 4);
        Assert.That(d, Is.EqualTo(Decision.SavedBest));
        Assert.That(s.Best, Is.EqualTo(10));
        Assert.That(s.Improved, Is.True);
    }

    [Test]
    public void After_PatienceExhaustedAfterImprovement_Advances()
    {
        var s = CurriculumState.Start;
        s = s.After(10, 2, 4).Next; // baseline
        s = s.After(9, 2, 4).Next;  // improvement
        s = s.After(9.5, 2, 4).Next;
        var (next, d) = s.After(9.7, 2, 4);
        Assert.That(d, Is.EqualTo(Decision.Advance));
        Assert.That(next.Stage, Is.EqualTo(1));
        Assert.That(next.Best, Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void After_PatienceExhaustedWithoutImprovement_Stops()
    {
        var s = new CurriculumState(1, 5, 0, false, false);
        s = s.After(6, 2, 4).Next;
        var (next, d) = s.After(7, 2, 4);
        Assert.That(d, Is.EqualTo(Decision.Stop));
        Assert.That(next.Stopped, Is.True);
    }

    [Test]
    public void After_LastStageExhausted_Stops()
    {
        var s = new CurriculumState(3, 5, 0, true, false);
        s = s.After(6, 2, 4).Next;
        Assert.That(s.After(7, 2, 4).Decision, Is.EqualTo(Decision.Stop));
    }

    [Test]
    public void After_NonFiniteCost_IsNoImprovement()
    {
        var (s, d) = CurriculumState.Start.After(double.NaN, 3, 4);
        Assert.That(d, Is.EqualTo(Decision.Continue));
        Assert.That(s.Improved, Is.False);
    }
}
