using L2OEvolve.Engine.Random;
using TorchSharp;
using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherNetTests
{
    private static TeacherNet Net(string model, ulong seed = 1)
    {
        var rng = new Rng(seed);
        return new TeacherNet(TeacherConfig.Preset(model), ref rng);
    }

    private static long Count(TeacherNet net) => net.Weights().Sum(p => p.numel());

    [TestCase("dm", 1840 + 3360 + 21)]
    [TestCase("rnnprop", 60 + 3360 + 3360 + 21)]
    [TestCase("rp-s", 18 + 4 * 7 * (6 + 7) + 56 + 8)]
    [TestCase("rp-si", 54 + 4 * 12 * (9 + 12) + 96 + 13)]
    public void Preset_WeightCount_MatchesPaperArchitecture(string model, long expected)
    {
        using var net = Net(model);
        Assert.That(Count(net), Is.EqualTo(expected));
    }

    [Test]
    public void Step_RnnProp_OutputPerCoordinateInsideTanhRangeAndStateShaped()
    {
        using var scope = NewDisposeScope();
        using var net = Net("rnnprop");
        var g = randn(50) * 100;
        var (u, next) = net.Step(g, net.InitialState(50, CPU), 1);
        Assert.That(u.shape, Is.EqualTo(new long[] { 50 }));
        Assert.That(u.abs().max().item<float>(), Is.LessThanOrEqualTo(1f));
        Assert.That(next.Lstm.H.Select(h => h.shape[1]), Is.EqualTo(new long[] { 20, 20 }));
        Assert.That(next.Features.Slots.shape, Is.EqualTo(new long[] { 2, 50 }), "m and v behind mt and gt, nothing else");
    }

    [Test]
    public void Step_Dm_IsLinearHeadWithoutTanh()
    {
        using var scope = NewDisposeScope();
        using var net = Net("dm");
        Assert.That(net.Config.Tanh, Is.False);
        using (no_grad()) foreach (var p in net.Weights()) p.mul_(50);
        var (u, _) = net.Step(randn(200), net.InitialState(200, CPU), 1);
        Assert.That(u.abs().max().item<float>(), Is.GreaterThan(1f));
    }

    [Test]
    public void Step_PermutedCoordinates_PermutesOutput()
    {
        using var scope = NewDisposeScope();
        using var net = Net("rp-si");
        var g = randn(30);
        var perm = randperm(30);
        var (u, s) = net.Step(g, net.InitialState(30, CPU), 1);
        var (u2, _) = net.Step(g * 0.5, s, 2);
        var (p, sp) = net.Step(g[perm], net.InitialState(30, CPU), 1);
        var (p2, _) = net.Step(g[perm] * 0.5, sp, 2);
        Assert.That(allclose(u[perm], p, 1e-6, 1e-7), Is.True);
        Assert.That(allclose(u2[perm], p2, 1e-6, 1e-7), Is.True);
    }

    [Test]
    public void Constructor_SameSeed_SameWeights_OtherSeed_Differ()
    {
        using var a = Net("rnnprop", 5);
        using var b = Net("rnnprop", 5);
        using var c = Net("rnnprop", 6);
        var wa = TeacherStore.Snapshot(a);
        Assert.That(TeacherStore.Snapshot(b), Is.EqualTo(wa));
        Assert.That(TeacherStore.Snapshot(c), Is.Not.EqualTo(wa));
    }

    [Test]
    public void Step_DmLogAndSign_ReadsTwoInputs()
    {
        using var scope = NewDisposeScope();
        var config = TeacherConfig.Create("dm", logAndSign: true);
        var rng = new Rng(1);
        using var net = new TeacherNet(config, ref rng);
        Assert.That(config.InputWidth, Is.EqualTo(2));
        var (u, _) = net.Step(randn(10), net.InitialState(10, CPU), 1);
        Assert.That(u.isfinite().all().item<bool>(), Is.True);
    }

    [Test]
    public void Create_LogAndSignOnRnnProp_Throws()
    {
        Assert.Throws<ArgumentException>(() => TeacherConfig.Create("rnnprop", logAndSign: true));
    }

    [Test]
    public void Config_JsonRoundTrip_IsEqual()
    {
        var c = TeacherConfig.Create("rp-si", features: "mt+gt+magic0", hidden: [16]);
        var back = TeacherConfig.FromJson(c.ToJson(), "test");
        Assert.That(back, Is.EqualTo(c));
        Assert.That(back.Features, Is.EqualTo(new[] { "mt", "gt", "mp2", "mp2h", "mp3" }));
    }

    [TestCase("rnnprop")]
    [TestCase("rp-s")]
    [TestCase("dm")]
    public void Step_FusedAndLibTorchKernels_AgreeOnAWindowAndItsMetaGradient(string model)
    {
        using var scope = NewDisposeScope();
        (float Loss, float[][] Grads) Window(LstmKernel kernel)
        {
            using var net = Net(model, 3);
            net.Kernel = kernel;
            var state = net.InitialState(300, CPU);
            var theta = zeros(300);
            var target = linspace(-1, 1, 300);
            Tensor loss = zeros(1);
            manual_seed(5);
            for (int k = 1; k <= 6; k++)
            {
                var g = (2 * (theta - target)).detach() + randn(300) * 0.01;
                var (u, next) = net.Step(g, state, k);
                theta = theta + u * 0.1;
                loss = loss + (theta - target).square().sum();
                state = next;
            }
            loss.backward();
            return (loss.item<float>(), [.. net.Weights().Select(w => w.grad!.data<float>().ToArray())]);
        }
        var fused = Window(LstmKernel.Fused);
        var reference = Window(LstmKernel.LibTorch);
        Assert.That(fused.Loss, Is.EqualTo(reference.Loss).Within(1e-5).Percent);
        for (int i = 0; i < fused.Grads.Length; i++)
        {
            double scale = Math.Max(1e-3, reference.Grads[i].Max(Math.Abs));
            double err = fused.Grads[i].Zip(reference.Grads[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.That(err / scale, Is.LessThan(1e-4), $"weight {i}: max |diff| {err:E2} at scale {scale:G3}");
        }
    }

    [Test]
    public void Kernel_AutoFallsBackOffFloat32_FusedRefusesWithAReason()
    {
        using var scope = NewDisposeScope();
        using var net = Net("rnnprop");
        net.to(ScalarType.Float64);
        var state = net.InitialState(10, CPU);
        var lstm = new LstmState([.. state.Lstm.H.Select(h => h.to(ScalarType.Float64))], [.. state.Lstm.C.Select(c => c.to(ScalarType.Float64))]);
        var features = new FeatureState(state.Features.Slots.to(ScalarType.Float64));
        var s64 = new TeacherState(features, lstm);
        var g = randn(10, dtype: ScalarType.Float64);
        Assert.That(net.Step(g, s64, 1).Raw.dtype, Is.EqualTo(ScalarType.Float64));
        net.Kernel = LstmKernel.Fused;
        var e = Assert.Throws<InvalidOperationException>(() => net.Step(g, s64, 1));
        Assert.That(e!.Message, Does.Contain("float32 CPU"));
    }
}
