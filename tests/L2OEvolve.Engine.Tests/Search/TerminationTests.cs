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
}
