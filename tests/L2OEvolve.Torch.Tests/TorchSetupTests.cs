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
}
