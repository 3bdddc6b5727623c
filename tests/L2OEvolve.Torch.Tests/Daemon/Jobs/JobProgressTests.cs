using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

public class JobProgressTests
{
    /// <summary>A running job's status after <paramref name="generation"/> generations.</summary>
    internal static JobStatus Running(long generation, long evaluations, double elapsed) =>
        JobStatus.Initial with { State = JobState.Running, Generation = generation, Evaluations = evaluations, ElapsedSeconds = elapsed };

    [Test]
    public void Eta_GenerationBudget_ExtrapolatesTheAverageRate() =>
        Assert.That(JobProgress.Eta(new JobBudget(20, null, null), Running(5, 100, 10)), Is.EqualTo("30.0s"));

    [Test]
    public void Eta_SeveralLimits_TakesTheNearest() =>
        Assert.That(JobProgress.Eta(new JobBudget(1000, 600, null), Running(5, 100, 10)), Is.EqualTo("9m50s"));

    [Test]
    public void Eta_NoBudgetOrFinished_IsADash()
    {
        Assert.That(JobProgress.Eta(new JobBudget(null, null, null), Running(5, 100, 10)), Is.EqualTo("-"));
        Assert.That(JobProgress.Eta(new JobBudget(20, null, null), Running(5, 100, 10) with { State = JobState.Finished }), Is.EqualTo("-"));
    }
}
