using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

public class RuleOptimizerTests
{
    [TestCase("quadratic", RuleBackend.Fused)]
    [TestCase("quadratic", RuleBackend.OpChain)]
    [TestCase("logreg", RuleBackend.Fused)]
    [TestCase("logreg", RuleBackend.OpChain)]
    public void Step_AdamRule_ReproducesTorchAdamTrajectoryOver200Steps(string optimizee, RuleBackend backend)
    {
        using var problem = OptimizeeRegistry.Create(optimizee, 3, CPU);
        using var rule = new RuleOptimizer("adam", RuleProgram.Compile(Adam(0.01)), problem.ParameterShapes, CPU, backend);
        var ours = Trajectory(problem, 200, rule);
        var reference = TorchTrajectory(problem, 200, ps => optim.Adam(ps, lr: 0.01));
        Assert.That(MaxRelativeDeviation(ours, reference), Is.LessThan(1e-5));
        Assert.That(MaxRelativeDeviation(ours, [.. Enumerable.Repeat(ours[0], ours.Count)]), Is.GreaterThan(0.1), "the parameters must travel");
        Assert.That(rule.Diverged, Is.False);
    }

    [TestCase(RuleBackend.Fused)]
    [TestCase(RuleBackend.OpChain)]
    public void Step_MomentumRule_ReproducesTorchSgdMomentumTrajectory(RuleBackend backend)
    {
        // torch's SGD momentum keeps b ← μb + g and steps −lr·b; with the ema s = ema(μ, g) = (1−μ)·b that is −lr/(1−μ)·s.
        var rule = Mul(C(-0.01 / (1 - 0.9)), new Expr.Ema(0.9, false, G));
        using var problem = OptimizeeRegistry.Create("logreg", 5, CPU);
        using var opt = new RuleOptimizer("momentum", RuleProgram.Compile(rule), problem.ParameterShapes, CPU, backend);
        var ours = Trajectory(problem, 200, opt);
        var reference = TorchTrajectory(problem, 200, ps => optim.SGD(ps, 0.01, momentum: 0.9));
        Assert.That(MaxRelativeDeviation(ours, reference), Is.LessThan(1e-5));
    }

    [Test]
    public void StateFloatsPerParameter_Adam_IsTwo()
    {
        using var opt = new RuleOptimizer("adam", RuleProgram.Compile(Adam(0.001)), [[4]], CPU);
        Assert.That(opt.StateFloatsPerParameter, Is.EqualTo(2));
    }

    [Test]
    public void Step_FusedAndOpChainOnRuleWithLagsAndFeatures_Agree()
    {
        // Every feature kind at once: lagged gradients, m̃/g̃, momenta, t, a written ema and a lag of a lag'd feature.
        var rule = Mul(C(-0.01), Add(Add(Add(V("mt"), V("g1")), Add(V("gt_2"), V("mom99"))),
            Add(Mul(V("t"), new Expr.Lag(3, V("mom5"))), new Expr.Unary(Op.Tanh, new Expr.Ema(0.7, true, new Expr.Unary(Op.Abs, G))))));
        using var problem = OptimizeeRegistry.Create("logreg", 1, CPU);
        var program = RuleProgram.Compile(rule);
        using var fused = new RuleOptimizer("r", program, problem.ParameterShapes, CPU, RuleBackend.Fused);
        using var chain = new RuleOptimizer("r", program, problem.ParameterShapes, CPU, RuleBackend.OpChain);
        var a = Trajectory(problem, 50, fused);
        var b = Trajectory(problem, 50, chain);
        Assert.That(MaxRelativeDeviation(a, b), Is.LessThan(1e-5));
    }

    [Test]
    public void Step_ExplodingRule_MarksDivergedWithoutThrowing()
    {
        var rule = new Expr.Unary(Op.Exp, Mul(C(1e4), new Expr.Unary(Op.Abs, G)));
        using var problem = OptimizeeRegistry.Create("quadratic", 1, CPU);
        using var opt = new RuleOptimizer("boom", RuleProgram.Compile(rule), problem.ParameterShapes, CPU, RuleBackend.Fused);
        Assert.DoesNotThrow(() => Trajectory(problem, 3, opt));
        Assert.That(opt.DivergedAtStep, Is.EqualTo(1));
    }

    [Test]
    public void Step_OpChainExplodingRule_MarksDiverged()
    {
        var rule = new Expr.Unary(Op.Exp, Mul(C(1e4), new Expr.Unary(Op.Abs, G)));
        using var problem = OptimizeeRegistry.Create("quadratic", 1, CPU);
        using var opt = new RuleOptimizer("boom", RuleProgram.Compile(rule), problem.ParameterShapes, CPU, RuleBackend.OpChain);
        Trajectory(problem, 2, opt);
        Assert.That(opt.Diverged, Is.True);
    }

    [Test]
    public void Step_SkippedStep_ThrowsNamingTheRule()
    {
        using var opt = new RuleOptimizer("sgd", RuleProgram.Compile(Mul(C(-0.1), G)), [[2]], CPU);
        using var p = zeros(2);
        using var g = ones(2);
        var ex = Assert.Throws<ArgumentException>(() => opt.Step([p], [g], 2));
        Assert.That(ex!.Message, Does.Contain("sgd"));
    }

