using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.RowEvaluation;

namespace L2OEvolve.Engine.Tests.Compilation;

public class RuleProgramTests
{
    private static RuleProgram Compile(string text) => RuleProgram.Compile(Infix.Parse(text));

    [TestCase("-0.01 * g", 0)]
    [TestCase("-0.01 * t * g", 0)]
    [TestCase("-0.01 * m", 1)]
    [TestCase("-0.01 * (m + ema(0.95, g))", 2)]
    [TestCase("-0.01 * (m + mhat)", 1)]
    [TestCase("-0.01 * mt", 2)]
    [TestCase("-0.01 * (mt + gt + vs + v + m)", 2)]
    [TestCase("-0.01 * (mt + mom5 + mom9 + mom99)", 5)]
    [TestCase("-0.01 * (g1 + g3)", 3)]
    [TestCase("-0.01 * (g_1 + lag(3, g) + g2)", 3)]
    [TestCase("-0.01 * (mt1 + g1)", 4)]
    [TestCase("-0.01 * lag(2, ema(0.9, g * g))", 3)]
    public void StateSlots_Rule_CountsOnlyWhatTheRuleNeeds(string rule, int slots)
    {
        Assert.That(Compile(rule).StateSlots, Is.EqualTo(slots));
    }

    [Test]
    public void CompileOutputs_SeveralFeatures_ShareTheirStateAndKeepTheGivenOrder()
    {
        var outputs = new[] { "mt", "gt", "vs", "g" }.Select(n => (Expr)new Expr.Var(n)).ToList();
        var program = RuleProgram.CompileOutputs(outputs);
        Assert.That(program.Outputs, Has.Length.EqualTo(4));
        Assert.That(program.StateSlots, Is.EqualTo(2), "m and v, once each");
        Assert.That(program.Root, Is.EqualTo(program.Outputs[0]));
        // Each output is what the single-feature program computes: g is the loaded gradient itself.
        var load = program.Code.Single(i => i.Code == RuleCode.LoadGrad);
        Assert.That(program.Outputs[3], Is.EqualTo(Operand.Reg(load.Dest)));
    }

    [Test]
    public void CompileOutputs_None_Throws()
    {
        Assert.Throws<ArgumentException>(() => RuleProgram.CompileOutputs([]));
    }

