using L2OEvolve.Cli;
using L2OEvolve.Torch.Teachers;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherCommandTests
{
    private string _dir = "";

    [SetUp]
    public void TempDir() => _dir = Path.Combine(Path.GetTempPath(), "l2o-teacher-cli-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void Clean()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Test]
    public async Task TrainInterruptedResumeThenRecord_EndToEnd_WritesCheckpointAndDataset()
    {
        var teacher = Path.Combine(_dir, "t");
        Assert.That(await CliApp.RunAsync(["teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "3", "--steps", "20",
            "--unroll", "10", "--out", teacher, "--max-epochs", "1"]), Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(1));
        Assert.That(await CliApp.RunAsync(["teacher", "train", "--out", teacher]), Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(3));
        Assert.That(await CliApp.RunAsync(["teacher", "train", "--out", teacher, "--epochs", "4"]), Is.EqualTo(0));
        Assert.That(TeacherStore.ReadProgress(teacher).Epoch, Is.EqualTo(4));
        var data = Path.Combine(_dir, "rec.npy");
        Assert.That(await CliApp.RunAsync(["teacher", "record", "--teacher", teacher, "--samples", "30", "--steps", "30",
            "--features", "mt_0,gt_0,mt_1,gt_1", "--out", data]), Is.EqualTo(0));
        Assert.That(File.Exists(data) && File.Exists(Path.Combine(_dir, "rec.npy.json")) && File.Exists(Path.Combine(_dir, "rec.traj.npy")), Is.True);
    }

    [Test]
    public async Task Train_OtherSettingsOnExistingRun_FailsNamingTheField()
    {
        var teacher = Path.Combine(_dir, "t");
        Assert.That(await CliApp.RunAsync(["teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "1", "--steps", "20", "--unroll", "10", "--out", teacher]), Is.EqualTo(0));
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.That(await CliApp.RunAsync(["teacher", "train", "--model", "rp-s", "--optimizee", "quadratic", "--epochs", "1", "--steps", "40", "--unroll", "10", "--out", teacher]), Is.EqualTo(2));
        }
        finally { Console.SetError(old); }
        Assert.That(err.ToString(), Does.Contain("steps: stored 20, given 40"));
    }
}
