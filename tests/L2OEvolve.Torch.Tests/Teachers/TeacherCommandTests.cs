using L2OEvolve.Torch.Teachers;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherCommandTests
{
    [Test]
    public async Task TrainInterruptedResumeThenRecord_EndToEnd_WritesCheckpointAndDataset()
    {
        using var cli = new CliRunner();
        var teacher = cli.PathOf("t");
        Assert.That((await cli.RunAsync("teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "3", "--steps", "20",
            "--unroll", "10", "--out", teacher, "--max-epochs", "1")).Code, Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(1));
        Assert.That((await cli.RunAsync("teacher", "train", "--out", teacher)).Code, Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(3));
        Assert.That((await cli.RunAsync("teacher", "train", "--out", teacher, "--epochs", "4")).Code, Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(4));
        var data = cli.PathOf("rec.npy");
        Assert.That((await cli.RunAsync("teacher", "record", "--teacher", teacher, "--samples", "30", "--steps", "30",
            "--features", "mt_0,gt_0,mt_1,gt_1", "--out", data)).Code, Is.EqualTo(0));
        Assert.That(File.Exists(data) && File.Exists(cli.PathOf("rec.npy.json")) && File.Exists(cli.PathOf("rec.traj.npy")), Is.True);
    }

    [Test]
    public async Task Train_OtherSettingsOnExistingRun_FailsNamingTheField()
    {
        using var cli = new CliRunner();
        var teacher = cli.PathOf("t");
        Assert.That((await cli.RunAsync("teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "1", "--steps", "20", "--unroll", "10", "--out", teacher)).Code, Is.EqualTo(0));
        var (code, _, stderr) = await cli.RunAsync("teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "1", "--steps", "40", "--unroll", "10", "--out", teacher);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("steps: stored 20, given 40"));
    }
}
