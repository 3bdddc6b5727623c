using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Teachers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherOptimizerTests
{
    [Test]
    public void Step_TwoTensors_AddsScaledNetworkOutputAndKeepsState()
    {
        using var scope = NewDisposeScope();
        var rng = new Rng(2);
        using var net = new TeacherNet(TeacherConfig.Preset("rnnprop"), ref rng);
        var shapes = new List<long[]> { new long[] { 2, 3 }, new long[] { 4 } };
        var p = new[] { zeros(2, 3), zeros(4) };
        var g1 = new[] { randn(2, 3), randn(4) };
        var g2 = new[] { randn(2, 3), randn(4) };
        using var opt = TeacherOptimizer.Factory(net)(shapes, CPU);
        opt.Step(p, g1, 1);
        opt.Step(p, g2, 2);
        Tensor expected;
        using (no_grad())
        {
            var (u1, s) = net.Step(FlatParameters.Flatten(g1), net.InitialState(10, CPU), 1);
            var (u2, _) = net.Step(FlatParameters.Flatten(g2), s, 2);
            expected = (u1 + u2) * 0.01;
        }
        Assert.That(allclose(FlatParameters.Flatten(p), expected, 1e-5, 1e-7), Is.True);
        Assert.That(opt.StateFloatsPerParameter, Is.EqualTo(2 + 80));
    }
}
