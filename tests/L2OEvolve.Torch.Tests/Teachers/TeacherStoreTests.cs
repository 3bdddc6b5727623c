using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using L2OEvolve.Torch.Tests.Daemon;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherStoreTests
{
    private TempDir _tmp = null!;
    private string _dir => _tmp.Path;

    [SetUp]
    public void Make() => _tmp = new TempDir();

    [TearDown]
    public void Clean() => _tmp.Dispose();

    private static IOptimizeeFamily Quadratic => OptimizeeRegistry.Family("quadratic");

    // A one-stage curriculum evaluated every epoch that never stops, set up so that its fifth and last evaluation is
    // slightly worse than its fourth: best and last weights differ.
    private TrainingProgress TrainWithValidation(out float[][] last)
    {
        var options = new TrainingOptions("quadratic", Epochs: 5, Steps: 20, Unroll: 10, MetaLr: 0.3, Seed: 1,
            Curriculum: [20], CurriculumEvalEvery: 1, CurriculumEvalRuns: 2, CurriculumPatience: 1000);
        using var t = MetaTrainer.Start(TeacherConfig.Preset("rp-s"), options, Quadratic, torch.CPU, _dir);
        var progress = t.Run();
        last = TeacherStore.Snapshot(t.Net);
        return progress;
    }

    [Test]
    public void LoadTeacher_CurriculumRun_AutoAndBestLoadTheValidationSelectedWeights_LastTheFinalOnes()
    {
        var progress = TrainWithValidation(out var last);
        Assert.That(progress.BestWeights, Is.Not.Null);
        Assert.That(progress.History[^1].EvalCost, Is.GreaterThan(progress.Curriculum.Best), "the last evaluation is not the best");
        Assert.That(progress.BestWeights!.Zip(last).Any(p => !p.First.SequenceEqual(p.Second)), Is.True, "best and last weights differ");
        using var auto = TeacherStore.LoadTeacher(_dir, torch.CPU);
        using var best = TeacherStore.LoadTeacher(_dir, torch.CPU, TeacherWeights.Best);
        using var final = TeacherStore.LoadTeacher(_dir, torch.CPU, TeacherWeights.Last);
        Assert.That(TeacherStore.Snapshot(auto), Is.EqualTo(progress.BestWeights));
        Assert.That(TeacherStore.Snapshot(best), Is.EqualTo(progress.BestWeights));
        Assert.That(TeacherStore.Snapshot(final), Is.EqualTo(last));
    }

    [Test]
    public void LoadTeacher_RunWithoutEvaluations_AutoIsLast_BestIsRefusedNamingTheDirectory()
    {
        float[][] last;
        using (var t = MetaTrainer.Start(TeacherConfig.Preset("rp-s"), new TrainingOptions("quadratic", Epochs: 2, Steps: 20, Unroll: 10), Quadratic, torch.CPU, _dir))
        {
            t.Run();
            last = TeacherStore.Snapshot(t.Net);
        }
        using var auto = TeacherStore.LoadTeacher(_dir, torch.CPU);
        Assert.That(TeacherStore.Snapshot(auto), Is.EqualTo(last));
        var e = Assert.Throws<InvalidDataException>(() => TeacherStore.LoadTeacher(_dir, torch.CPU, TeacherWeights.Best));
        Assert.That(e!.Message, Does.Contain(_dir).And.Contain("no best weights"));
    }

    [Test]
    public void LoadTeacher_StateFileMissing_AutoLoadsTheLastWeights_BestSaysWhatIsMissing()
    {
        TrainWithValidation(out var last);
        File.Delete(Path.Combine(_dir, "state.e5.bin"));
        using var auto = TeacherStore.LoadTeacher(_dir, torch.CPU);
        Assert.That(TeacherStore.Snapshot(auto), Is.EqualTo(last));
        var e = Assert.Throws<FileNotFoundException>(() => TeacherStore.LoadTeacher(_dir, torch.CPU, TeacherWeights.Best));
        Assert.That(e!.Message, Does.Contain("state.e5.bin"));
    }

    [Test]
    public void Resolver_WeightsSuffix_PicksTheWeightsAndSaysWhich()
    {
        TrainWithValidation(out _);
        using var scope = torch.NewDisposeScope();
        var shapes = Quadratic.Create(1, torch.CPU).ParameterShapes;
        using var auto = TeacherResolver.TryResolve("teacher:" + _dir, torch.CPU)!(shapes, torch.CPU);
        using var last = TeacherResolver.TryResolve("teacher:" + _dir + "@last", torch.CPU)!(shapes, torch.CPU);
        using var best = TeacherResolver.TryResolve("teacher:" + _dir + "@best", torch.CPU)!(shapes, torch.CPU);
        Assert.That(auto.Name, Does.EndWith(":e5-best"));
        Assert.That(best.Name, Does.EndWith(":e5-best"));
        Assert.That(last.Name, Does.EndWith(":e5"));
    }
}
