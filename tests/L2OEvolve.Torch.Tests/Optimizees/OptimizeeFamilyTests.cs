using L2OEvolve.Torch.Optimizees;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Optimizees;

/// <summary>Properties every registered family must have, checked on tiny data written by the test.</summary>
public class OptimizeeFamilyTests
{
    private static TinyMnist _tiny = null!;
    private static OptimizeeOptions Options => new(DataDir: _tiny.Dir, BatchSize: 16);

    public static IEnumerable<string> AllNames => OptimizeeRegistry.Names;

    [OneTimeSetUp]
    public void OneTimeSetUp() => _tiny = new TinyMnist(n: 40);

    [OneTimeTearDown]
    public void OneTimeTearDown() => _tiny.Dispose();

    private static IOptimizee Make(string name, long seed) => OptimizeeRegistry.Create(name, seed, CPU, Options);

    [TestCaseSource(nameof(AllNames))]
    public void InitialParameters_MatchDeclaredShapes(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 1);
        var ps = opt.InitialParameters();
        Assert.That(ps.Select(p => p.shape), Is.EqualTo(opt.ParameterShapes));
        Assert.That(ps.All(p => !p.requires_grad), Is.True);
    }

    [TestCaseSource(nameof(AllNames))]
    public void Loss_SameSeedAndStep_IsIdentical(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var a = Make(name, 7);
        using var b = Make(name, 7);
        float la = a.Loss(a.InitialParameters(), 3).item<float>();
        float lb = b.Loss(b.InitialParameters(), 3).item<float>();
        Assert.That(la, Is.EqualTo(lb));
        Assert.That(float.IsFinite(la), Is.True);
    }

    [TestCaseSource(nameof(AllNames))]
    public void InitialParameters_DifferentSeeds_Differ(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var a = Make(name, 1);
        using var b = Make(name, 2);
        Assert.That(a.InitialParameters()[0].eq(b.InitialParameters()[0]).all().item<bool>(), Is.False);
    }

    [TestCase("logreg")]
    [TestCase("mlp-mnist-dm")]
    [TestCase("cnn-fashion")]
    public void Loss_DifferentSteps_SeeDifferentMinibatches(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 1);
        var ps = opt.InitialParameters();
        Assert.That(opt.Loss(ps, 1).item<float>(), Is.Not.EqualTo(opt.Loss(ps, 2).item<float>()));
    }

    [TestCaseSource(nameof(AllNames))]
    public void Loss_GradientReachesEveryParameterTensor(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 3);
        var ps = opt.InitialParameters().Select(p => p.requires_grad_(true)).ToArray();
        var grads = torch.autograd.grad([opt.Loss(ps, 1)], ps);
        for (int i = 0; i < ps.Length; i++)
        {
            Assert.That(grads[i].shape, Is.EqualTo(ps[i].shape), $"tensor {i}");
            Assert.That(grads[i].isfinite().all().item<bool>(), Is.True, $"tensor {i}");
            Assert.That(grads[i].abs().sum().item<float>(), Is.GreaterThan(0f), $"tensor {i}");
        }
    }

    [TestCaseSource(nameof(AllNames))]
    public void PopulationLoss_EqualsPerCopyLoss(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 5);
        // Three different parameter sets: this instance's init scaled up, so the copies give distinct losses.
        var copies = Enumerable.Range(0, 3)
            .Select(k => opt.InitialParameters().Select(p => p * (1 + 10 * k) + 0.01 * k).ToArray())
            .ToArray();
        var stacked = Enumerable.Range(0, copies[0].Length).Select(i => torch.stack(copies.Select(c => c[i]))).ToArray();

        var population = opt.PopulationLoss(stacked, 4);

        Assert.That(population.shape, Is.EqualTo(new long[] { 3 }));
        for (int k = 0; k < 3; k++)
        {
            float single = opt.Loss(copies[k], 4).item<float>();
            Assert.That(population[k].item<float>(), Is.EqualTo(single).Within(1e-5).Percent.Or.EqualTo(single).Within(1e-6), $"copy {k}");
        }
    }

    [TestCaseSource(nameof(AllNames))]
    public void PopulationLoss_GradientOfEachCopy_EqualsItsPerCopyGradient(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 6);
        var copies = Enumerable.Range(0, 2)
            .Select(k => opt.InitialParameters().Select(p => p * (1 + 20 * k)).ToArray())
            .ToArray();
        var stacked = Enumerable.Range(0, copies[0].Length)
            .Select(i => torch.stack(copies.Select(c => c[i])).requires_grad_(true)).ToArray();
        var stackedGrads = torch.autograd.grad([opt.PopulationLoss(stacked, 2).sum()], stacked);
        for (int k = 0; k < 2; k++)
        {
            var leaves = copies[k].Select(p => p.detach().requires_grad_(true)).ToArray();
            var grads = torch.autograd.grad([opt.Loss(leaves, 2)], leaves);
            for (int i = 0; i < leaves.Length; i++)
                Assert.That(stackedGrads[i][k].allclose(grads[i], rtol: 1e-4, atol: 1e-7), Is.True, $"copy {k}, tensor {i}");
        }
    }

    [TestCaseSource(nameof(AllNames))]
    public void Evaluate_GivesFiniteLossAndAccuracyWhereItApplies(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make(name, 1);
        var result = opt.Evaluate(opt.InitialParameters());
        Assert.That(double.IsFinite(result.Loss), Is.True);
        if (name is "quadratic" or "rosenbrock") Assert.That(result.Accuracy, Is.NaN);
        else Assert.That(result.Accuracy, Is.InRange(0.0, 1.0));
    }

    [Test]
    public void InitialParameters_DefaultInit_IsNormalWithStd001ForEveryTensor()
    {
        using var scope = torch.NewDisposeScope();
        using var opt = Make("mlp-mnist-rp", 1);
        var all = torch.cat(opt.InitialParameters().Select(p => p.flatten()).ToArray());
        Assert.That(all.shape[0], Is.EqualTo(784 * 30 + 30 + 30 * 20 + 20 + 20 * 10 + 10));
        Assert.That(all.std().item<float>(), Is.EqualTo(0.01f).Within(0.0005f));
        Assert.That(all.mean().item<float>(), Is.EqualTo(0f).Within(0.0005f));
    }

    [Test]
    public void InitialParameters_ZerosInitFromSpec_AreZero()
    {
        using var scope = torch.NewDisposeScope();
        using var opt = OptimizeeRegistry.Create("quadratic:init=zeros", 1, CPU);
        Assert.That(opt.InitialParameters()[0].abs().sum().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void Rosenbrock_HighDimensional_IsZeroAtOnesAndDMinusOneAtZero()
    {
        using var scope = torch.NewDisposeScope();
        using var opt = OptimizeeRegistry.Create("rosenbrock:dim=7", 1, CPU);
        Assert.That(opt.ParameterShapes[0], Is.EqualTo(new long[] { 7 }));
        Assert.That(opt.Loss([torch.ones(7)], 1).item<float>(), Is.EqualTo(0f));
        Assert.That(opt.Loss([torch.zeros(7)], 1).item<float>(), Is.EqualTo(6f));
    }

    [Test]
    public void Quadratic_AtZero_IsSquaredNormOfY()
    {
        using var scope = torch.NewDisposeScope();
        using var opt = OptimizeeRegistry.Create("quadratic", 1, CPU);
        var zero = torch.zeros(10);
        // ‖W·0 − y‖² = ‖y‖², and y is not zero.
        float atZero = opt.Loss([zero], 1).item<float>();
        Assert.That(atZero, Is.GreaterThan(0f));
        Assert.That(opt.Evaluate([zero]).Loss, Is.EqualTo(atZero).Within(1e-6));
    }

    [Test]
    public void Family_UnknownName_ListsKnownNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizeeRegistry.Family("resnet"));
        Assert.That(ex!.Message, Does.Contain("resnet").And.Contain("mlp-mnist-rp"));
    }

    [Test]
    public void Family_DimensionOnANetwork_IsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizeeRegistry.Family("mlp-mnist-rp:dim=5"));
        Assert.That(ex!.Message, Does.Contain("dim=5").And.Contain("does not apply"));
    }

    [Test]
    public void Family_UnknownSetting_NamesIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizeeRegistry.Family("quadratic:depth=3"));
        Assert.That(ex!.Message, Does.Contain("depth"));
    }
}

