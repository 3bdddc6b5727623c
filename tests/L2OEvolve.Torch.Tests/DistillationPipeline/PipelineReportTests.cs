using L2OEvolve.Torch.DistillationPipeline;
using NUnit.Framework;

namespace L2OEvolve.Torch.Tests.DistillationPipeline;

public class PipelineReportTests
{
    [Test]
    public void StateClause_WithinTheBudget_StatesTheFloatsOnly()
    {
        Assert.That(PipelineReport.StateClause(3, 4), Is.EqualTo("state 3 floats/parameter"));
        Assert.That(PipelineReport.StateClause(4, 4), Is.EqualTo("state 4 floats/parameter"));
    }

    [Test]
    public void StateClause_OverTheBudget_SaysThatNoKeptRuleFitsIt()
    {
        var clause = PipelineReport.StateClause(5, 4);
        Assert.That(clause, Does.StartWith("state 5 floats/parameter, over the budget of 4 (maxStateFloats)"));
        Assert.That(clause, Does.Contain("no rule the search kept fits it"));
    }
}
