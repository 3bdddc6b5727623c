using L2OEvolve.Engine;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using L2OEvolve.Torch.Tests.Cli;
using L2OEvolve.Torch.Tests.Daemon;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherZooTests
{
    private TempDir _tmp = null!;

    [SetUp]
    public void Make() => _tmp = new TempDir();

    [TearDown]
    public void Clean() => _tmp.Dispose();

    private string PathOf(string name) => Path.Combine(_tmp.Path, name);

    // The shipped folders as the build copied them beside the test assembly.
    private static IEnumerable<string> ShippedFolders()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "teachers");
        return Directory.Exists(root) ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Order() : [];
    }

    // A tiny curriculum run (rp-s on the quadratic, evaluated every epoch) whose best and last weights differ.
    private static (string Dir, TrainingProgress Progress) TrainTiny(string dir)
    {
        var options = new TrainingOptions("quadratic", Epochs: 5, Steps: 20, Unroll: 10, MetaLr: 0.3, Seed: 1,
            Curriculum: [20], CurriculumEvalEvery: 1, CurriculumEvalRuns: 2, CurriculumPatience: 1000);
        using var t = MetaTrainer.Start(TeacherConfig.Preset("rp-s"), options, OptimizeeRegistry.Family("quadratic"), torch.CPU, dir);
        return (dir, t.Run());
    }

    private static readonly PublishRequest Tiny = new("tiny", 3, "rp-s on the quadratic, for tests");

    [Test]
    public void Build_ShipsEveryTeacherOfGrammarsTeachers_AndTheZooNamesThem()
    {
        Assert.That(ShippedFolders(), Does.Contain("rnnprop-fashion-v1"));
        Assert.That(TeacherZoo.Names, Is.SupersetOf(ShippedFolders()));
        Assert.That(TeacherZoo.Find("rnnprop-fashion-v1"), Is.SamePath(Path.Combine(AppContext.BaseDirectory, "teachers", "rnnprop-fashion-v1")));
    }

    [TestCaseSource(nameof(ShippedFolders))]
    public void ShippedTeacher_LoadsUnderItsName_AndReproducesTheCheckRecordedInItsManifest(string name)
    {
        var dir = TeacherZoo.Find(name)!;
        var manifest = TeacherManifest.TryRead(dir)!;
        Assert.That(manifest.FolderName, Is.EqualTo(name), "a shipped folder is named NAME-vVERSION of its manifest");
        foreach (var f in new[] { "config.json", TeacherManifest.WeightsFile, TeacherManifest.RecipeFile, TeacherManifest.EvaluationFile })
            Assert.That(File.Exists(Path.Combine(dir, f)), Is.True, f);
        Assert.That(manifest.Description, Is.Not.Empty);
        using var net = TeacherStore.LoadTeacher(dir, torch.CPU);
        Assert.That(net.Config, Is.EqualTo(TeacherStore.ReadConfig(dir).Config));
        double measured = TeacherPublisher.RunCheck(net, manifest.Check);
        Assert.That(manifest.Check.Matches(measured), Is.True,
            $"{name}: mean final train loss {measured:R} on {manifest.Check.Optimizee}, recorded {manifest.Check.MeanFinalTrainLoss:R}");
    }

    [Test]
    public void Check_WeightsMovedByOnePartInAThousand_NoLongerMatches()
    {
        var dir = TeacherZoo.Find("rnnprop-fashion-v1")!;
        var check = TeacherManifest.TryRead(dir)!.Check;
        using var net = TeacherStore.LoadTeacher(dir, torch.CPU);
        var weights = TeacherStore.Snapshot(net);
        foreach (var w in weights) for (int i = 0; i < w.Length; i++) w[i] *= 1.001f;
        TeacherStore.Restore(net, weights);
        Assert.That(check.Matches(TeacherPublisher.RunCheck(net, check)), Is.False);
    }

    [Test]
    public void Publish_ThenLoad_GivesTheBestWeights_WithProvenanceHashAndAReproducibleCheck()
    {
        var (train, progress) = TrainTiny(PathOf("train"));
        var out1 = PathOf("tiny-v3");
        var m = TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, out1);

        Assert.That(File.Exists(Path.Combine(out1, "progress.json")), Is.False, "only the selected weights ship");
        Assert.That(Directory.EnumerateFiles(out1, "*.bin").Select(Path.GetFileName), Is.EqualTo(new[] { TeacherManifest.WeightsFile }));
        Assert.That(TeacherManifest.TryRead(out1), Is.EqualTo(m), "teacher.json reads back as written");
        Assert.That(m.FolderName, Is.EqualTo("tiny-v3"));
        Assert.That(m.Origin.Weights, Is.EqualTo("best"));
        Assert.That(m.Origin.Epoch, Is.EqualTo(TeacherPublisher.BestEpoch(progress)).And.InRange(0, 4));
        Assert.That(m.Origin.EpochsTrained, Is.EqualTo(5));
        Assert.That(m.Origin.Training, Does.Contain("--model rp-s --optimizee quadratic --epochs 5").And.Contain("--curriculum-steps 20"));
        Assert.That(m.WeightsSha256, Is.EqualTo(TeacherManifest.Sha256(Path.Combine(out1, TeacherManifest.WeightsFile))));
        Assert.That(TeacherStore.ReadConfig(out1), Is.EqualTo(TeacherStore.ReadConfig(train)));

        using var published = TeacherStore.LoadTeacher(out1, torch.CPU, TeacherWeights.Auto, out bool best);
        using var original = TeacherStore.LoadTeacher(train, torch.CPU, TeacherWeights.Best);
        Assert.That(best, Is.True);
        Assert.That(TeacherStore.Snapshot(published), Is.EqualTo(TeacherStore.Snapshot(original)));
        Assert.That(m.Check.Matches(TeacherPublisher.RunCheck(published, m.Check)), Is.True);
        Assert.That(TeacherManifest.TryRead(train), Is.Null, "a training directory has no manifest");
    }

    [Test]
    public void Publish_OverAnExistingPublishedFolder_IsRefused()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p"));
        var e = Assert.Throws<IOException>(() => TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p")));
        Assert.That(e!.Message, Does.Contain("already holds a published teacher"));
    }

    [Test]
    public void LoadTeacher_WeightsNotMatchingTheManifestHash_FailsNamingTheFileAndTheMismatch()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p"));
        var weights = Path.Combine(PathOf("p"), TeacherManifest.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        var e = Assert.Throws<InvalidDataException>(() => TeacherStore.LoadTeacher(PathOf("p"), torch.CPU));
        Assert.That(e!.Message, Does.Contain(weights).And.Contain("SHA-256").And.Contain("does not match"));
    }

    [Test]
    public void LoadTeacher_WeightsMissing_FailsNamingTheFile()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p"));
        var weights = Path.Combine(PathOf("p"), TeacherManifest.WeightsFile);
        File.Delete(weights);
        var e = Assert.Throws<FileNotFoundException>(() => TeacherStore.LoadTeacher(PathOf("p"), torch.CPU));
        Assert.That(e!.Message, Does.Contain(weights).And.Contain("missing"));
    }

    [Test]
    public void LoadTeacher_TruncatedWeightsWithoutManifest_FailsNamingTheFile()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p"));
        File.Delete(Path.Combine(PathOf("p"), TeacherManifest.ManifestFile));
        var weights = Path.Combine(PathOf("p"), TeacherManifest.WeightsFile);
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);
        var e = Assert.Throws<InvalidDataException>(() => TeacherStore.LoadTeacher(PathOf("p"), torch.CPU));
        Assert.That(e!.Message, Does.Contain(weights));
    }

    [Test]
    public void LoadTeacher_PublishedFolder_RefusesTheWeightsItDoesNotHold()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Best, Tiny, PathOf("p"));
        using (TeacherStore.LoadTeacher(PathOf("p"), torch.CPU, TeacherWeights.Best)) { }
        var e = Assert.Throws<InvalidDataException>(() => TeacherStore.LoadTeacher(PathOf("p"), torch.CPU, TeacherWeights.Last));
        Assert.That(e!.Message, Does.Contain("only its selected weights (best)"));
    }

    [Test]
    public void Resume_OnAPublishedFolder_IsRefusedRatherThanTrainingOverIt()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        TeacherPublisher.Publish(train, TeacherWeights.Auto, Tiny, PathOf("p"));
        var e = Assert.Throws<ArgumentException>(() => MetaTrainer.Resume(PathOf("p"), OptimizeeRegistry.Family("quadratic"), torch.CPU));
        Assert.That(e!.Message, Does.Contain("a published teacher"));
        Assert.That(File.Exists(Path.Combine(PathOf("p"), "progress.json")), Is.False);
    }

    [Test]
    public void Manifest_ProvenanceLine_SaysSelectionEpochAndTrainingCommand()
    {
        var m = TeacherManifest.TryRead(TeacherZoo.Find("rnnprop-fashion-v1")!)!;
        Assert.That(m.Provenance, Does.StartWith("validation-selected").And.Contain("best weights of epoch 105 (of 130)").And.Contain("teacher train --model rnnprop --optimizee mlp-fashion"));
    }

    [Test]
    public void Resolve_UnknownName_ListsTheShippedTeachers()
    {
        var e = Assert.Throws<InputException>(() => TeacherZoo.Resolve("no-such-teacher", "pipeline.json", "$.teacher.pretrained"));
        Assert.That(e!.File, Is.EqualTo("pipeline.json"));
        Assert.That(e.Message, Does.Contain("no-such-teacher").And.Contain("rnnprop-fashion-v1").And.Contain("$.teacher.pretrained"));
    }

    [Test]
    public void Resolve_ShippedNameOrTeacherDirectory_GivesItsFolder_AFolderWithoutConfigIsRefused()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        Assert.That(TeacherZoo.Resolve("rnnprop-fashion-v1", "x"), Is.EqualTo(TeacherZoo.Find("rnnprop-fashion-v1")));
        Assert.That(TeacherZoo.Resolve(train, "x"), Is.EqualTo(train));
        Directory.CreateDirectory(PathOf("empty"));
        var e = Assert.Throws<InputException>(() => TeacherZoo.Resolve(PathOf("empty"), "x"));
        Assert.That(e!.Message, Does.Contain("without a teacher's config.json"));
    }

    [Test]
    public void Resolver_TeacherName_RunsTheShippedTeacher_LabelledByNameAndEpoch()
    {
        using var scope = torch.NewDisposeScope();
        var shapes = OptimizeeRegistry.Family("quadratic").Create(1, torch.CPU).ParameterShapes;
        using var opt = TeacherResolver.TryResolve("teacher:rnnprop-fashion-v1", torch.CPU)!(shapes, torch.CPU);
        Assert.That(opt.Name, Is.EqualTo("rnnprop[mt+gt|20|20,20]@rnnprop-fashion-v1:e105-best"));
        var e = Assert.Throws<ArgumentException>(() => TeacherResolver.TryResolve("teacher:no-such-teacher", torch.CPU));
        Assert.That(e!.Message, Does.Contain("rnnprop-fashion-v1"));
    }

    [Test]
    public async Task TeacherEvalVerb_ShippedName_RunsIt_UnknownNameListsTheShippedOnes()
    {
        using var cli = new CliRunner();
        var (code, _, _) = await cli.RunAsync("teacher", "eval", "--teacher", "rnnprop-fashion-v1", "--optimizee", "logreg", "--steps", "20",
            "--seeds", "1", "--no-tune-lr", "--out", cli.PathOf("e"));
        Assert.That(code, Is.EqualTo(0));
        Assert.That(File.ReadAllText(cli.PathOf("e/summary.md")), Does.Contain("| teacher:rnnprop-fashion-v1 |"));
        var (bad, _, stderr) = await cli.RunAsync("teacher", "eval", "--teacher", "rnnprop-fashion-v9", "--out", cli.PathOf("f"));
        Assert.That(bad, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("error: --teacher: no teacher 'rnnprop-fashion-v9'").And.Contain("rnnprop-fashion-v1"));
    }

    [Test]
    public async Task PublishVerb_WritesTheFolder_AndRefusesToOverwriteIt()
    {
        var (train, _) = TrainTiny(PathOf("train"));
        using var cli = new CliRunner();
        var out1 = cli.PathOf("tiny-v1");
        var args = new[] { "teacher", "publish", "--teacher", train, "--name", "tiny", "--version", "1", "--description", "a test teacher", "--out", out1 };
        var (code, stdout, _) = await cli.RunAsync(args);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("tiny-v1").And.Contain("best weights of epoch"));
        Assert.That(File.ReadAllText(Path.Combine(out1, TeacherManifest.RecipeFile)), Does.Contain("teacher train --model rp-s").And.Contain("teacher publish"));
        if (!OperatingSystem.IsWindows())
            Assert.That(File.GetUnixFileMode(Path.Combine(out1, TeacherManifest.RecipeFile)) & UnixFileMode.UserExecute, Is.EqualTo(UnixFileMode.UserExecute));
        var (again, _, stderr) = await cli.RunAsync(args);
        Assert.That(again, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("teacher publish: error:").And.Contain("already holds a published teacher"));
    }
}
