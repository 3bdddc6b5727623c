using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class TeacherResolverTests
{
    [Test]
    public void TryResolve_OtherSpec_IsNull() => Assert.That(TeacherResolver.TryResolve("adam:lr=0.01", torch.CPU), Is.Null);

    [Test]
    public void TryResolve_MissingDirectory_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => TeacherResolver.TryResolve("teacher:/nonexistent/t1", torch.CPU));
        Assert.That(ex!.Message, Does.Contain("/nonexistent/t1"));
    }

    [Test]
    public void TryResolve_TrainedDirectory_GivesAWorkingOptimizer()
    {
        var dir = Path.Combine(Path.GetTempPath(), "l2o-resolve-" + Guid.NewGuid().ToString("N"));
        try
        {
            var family = OptimizeeRegistry.Family("quadratic");
            using (var t = MetaTrainer.Start(TeacherConfig.Preset("rp-s"), new TrainingOptions("quadratic", Epochs: 1, Steps: 20, Unroll: 10), family, torch.CPU, dir))
                t.Run();
            var factory = TeacherResolver.TryResolve("teacher:" + dir, torch.CPU);
            Assert.That(factory, Is.Not.Null);
            using var scope = torch.NewDisposeScope();
            using var q = family.Create(5, torch.CPU);
            using var opt = factory!(q.ParameterShapes, torch.CPU);
            var p = q.InitialParameters().Select(x => x.clone()).ToArray();
            var before = p[0].clone();
            opt.Step(p, [torch.ones_like(p[0])], 1);
            Assert.That(torch.allclose(before, p[0], 0, 0), Is.False);
            Assert.That(opt.Name, Does.StartWith("rp-s"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
