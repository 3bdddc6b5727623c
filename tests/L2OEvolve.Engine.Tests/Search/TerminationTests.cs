using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class TerminationTests
{
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

    [Test]
    public void Deadline_IsTheTimeBudget_EarliestUnderOr_AndOnlyWhenEveryPartHasOneUnderAnd()
    {
        ITermination time = new TimeTermination(TimeSpan.FromSeconds(5)), later = new TimeTermination(TimeSpan.FromSeconds(9));
        ITermination generations = new GenerationTermination(10);
        Assert.That(time.Deadline, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(generations.Deadline, Is.Null);
        Assert.That(new OrTermination(generations, later, time).Deadline, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(new OrTermination(generations, new TargetLossTermination(0.1)).Deadline, Is.Null);
        Assert.That(new AndTermination(time, later).Deadline, Is.EqualTo(TimeSpan.FromSeconds(9)));
        Assert.That(new AndTermination(time, generations).Deadline, Is.Null);
    }
}

public class AfterSpentTests
{
    [Test]
    public void TimeSpentBeforeTheLoop_CountsAgainstTheBudget()
    {
        var t = new AfterSpent(new TimeTermination(TimeSpan.FromSeconds(10)), TimeSpan.FromSeconds(4));
        Assert.That(t.Deadline, Is.EqualTo(TimeSpan.FromSeconds(6)));
        Assert.That(t.IsReached(new SearchProgress(1, 1, 1, TimeSpan.FromSeconds(5))), Is.False);
        Assert.That(t.IsReached(new SearchProgress(1, 1, 1, TimeSpan.FromSeconds(6))), Is.True);
        Assert.That(new AfterSpent(new GenerationTermination(3), TimeSpan.FromHours(1)).Deadline, Is.Null, "budgets without time stay deterministic");
    }
}
