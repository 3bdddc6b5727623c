namespace L2OEvolve.Torch.Tests;

/// <summary>
/// Before any test of this assembly: reproducible MKL kernels (exact-resume tests compare weights bit for bit) and one
/// libtorch thread (the suite shares a busy machine; libtorch collapses on an oversubscribed core).
/// </summary>
[SetUpFixture]
public class TorchTestSetup
{
    [OneTimeSetUp]
    public void ReproducibleBlasOneThread()
    {
        TorchSetup.PrepareNativeRuntime();
        TorchSetup.SetThreads(1);
    }
}
