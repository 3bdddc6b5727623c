using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Tests.Compilation;

public class RuleProgramTests
{
    private static RuleProgram Compile(string text) => RuleProgram.Compile(Infix.Parse(text));

    [TestCase("-0.01 * g", 0)]
    [TestCase("-0.01 * t * g", 0)]
    [TestCase("-0.01 * m", 1)]
    [TestCase("-0.01 * (m + ema(0.95, g))", 1)]
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
}