    [Test]
    public void Step_LagOfGradient_UsesValueFromKStepsAgoAndZeroBefore()
    {
        // θ += lag(2, g): with g = 1, 2, 3, 4 on steps 1..4 the increments are 0, 0, 1, 2.
        using var opt = new RuleOptimizer("lag", RuleProgram.Compile(V("g2")), [[3]], CPU, RuleBackend.Fused);
        using var p = zeros(3);
        var seen = new List<float>();
        for (int step = 1; step <= 4; step++)
        {
            using var g = full(3, (float)step);
            float before = p[0].item<float>();
            opt.Step([p], [g], step);
            seen.Add(p[0].item<float>() - before);
        }
        Assert.That(seen, Is.EqualTo(new[] { 0f, 0f, 1f, 2f }));
    }

    [TestCase("lag(1, lag(1, g))")]
    [TestCase("-0.1 * (lag(2, m) + lag(1, p) + p2 - g_3)")]
    [TestCase("-0.01 * lag(3, mt) + lag(1, ema_bc(0.8, g1))")]
    [TestCase("-0.001 * t * lag(1, t) + lag(2, g) * lag(1, g)")]
    public void Step_FusedAndOpChainOnNestedLags_Agree(string text)
    {
        using var problem = OptimizeeRegistry.Create("logreg", 2, CPU);
        var program = RuleProgram.Compile(Infix.Parse(text));
        using var fused = new RuleOptimizer("r", program, problem.ParameterShapes, CPU, RuleBackend.Fused);
        using var chain = new RuleOptimizer("r", program, problem.ParameterShapes, CPU, RuleBackend.OpChain);
        Assert.That(MaxRelativeDeviation(Trajectory(problem, 12, fused), Trajectory(problem, 12, chain)), Is.LessThan(1e-5));
    }

    [Test]
    public void Step_FusedOverSeveralBlocksAndAPartialOne_AgreesWithOpChain()
    {
        long[][] shapes = [[2 * FusedKernel.Block + 37], [FusedKernel.Block], [5]];
        var program = RuleProgram.Compile(Infix.Parse("-0.01 * (mt + lag(2, g) * ema(0.8, g * g)) + 0.001 * p"));
        using var fused = new RuleOptimizer("r", program, shapes, CPU, RuleBackend.Fused);
        using var chain = new RuleOptimizer("r", program, shapes, CPU, RuleBackend.OpChain);
        var gen = new Generator(9);
        var pf = shapes.Select(s => randn(s, generator: gen)).ToList();
        var pc = pf.Select(t => t.clone()).ToList();
        for (int step = 1; step <= 5; step++)
        {
            using var scope = NewDisposeScope();
            var grads = shapes.Select(s => randn(s, generator: gen)).ToList();
            fused.Step(pf, grads, step);
            chain.Step(pc, grads, step);
        }
        for (int k = 0; k < shapes.Length; k++)
            Assert.That(allclose(pf[k], pc[k], rtol: 1e-5, atol: 1e-6), Is.True, $"tensor {k}");
    }

    private static readonly float[] Xs = [-2.5f, -1f, -0.3f, 0f, 0f, 0.2f, 1f, 3f, 0.7f, -0.05f, 1.5f];
    private static readonly float[] Ys = [1.5f, 0f, 2f, 0f, -1f, 0.5f, -2f, 0.25f, 0.7f, 3f, -0.4f];

    private static IEnumerable<TestCaseData> EveryOperator() =>
        from op in Ops.BuiltIn
        from backend in new[] { RuleBackend.Fused, RuleBackend.OpChain }
        select new TestCaseData(op, backend).SetArgDisplayNames(op.Name, backend.ToString());

    [TestCaseSource(nameof(EveryOperator))]
    public void Step_EveryOperator_FollowsTheReferenceSemantics(Op op, RuleBackend backend)
    {
        // One step from θ = y with gradient x: θ' = y + op(x[, y]), against Ops.Apply in double.
        Expr rule = op.Arity == 1 ? new Expr.Unary(op, G) : new Expr.Binary(op, G, V("p"));
        using var opt = new RuleOptimizer("op", RuleProgram.Compile(rule), [[Xs.Length]], CPU, backend);
        using var p = tensor(Ys);
        using var g = tensor(Xs);
        opt.Step([p], [g], 1);
        var got = p.data<float>().ToArray();
        for (int i = 0; i < Xs.Length; i++)
        {
            double d = op.Arity == 1 ? Ops.Apply(op, Xs[i]) : Ops.Apply(op, Xs[i], Ys[i]);
            double want = Ys[i] + d;
            if (double.IsNaN(want)) { Assert.That(float.IsNaN(got[i]), $"{op}({Xs[i]}, {Ys[i]})"); continue; }
            Assert.That(got[i], Is.EqualTo(want).Within(1e-5 * Math.Max(1, Math.Abs(want))), $"{op}({Xs[i]}, {Ys[i]})");
        }
    }
}
