using L2OEvolve.Torch;
using TorchSharp;

namespace L2OEvolve.Torch.Tests;

public class TorchSetupTests
{
    [Test]
    public void NativeLibrary_LoadsAndComputes()
    {
        // Fails with TorchSharp's "doesn't contain a reference to libtorch" error when the Debian 12 native fix did not run.
        using var a = torch.ones(3, 3);
        using var b = torch.mm(a, a);
        Assert.That(b.sum().item<float>(), Is.EqualTo(27f));
    }

    [Test]
    public void ParseDevice_UnknownName_ThrowsWithTheName()
    {
        var ex = Assert.Throws<ArgumentException>(() => TorchSetup.ParseDevice("tpu"));
        Assert.That(ex!.Message, Does.Contain("tpu"));
    }

    [Test]
    public void PreparedRuntime_HasOneDnnAndNnpackKernelsOff()
    {
        // The assembly's set-up ran PrepareNativeRuntime, as the CLI does first thing.
        Assert.That(TorchSetup.OneDnnEnabled, Is.False);
        Assert.That(TorchSetup.NnpackEnabled, Is.False);
    }

    // Channel counts of the small CNN (1→6, 6→12) and others off and on oneDNN's 8/16-channel blocks.
    [TestCase(1, 6, 28)]
    [TestCase(6, 12, 13)]
    [TestCase(4, 8, 13)]
    [TestCase(3, 5, 9)]
    [TestCase(8, 16, 13)]
    public void Convolution_InputAndWeightGradients_AgreeWithFloat64(int inChannels, int outChannels, int size)
    {
        using var scope = torch.NewDisposeScope();
        var gen = new torch.Generator(7);
        var x = torch.randn([16, inChannels, size, size], generator: gen);
        var w = torch.randn([outChannels, inChannels, 3, 3], generator: gen);
        var b = torch.randn([outChannels], generator: gen);
        var upstream = torch.randn([16, outChannels, size - 2, size - 2], generator: gen);

        var single = Gradients(x, w, b, upstream);
        var reference = Gradients(x.to(torch.float64), w.to(torch.float64), b.to(torch.float64), upstream.to(torch.float64));

        string[] names = ["input", "weight", "bias"];
        for (int i = 0; i < 3; i++)
        {
            // Float32 sums of a few hundred terms: error relative to the largest entry, not to each one.
            double error = (single[i].to(torch.float64) - reference[i]).abs().max().item<double>();
            double scale = reference[i].abs().max().item<double>();
            Assert.That(error, Is.LessThanOrEqualTo(1e-5 * scale), $"{names[i]} gradient, {inChannels}→{outChannels} channels");
        }
    }

    private static torch.Tensor[] Gradients(torch.Tensor x, torch.Tensor w, torch.Tensor b, torch.Tensor upstream)
    {
        var leaves = new[] { x, w, b }.Select(t => t.detach().requires_grad_(true)).ToArray();
        var y = torch.nn.functional.conv2d(leaves[0], leaves[1], leaves[2]);
        return torch.autograd.grad([(y * upstream).sum()], leaves).ToArray();
    }
}
