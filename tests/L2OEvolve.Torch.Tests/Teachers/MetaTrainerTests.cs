using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class MetaTrainerTests
{
    private string _dir = "";

    [SetUp]
    public void TempDir() => _dir = Path.Combine(Path.GetTempPath(), "l2o-teacher-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void Clean()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static IOptimizeeFamily Quadratic => OptimizeeRegistry.Family("quadratic");

    private static TrainingOptions Options(int epochs, double imitation = 0, double scale = 0) =>
        new("quadratic", Epochs: epochs, Steps: 40, Unroll: 10, MetaLr: 0.01, Seed: 3, Imitation: imitation, RandomScale: scale);

    [Test]
    public void Run_OnQuadratic_ReducesTheLossOfHeldOutRuns()
    {
        var config = TeacherConfig.Preset("rp-s");
        using var trainer = MetaTrainer.Start(config, Options(30), Quadratic, torch.CPU, null);
        double Cost()
        {
            double sum = 0;
            for (int seed = 900; seed < 903; seed++)
            {
                using var q = Quadratic.Create(seed, torch.CPU);
                sum += Rollout.Losses(trainer.Net, q, 40, torch.CPU).Sum();
            }
            return sum;
        }
        double before = Cost();
        var progress = trainer.Run();
        Assert.That(progress.Epoch, Is.EqualTo(30));
        Assert.That(Cost(), Is.LessThan(0.8 * before));
    }

    [Test]
    public void Resume_HalfwayCheckpoint_ReachesIdenticalWeights()
    {
        var config = TeacherConfig.Preset("rp-si");
        var options = Options(6, imitation: 0.4, scale: 1.0);
        float[][] straight;
        using (var t = MetaTrainer.Start(config, options, Quadratic, torch.CPU, null))
        {
            t.Run();
            straight = TeacherStore.Snapshot(t.Net);
            Assert.That(t.Progress.History.Select(h => h.Kind), Does.Contain("imitation").And.Contain("meta"));
        }
        using (var t = MetaTrainer.Start(config, options, Quadratic, torch.CPU, _dir)) t.Run(maxEpochs: 3);
        using (var t = MetaTrainer.Resume(_dir, Quadratic, torch.CPU))
        {
            Assert.That(t.Progress.Epoch, Is.EqualTo(3));
            t.Run();
            Assert.That(TeacherStore.Snapshot(t.Net), Is.EqualTo(straight));
        }
        using var loaded = TeacherStore.LoadTeacher(_dir, torch.CPU);
        Assert.That(TeacherStore.Snapshot(loaded), Is.EqualTo(straight));
    }

    [Test]
    public void Run_LaterEpochs_ReuseTheStepMemoryOfTheFirst_AndTrainAsWithoutThePool()
    {
        var config = TeacherConfig.Preset("rnnprop");
        var options = Options(3);
        float[][] pooled;
        using (var t = MetaTrainer.Start(config, options, Quadratic, torch.CPU, null))
        {
            var pool = t.Net.Activations!;
            t.Run(maxEpochs: 1);
            int blocks = pool.Blocks;
            Assert.That(blocks, Is.GreaterThan(0));
            t.Run();
            Assert.That(pool.Blocks, Is.EqualTo(blocks), "epochs 2 and 3 allocate no new step memory");
            pooled = TeacherStore.Snapshot(t.Net);
        }
        using (var t = MetaTrainer.Start(config, options, Quadratic, torch.CPU, null))
        {
            t.Net.Activations = null;
            t.Run();
            Assert.That(TeacherStore.Snapshot(t.Net), Is.EqualTo(pooled));
        }
    }

    [Test]
    public void Run_MixtureOfSizes_KeepsOnlyTheCurrentSizesStepMemory()
    {
        var family = OptimizeeRegistry.Family("quadratic:dim=10;quadratic:dim=30");
        using var t = MetaTrainer.Start(TeacherConfig.Preset("rnnprop"), Options(6), family, torch.CPU, null);
        var held = new List<long>();
        for (int e = 0; e < 6; e++)
        {
            t.Run(maxEpochs: 1);
            held.Add(t.Net.Activations!.Bytes);
        }
        // One amount per size, going down again after a switch to the smaller one; holding every size's blocks
        // would only ever grow.
        Assert.That(held.Distinct().Count(), Is.EqualTo(2), string.Join(", ", held));
        Assert.That(held.Zip(held.Skip(1)).Any(p => p.Second < p.First), Is.True, string.Join(", ", held));
    }

    [Test]
    public void Run_AllImitation_BringsTeacherUpdatesTowardsAdamSteps()
    {
        var config = TeacherConfig.Preset("rp-s");
        using var trainer = MetaTrainer.Start(config, Options(25, imitation: 1.0) with { ImitationTeacherLr = 0.01 }, Quadratic, torch.CPU, null);
        var history = trainer.Run().History;
        Assert.That(history.All(h => h.Kind == "imitation"), Is.True);
        Assert.That(history.TakeLast(5).Average(h => h.MetaLoss), Is.LessThan(0.5 * history.Take(5).Average(h => h.MetaLoss)));
    }

    [Test]
    public void Run_ImitationWarmup_FirstEpochsImitateThenTheDrawsDecide()
    {
        var config = TeacherConfig.Preset("rp-s");
        string[] Kinds(TrainingOptions o)
        {
            using var t = MetaTrainer.Start(config, o, Quadratic, torch.CPU, null);
            return [.. t.Run().History.Select(h => h.Kind)];
        }
        var plain = Kinds(Options(8, imitation: 0.4));
        var warm = Kinds(Options(8, imitation: 0.4) with { ImitationWarmup = 3 });
        Assert.That(warm.Take(3), Is.All.EqualTo("imitation"));
        Assert.That(warm.Skip(3), Is.EqualTo(plain.Skip(3)));
        Assert.That(plain.Take(3), Does.Contain("meta"), "seed 3 should draw a meta epoch among the first three, or the test shows nothing");
    }

    [Test]
    public void ImitationWarmup_JsonRoundTripAndOldConfigs_ReadBack()
    {
        var o = Options(4) with { ImitationWarmup = 2 };
        Assert.That(TrainingOptions.FromJson(o.ToJson(), "t.json"), Is.EqualTo(o));
        var old = Options(4).ToJson();
        old.Remove("imitationWarmup");
        Assert.That(TrainingOptions.FromJson(old, "t.json").ImitationWarmup, Is.EqualTo(0));
    }

    [Test]
    public void Run_Curriculum_EvaluatesAndAdvancesOrStops()
    {
        var options = Options(12) with { Curriculum = [20, 40, 60], CurriculumPatience = 1, MetaLr = 0.3 };
        using var trainer = MetaTrainer.Start(TeacherConfig.Preset("rp-s"), options, Quadratic, torch.CPU, _dir);
        var progress = trainer.Run();
        Assert.That(progress.History.All(h => h.EvalCost is not null), Is.True);
        Assert.That(progress.History[0].Steps, Is.EqualTo(20));
        Assert.That(progress.Curriculum.Stage > 0 || progress.Curriculum.Stopped, Is.True);
        if (progress.Curriculum.Stage > 0) Assert.That(progress.History[^1].Steps, Is.EqualTo(options.Curriculum[progress.Curriculum.Stage]).Or.EqualTo(options.Curriculum[progress.Curriculum.Stage - 1]));
        var reread = TeacherStore.ReadProgress(_dir);
        Assert.That(reread.Curriculum, Is.EqualTo(progress.Curriculum));
    }

    [Test]
    public void Resume_ChangedSettingsInDirectory_AreTheStoredOnes()
    {
        using (var t = MetaTrainer.Start(TeacherConfig.Preset("dm"), Options(2), Quadratic, torch.CPU, _dir)) t.Run(maxEpochs: 1);
        using var r = MetaTrainer.Resume(_dir, Quadratic, torch.CPU);
        Assert.That(r.Options, Is.EqualTo(Options(2)));
        Assert.That(r.Net.Config, Is.EqualTo(TeacherConfig.Preset("dm")));
    }
}
