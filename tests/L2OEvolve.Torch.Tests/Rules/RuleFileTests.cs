using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

public class RuleFileTests
{
    /// <summary>The repository's grammars/optimizers folder, found upwards from the test binaries.</summary>
    internal static string ShippedDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "grammars", "optimizers");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("grammars/optimizers not found above " + AppContext.BaseDirectory);
    }

    internal static string Shipped(string name) => Path.Combine(ShippedDir(), name + RuleFile.Extension);

    [TestCase("sgd", 0)]
    [TestCase("momentum", 1)]
    [TestCase("nesterov", 1)]
    [TestCase("rmsprop", 1)]
    [TestCase("adam", 2)]
    [TestCase("adamw", 2)]
    [TestCase("lion", 1)]
    [TestCase("paper-june", 2)]
    public void Load_ShippedRule_CompilesWithExpectedStateFloats(string name, int stateFloats)
    {
        var rule = RuleFile.Load(Shipped(name));
        Assert.That(rule.Name, Is.EqualTo(name));
        Assert.That(rule.Compile().StateSlots, Is.EqualTo(stateFloats));
    }

    [Test]
    public void Load_ShippedAdam_ReproducesTorchAdamOver200Steps()
    {
        using var problem = OptimizeeRegistry.Create("logreg", 7, CPU);
        using var opt = RuleFile.Load(Shipped("adam")).Factory()(problem.ParameterShapes, CPU);
        var ours = Trajectory(problem, 200, opt);
        var reference = TorchTrajectory(problem, 200, ps => optim.Adam(ps));
        Assert.That(MaxRelativeDeviation(ours, reference), Is.LessThan(1e-5));
        Assert.That(opt.StateFloatsPerParameter, Is.EqualTo(2));
    }

    /// <summary>The shipped rule's 200-step trajectory on logistic regression against TorchSharp's own optimizer.</summary>
    private static void AssertShippedReproduces(string name, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> torchOptimizer)
    {
        using var problem = OptimizeeRegistry.Create("logreg", 7, CPU);
        using var opt = RuleFile.Load(Shipped(name)).Factory()(problem.ParameterShapes, CPU);
        var reference = TorchTrajectory(problem, 200, torchOptimizer);
        Assert.That(MaxRelativeDeviation(Trajectory(problem, 200, opt), reference), Is.LessThan(1e-5));
    }

    [Test]
    public void Load_ShippedMomentum_ReproducesTorchSgdMomentum()
        => AssertShippedReproduces("momentum", ps => optim.SGD(ps, 0.01, momentum: 0.9));

    [Test]
    public void Load_ShippedNesterov_ReproducesTorchNesterov()
        => AssertShippedReproduces("nesterov", ps => optim.SGD(ps, 0.01, momentum: 0.9, nesterov: true));

    [Test]
    public void Load_ShippedRmsprop_ReproducesTorchRmsprop()
        => AssertShippedReproduces("rmsprop", ps => optim.RMSProp(ps, 0.01));

    [Test]
    public void Load_ShippedAdamW_ReproducesTorchAdamW()
        => AssertShippedReproduces("adamw", ps => optim.AdamW(ps, 0.001, weight_decay: 0.01));

    [Test]
    public void Load_ShippedLion_MatchesLionWrittenOut()
    {
        using var problem = OptimizeeRegistry.Create("logreg", 7, CPU);
        using var opt = RuleFile.Load(Shipped("lion")).Factory()(problem.ParameterShapes, CPU);
        var ours = Trajectory(problem, 100, opt);
        // Lion as published: c = β1 m + (1−β1) g; θ −= lr sign(c); m = β2 m + (1−β2) g.
        var momenta = new List<Tensor>();
        var reference = Trajectory(problem, 100, (ps, step) =>
        {
            using var _ = no_grad();
            if (momenta.Count == 0) momenta.AddRange(ps.Select(p => zeros_like(p).DetachFromDisposeScope()));
            for (int i = 0; i < ps.Count; i++)
            {
                var g = ps[i].grad!;
                ps[i].sub_(momenta[i].mul(0.9).add(g.mul(0.1)).sign().mul(1e-4));
                momenta[i].mul_(0.99).add_(g.mul(0.01));
            }
        });
        Assert.That(MaxRelativeDeviation(ours, reference), Is.LessThan(1e-5));
    }

    [Test]
    public void Format_ThenParse_GivesTheSameDefinition()
    {
        var rule = RuleFile.Load(Shipped("adam"));
        var back = RuleFile.Parse(RuleFile.Format(rule), "roundtrip");
        Assert.That(back, Is.EqualTo(rule));
    }

    [Test]
    public void Parse_FeatureSettings_AreApplied()
    {
        var rule = RuleFile.Parse("""{"rule": "-0.01 * mt", "features": {"beta1": 0.8, "beta2": 0.9}}""", "x", "mine");
        Assert.That(rule.Features, Is.EqualTo(new FeatureSettings(Beta1: 0.8, Beta2: 0.9)));
        Assert.That(rule.Name, Is.EqualTo("mine"));
    }

    [TestCase("""{"rule": "-0.01 * g" """, "malformed JSON")]
    [TestCase("""{"rule": "-0.01 * gg"}""", "unknown feature 'gg'")]
    [TestCase("""{"rule": "-0.01 * (g"}""", "$.rule")]
    [TestCase("""{"name": "x"}""", "missing \"rule\"")]
    [TestCase("""{"rule": "g", "lr": 0}""", "$.lr")]
    [TestCase("""{"rule": "g", "lr": "fast"}""", "$.lr")]
    [TestCase("""{"rule": "g", "step": 3}""", "unknown key 'step'")]
    [TestCase("""{"rule": "g", "features": {"beta1": 1.5}}""", "$.features.beta1")]
    [TestCase("""{"rule": "-0.01 * lag(100000000, g)"}""", "at most 10000 steps")]
    public void Parse_BadInput_FailsNamingFileAndFault(string json, string expected)
    {
        var ex = Assert.Throws<InputException>(() => RuleFile.Parse(json, "bad.rule.json"));
        Assert.That(ex!.Message, Does.Contain("bad.rule.json").And.Contain(expected));
    }

    [TestCase(":speed=2")]
    [TestCase(":lr=0")]
    [TestCase(":lr=-1")]
    [TestCase(":lr=fast")]
    public void TryResolve_BadOption_ThrowsArgumentException(string option)
    {
        Assert.Throws<ArgumentException>(() => RuleFile.TryResolve(Shipped("adam") + option, CPU));
    }

    [Test]
    public void Lr_ScalesTheUpdate_AndOneMeansAsWritten()
    {
        var rule = Def("-1 * sign(g)");
        Assert.That(rule.Update, Is.SameAs(rule.Rule), "lr 1 is the rule as written");
        var half = rule.WithLr(0.5);
        Assert.That(Infix.Print(half.Update), Is.EqualTo(Infix.Print(Infix.Parse("0.5 * (-1 * sign(g))"))));
        Assert.That(half.Folded().Lr, Is.EqualTo(1.0));
        Assert.That(half.Folded().Rule, Is.EqualTo(half.Update));
        Assert.That(half.Folded().Unfolded(), Is.EqualTo(half));
        Assert.That(Def("-0.5 * g").Unfolded(), Is.EqualTo(Def("-0.5 * g")), "a negative factor is the rule's sign, not a step size");
        Assert.Throws<ArgumentException>(() => rule.WithLr(double.NaN));
        Assert.Throws<ArgumentException>(() => rule.WithLr(0));
    }

    [Test]
    public void TryResolve_LrOption_ReplacesTheFilesStepSize()
    {
        // Shipped rules keep the direction in "rule" and the published step size in "lr": lion's lr is 1e-4.
        Assert.That(RuleFile.Load(Shipped("lion")).Lr, Is.EqualTo(1e-4));
        using var problem = OptimizeeRegistry.Create("logreg", 7, CPU);
        using var tuned = RuleFile.TryResolve(Shipped("sgd") + ":lr=0.05", CPU)!(problem.ParameterShapes, CPU);
        using var plain = Def("-0.05 * g").Factory()(problem.ParameterShapes, CPU);
        Assert.That(MaxRelativeDeviation(Trajectory(problem, 30, tuned), Trajectory(problem, 30, plain)), Is.LessThan(1e-6));
    }

    [Test]
    public void TryResolveShipped_NameWithLr_ResolvesTheShippedFile()
    {
        Assert.That(RuleFile.ShippedNames, Is.SupersetOf(new[] { "adam", "adamw", "lion", "momentum", "nesterov", "rmsprop", "sgd" }));
        using var problem = OptimizeeRegistry.Create("logreg", 7, CPU);
        using var byName = RuleFile.TryResolveShipped("rmsprop:lr=0.003", CPU)!(problem.ParameterShapes, CPU);
        using var byPath = RuleFile.TryResolve(Shipped("rmsprop") + ":lr=0.003", CPU)!(problem.ParameterShapes, CPU);
        Assert.That(MaxRelativeDeviation(Trajectory(problem, 20, byName), Trajectory(problem, 20, byPath)), Is.EqualTo(0));
        Assert.That(RuleFile.TryResolveShipped("no-such-optimizer", CPU), Is.Null);
        Assert.That(RuleFile.TryResolveShipped("../adam", CPU), Is.Null, "names never reach outside the shipped folder");
    }

    [Test]
    public void TryResolve_NameThatIsNotARuleFile_ReturnsNull()
    {
        Assert.That(RuleFile.TryResolve("adam", CPU), Is.Null);
    }

    [Test]
    public void TryResolve_PathWithBackendOption_BuildsThatBackend()
    {
        var factory = RuleFile.TryResolve(Shipped("adam") + ":backend=opchain", CPU);
        using var opt = (RuleOptimizer)factory!([[3]], CPU);
        Assert.That(opt.Backend, Is.EqualTo(RuleBackend.OpChain));
        Assert.That(opt.Name, Is.EqualTo("adam"));
    }

    [Test]
    public void TryResolve_MissingRuleFile_FailsNamingThePath()
    {
        var ex = Assert.Throws<InputException>(() => RuleFile.TryResolve("/nonexistent/x.rule.json", CPU));
        Assert.That(ex!.Message, Does.Contain("/nonexistent/x.rule.json"));
    }

    [Test]
    public void Parse_Define_RuleUsesItsOwnOperatorAndFormatWritesTheDefinitionBack()
    {
        var def = RuleFile.Parse("""
            { "name": "soft", "define": { "rftest_soft(x)": "x / (1 + abs(x))", "rftest_twice(x)": "2 * rftest_soft(x)" },
              "rule": "-0.01 * rftest_twice(m)" }
            """, "soft.rule.json");
        Assert.That(Infix.Print(def.Rule), Is.EqualTo("-0.01 * rftest_twice(m)"), "printed under its own name");
        var text = RuleFile.Format(def);
        Assert.That(text, Does.Contain("\"rftest_soft(x)\": \"x / (1 + abs(x))\"").And.Contain("\"rftest_twice(x)\": \"2 * rftest_soft(x)\""));
        Assert.That(text.IndexOf("rftest_soft(x)", StringComparison.Ordinal), Is.LessThan(text.IndexOf("rftest_twice(x)", StringComparison.Ordinal)), "dependencies first");
        Assert.That(RuleFile.Parse(text, "again.rule.json").Rule, Is.EqualTo(def.Rule));
    }

    [TestCase("""{ "rftest_bad(x)": "x + y" }""", "unknown name 'y'")]
    [TestCase("""{ "sqrt(x)": "x" }""", "shadows a built-in")]
    public void Parse_BadDefine_NamesTheFileTheOperatorAndTheFault(string define, string fault)
    {
        var ex = Assert.Throws<InputException>(() => RuleFile.Parse($$"""{ "define": {{define}}, "rule": "g" }""", "bad.rule.json"))!;
        Assert.That(ex.Message, Does.StartWith("bad.rule.json").And.Contain("$.define").And.Contain(fault));
    }
}