    [Test]
    public void Compile_UnknownFeature_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => Compile("-0.01 * w"));
        Assert.That(ex!.Message, Does.Contain("'w'"));
    }

    [Test]
    public void Compile_NegativeLagBuiltByHand_Throws()
    {
        Assert.Throws<ArgumentException>(() => RuleProgram.Compile(new Expr.Lag(-1, new Expr.Var("g"))));
    }

    [Test]
    public void Fill_ScaledStepAndBiasCorrection_AreComputedPerStep()
    {
        var program = RuleProgram.Compile(Infix.Parse("t * ema_bc(0.5, g)"), new FeatureSettings(TScale: 0.5));
        var plan = program.NewPlan();
        program.Fill(plan, 2);
        // Uniforms: the scaled step (2 × 0.5) and the bias correction 1/(1 − 0.5²).
        Assert.That(plan.Uniforms, Is.SupersetOf(new[] { 1.0, 1.0 / 0.75 }));
    }

    [Test]
    public void Compile_ConstantSubtree_BecomesAUniformNotARegister()
    {
        var program = Compile("(2 + 3) * g");
        Assert.That(program.Code.Count(i => i.Code is RuleCode.Binary), Is.EqualTo(1));
        Assert.That(program.Uniforms, Has.Length.EqualTo(3));
    }

    [TestCase("mom99")]
    [TestCase("mom9_9")]
    [TestCase("g0")]
    [TestCase("gt_12")]
    public void IsKnown_FeatureAndLagNames_AreRecognised(string name)
    {
        Assert.That(RuleFeatures.IsKnown(name), Is.True);
    }

    [Test]
    public void Expand_Mom99_IsTheFeatureNotALagOfMom9()
    {
        Assert.That(RuleFeatures.Expand(new Expr.Var("mom99"), FeatureSettings.Default), Is.EqualTo(new Expr.Ema(0.99, false, new Expr.Var("g"))));
        Assert.That(RuleFeatures.Expand(new Expr.Var("mom9_9"), FeatureSettings.Default), Is.EqualTo(new Expr.Lag(9, new Expr.Ema(0.9, false, new Expr.Var("g")))));
    }

    [TestCase("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)", true)]
    [TestCase("-0.01 * m / (1 - 0.8 + 0.8 * vs)", true)]
    [TestCase("g / (abs(g) + 0)", false)]
    [TestCase("g / (g + 1)", false)]
    [TestCase("g / exp(g)", false)]
    [TestCase("g / (exp(g) + 0.5)", true)]
    public void Compile_Division_SkipsProtectionOnlyForProvablyPositiveDivisors(string rule, bool unprotected)
    {
        var div = Compile(rule).Code.Single(i => i.Code == RuleCode.Binary && i.Op == Op.Div);
        Assert.That(div.Unguarded, Is.EqualTo(unprotected));
    }

    [TestCase("sqrt(ema(0.9, g * g))", true)]
    [TestCase("sqrt(g)", false)]
    [TestCase("log(abs(g))", true)]
    public void Compile_SqrtAndLog_SkipAbsOnlyForNonNegativeArguments(string rule, bool unguarded)
    {
        var ins = Compile(rule).Code.Single(i => i.Code == RuleCode.Unary && (i.Op == Op.Sqrt || i.Op == Op.Log));
        Assert.That(ins.Unguarded, Is.EqualTo(unguarded));
    }

    [Test]
    public void Constants_RuleConstantsAndBetas_DepthFirstLikeTheRowEvaluator()
    {
        var rule = Infix.Parse("-0.01 * ema_bc(0.9, g * 2) / (sqrt(ema(0.999, g * g)) + 1e-8)");
        var program = RuleProgram.Compile(rule);
        var row = Compiler.Compile(rule, ["g"]);
        Assert.That(program.Constants, Is.EqualTo(new[] { -0.01, 0.9, 2, 0.999, 1e-8 }));
        Assert.That(program.ConstantKinds, Is.EqualTo(new[] { ConstantKind.Value, ConstantKind.EmaBeta, ConstantKind.Value, ConstantKind.EmaBeta, ConstantKind.Value }));
        Assert.That(program.Constants, Is.EqualTo(row.Constants));
        Assert.That(program.ConstantKinds, Is.EqualTo(row.ConstantKinds));
    }

    [Test]
    public void Constants_FeatureDefinitions_AreFixedNotSlots()
    {
        var program = Compile("-0.01 * mt + 0.5 * mom9");
        Assert.That(program.Constants, Is.EqualTo(new[] { -0.01, 0.5 }));
    }

    [Test]
    public void Compile_EqualConstants_StayTwoSlotsAndSubtreesWithThemAreNotShared()
    {
        var program = Compile("0.5 * ema(0.9, g) + 0.5 * ema(0.9, g)");
        Assert.That(program.Constants, Is.EqualTo(new[] { 0.5, 0.9, 0.5, 0.9 }));
        Assert.That(program.EmaSlots, Is.EqualTo(2));
        Assert.That(Compile("abs(g) * g1 + abs(g) * g1").Code.Count(i => i.Code == RuleCode.Unary), Is.EqualTo(1), "constant-free subtrees are shared");
    }

    [Test]
    public void EmaUpdate_ReadsItsBetaFromAUniform_SlotForWrittenFixedForFeatures()
    {
        var program = Compile("ema(0.8, g) + m");
        var betas = program.Code.Where(i => i.Code == RuleCode.EmaUpdate).Select(i => program.Uniforms[i.B.Index]).ToArray();
        Assert.That(betas, Is.EqualTo(new UniformNode[] { new UniformNode.Slot(0), new UniformNode.Constant(0.95) }));
        var plan = program.NewPlan();
        program.WithConstants([0.3]).Fill(plan, 1);
        Assert.That(plan.Uniforms[program.Code.First(i => i.Code == RuleCode.EmaUpdate).B.Index], Is.EqualTo(0.3));
    }

    [TestCase("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)", new[] { -0.002, 0.5, 0.9, -1.0 })]
    [TestCase("-0.01 * m / (1 - 0.8 + 0.8 * vs) + 3 * lag(2, 0.5 * g)", new[] { 0.02, 1.0, 0.0, -0.7, 0.25, 1.5 })]
    [TestCase("(2 + 3) * t * g", new[] { -2.0, 0.0 })]
    [TestCase("g / (exp(g) + 0.5)", new[] { -0.5 })]
    public void WithConstants_EqualsCompilingTheRuleWithThoseConstants(string text, double[] values)
    {
        var rule = Infix.Parse(text);
        var swapped = RuleProgram.Compile(rule).WithConstants(values);
        var recompiled = RuleProgram.Compile(rule.WithConstants(values, includeBetas: true));
        Assert.That(swapped.Constants, Is.EqualTo(values));
        Assert.That(swapped.Source, Is.EqualTo(recompiled.Source));
        Assert.That(swapped.Code, Is.EqualTo(recompiled.Code), "same instructions, guards redone for the new signs");
        Assert.That(swapped.Uniforms, Is.EqualTo(recompiled.Uniforms));
        Assert.That(swapped.StateSlots, Is.EqualTo(recompiled.StateSlots));
        var (a, b) = (swapped.NewPlan(), recompiled.NewPlan());
        for (int step = 1; step <= 3; step++)
        {
            swapped.Fill(a, step);
            recompiled.Fill(b, step);
            Assert.That(a.Uniforms, Is.EqualTo(b.Uniforms));
            Assert.That(a.UniformsF, Is.EqualTo(b.UniformsF));
        }
    }

    [Test]
    public void WithConstants_NegativeEpsilon_RestoresTheDivisionGuard()
    {
        var program = Compile("g / (sqrt(v) + 1e-8)");
        static bool Unguarded(RuleProgram p) => p.Code.Single(i => i.Op == Op.Div).Unguarded;
        Assert.That(Unguarded(program), Is.True);
        Assert.That(Unguarded(program.WithConstants([-1e-8])), Is.False);
    }

    [Test]
    public void WithConstants_WrongCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => Compile("0.5 * g").WithConstants([1.0, 2.0]));
    }

    private static RuleProgram OverColumns(string text, params string[] columns) =>
        RuleProgram.CompileOverColumns(Infix.Parse(text), [.. columns]);

    [Test]
    public void CompileOverColumns_Variables_AreColumnsNotFeatures()
    {
        // Recorded features are plain columns: m is loaded, not expanded into a moving average of g.
        var program = OverColumns("m * g + t", "g", "m", "t");
        Assert.That(program.OverColumns, Is.True);
        Assert.That(program.Code.Where(i => i.Code == RuleCode.LoadColumn).Select(i => i.Index), Is.EquivalentTo(new[] { 0, 1, 2 }));
        Assert.That(program.Code.Any(i => i.Code is RuleCode.LoadGrad or RuleCode.EmaUpdate), Is.False);
        Assert.That(program.StateSlots, Is.Zero);
    }

    [Test]
    public void CompileOverColumns_EmaAndLag_AreStatefulInstructions()
    {
        // The parser refuses lag(0, ...); trees built by hand or decoded may hold one.
        var x = new Expr.Var("x");
        var tree = new Expr.Binary(Op.Add, new Expr.Binary(Op.Add, new Expr.Ema(0.9, true, x), new Expr.Lag(2, x)), new Expr.Lag(0, x));
        var program = RuleProgram.CompileOverColumns(tree, ["x"]);
        Assert.That(program.Code.Count(i => i.Code == RuleCode.EmaUpdate), Is.EqualTo(1));
        // lag(0, x) is kept over columns (a read of the current value) so the tree as written can be rebuilt.
        Assert.That(program.Code.Where(i => i.Code == RuleCode.LagRead).Select(i => program.LagReads[i.Index].Lag), Is.EquivalentTo(new[] { 2, 0 }));
        Assert.That(program.StateSlots, Is.EqualTo(1 + 2));
    }

    [Test]
    public void CompileOverColumns_EqualSubtrees_AreOneValue()
    {
        var program = OverColumns("x * y + cos(x * y)", "x", "y");
        Assert.That(program.Code.Count(i => i.Code == RuleCode.Binary && i.Op == Op.Mul), Is.EqualTo(1));
        Assert.That(program.Code.Count(i => i.Code == RuleCode.LoadColumn), Is.EqualTo(2));
    }

    [Test]
    public void CompileOverColumns_UnknownColumn_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => OverColumns("x + speed", "x"));
        Assert.That(ex!.Message, Does.Contain("'speed'"));
    }

    [Test]
    public void CompileOverColumns_OperatorWithWrongArity_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RuleProgram.CompileOverColumns(new Expr.Unary(Op.Add, new Expr.Var("x")), ["x"]));
        Assert.That(ex!.Message, Does.Contain("argument"));
    }

    [Test]
    public void Fill_ProgramOverColumns_IsRefused()
    {
        var program = OverColumns("x", "x");
        Assert.Throws<InvalidOperationException>(() => program.Fill(program.NewPlan(), 1));
    }
}
