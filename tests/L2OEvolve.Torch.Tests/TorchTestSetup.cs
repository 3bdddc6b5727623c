namespace L2OEvolve.Torch.Tests;

/// <summary>Before any test of this assembly: reproducible MKL kernels (exact-resume tests compare weights bit for bit).</summary>
[SetUpFixture]
public class TorchTestSetup
{
    [OneTimeSetUp]
    public void ReproducibleBlas() => TorchSetup.MakeBlasReproducible();
}
