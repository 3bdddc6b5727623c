using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Tests.Optimizees;
using L2OEvolve.Torch.Rollouts;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rollouts;

/// <summary>A fault inside libtorch during a candidate's rollout is retried, and never ends the run.</summary>
public class PopulationRolloutFaultTests
{
    private static readonly RolloutSettings Settings = new(40, [1, 2]);

    [Test]
    public void Run_AFaultThatPasses_GivesTheFiguresOfAnUnfaultedRun()
    {
        var programs = Settings.Compile([Adam(0.01), Mul(C(-0.05), G)]);
        var clean = PopulationRollout.Run(programs, OptimizeeRegistry.Family("quadratic"), Settings);
        long before = PopulationRollout.NativeFaults;
        var faulted = PopulationRollout.Run(programs, new FaultyFamily(OptimizeeRegistry.Family("quadratic"), faults: 2), Settings);
        Assert.That(faulted, Is.EqualTo(clean), "the retried rollouts are bit for bit the clean ones");
        Assert.That(PopulationRollout.NativeFaults - before, Is.EqualTo(2));
    }

    [Test]
    public void Run_AFaultOnEveryAttempt_ScoresTheCandidateAsDivergedWithoutThrowing()
    {
        var programs = Settings.Compile([Adam(0.01)]);
        long failedBefore = PopulationRollout.CandidatesFailedByFault;
        var results = PopulationRollout.Run(programs, new FaultyFamily(OptimizeeRegistry.Family("quadratic"), faults: int.MaxValue), Settings);
        Assert.That(results[0].Diverged, Is.True);
        Assert.That(results[0].FinalLoss, Is.EqualTo(double.PositiveInfinity));
        Assert.That(results[0].SeedsDiverged, Is.EqualTo(2));
        Assert.That(PopulationRollout.CandidatesFailedByFault - failedBefore, Is.EqualTo(2), "one per seed");
    }
}