public class OptimizeeVariantTests
{
    [Test]
    public void MlpSettings_ChangeWidthsAndActivation()
    {
        var family = (MlpFamily)OptimizeeRegistry.Family("mlp-fashion:hidden=32x16,act=tanh", new OptimizeeOptions(DataDir: "/unused"));
        Assert.That(family.Hidden, Is.EqualTo(new[] { 32, 16 }));
    }

    [TestCase("mlp-fashion:hidden=0", "hidden=0")]
    [TestCase("mlp-fashion:hidden=3x", "hidden=3x")]
    [TestCase("mlp-fashion:act=swish", "act=swish")]
    [TestCase("quadratic:act=tanh", "MLP families only")]
    public void MlpSettings_BadValues_FailNamingThem(string spec, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizeeRegistry.Family(spec));
        Assert.That(ex!.Message, Does.Contain(expected));
    }

    [Test]
    public void Mixture_DrawsInstanceSeedFromMemberSeedModN()
    {
        var mix = (MixtureFamily)OptimizeeRegistry.Family("quadratic;logreg");
        Assert.That(mix.Members.Select(m => m.Name), Is.EqualTo(new[] { "quadratic", "logreg" }));
        using var even = mix.Create(4, TorchSharp.torch.CPU);
        using var odd = mix.Create(7, TorchSharp.torch.CPU);
        using var q = OptimizeeRegistry.Create("quadratic", 4, TorchSharp.torch.CPU);
        using var l = OptimizeeRegistry.Create("logreg", 7, TorchSharp.torch.CPU);
        Assert.That(even.ParameterShapes, Is.EqualTo(q.ParameterShapes));
        Assert.That(odd.ParameterShapes, Is.EqualTo(l.ParameterShapes));
        Assert.Throws<ArgumentException>(() => OptimizeeRegistry.Family("quadratic;;logreg"));
    }
}
