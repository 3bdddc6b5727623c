using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.RowEvaluation;

public class CompilerTests
{
    private static readonly string[] Features = ["x0", "x1", "x2"];

    [Test]
    public void Decompile_RandomTrees_RebuildsTheSameTree()
    {
        var rng = new Rng(17);
        for (int k = 0; k < 500; k++)
        {
            var e = RandomTrees.Generate(ref rng, 1 + rng.NextInt(30), Features, stateful: k % 2 == 0);
            var rule = Compiler.Compile(e, Features);
            Assert.That(rule.ToExpr(), Is.EqualTo(e));
            Assert.That(rule.NodeCount, Is.EqualTo(RandomTrees.Size(e)));
            Assert.That(rule.Constants, Is.EqualTo(e.Constants(includeBetas: true)), "constant slots follow Expr.Constants order");
        }
    }

    [Test]
    public void Compile_SkippingValueSharing_GivesTheProgramLoweredFromTheSharedIr()
    {
        // Compile builds its IR without value numbering (the postfix program re-evaluates a shared value at each use
        // anyway); lowering the public, shared IR must give the same program, instruction for instruction.
        var rng = new Rng(23);
        for (int k = 0; k < 500; k++)
        {
            var e = RandomTrees.Generate(ref rng, 1 + rng.NextInt(30), Features, stateful: k % 2 == 0);
            var direct = Compiler.Compile(e, Features);
            var lowered = Compiler.Lower(RuleProgram.CompileOverColumns(e, [.. Features]));
            Assert.That(direct.Program.ToArray(), Is.EqualTo(lowered.Program.ToArray()), e.ToString());
            Assert.That(direct.Constants, Is.EqualTo(lowered.Constants), e.ToString());
            Assert.That((direct.StackDepth, direct.EmaSlots, direct.NodeCount), Is.EqualTo((lowered.StackDepth, lowered.EmaSlots, lowered.NodeCount)), e.ToString());
            Assert.That(direct.LagSteps, Is.EqualTo(lowered.LagSteps), e.ToString());
        }
    }

    [Test]
    public void Compile_ConstantOnlyAndSharedOperands_RebuildTheTreeAsWritten()
    {
        // Shapes the in-order lowering hands to the lowering from the root: a constant-only left operand of a computed
        // right one, a value used twice, a shared lag; and ones it lowers itself: constant-only operands beside a
        // column or a computed left one, a bias-corrected ema of a computed value, a lone column or constant.
        Expr x0 = new Var("x0"), x1 = new Var("x1"), product = new Binary(Op.Mul, x0, x1);
        Expr[] trees =
        [
            new Binary(Op.Sub, new Unary(Op.Sin, new Const(2)), product),
            new Binary(Op.Div, new Binary(Op.Add, new Const(2), new Const(3)), new Unary(Op.Cos, x0)),
            new Binary(Op.Add, product, new Unary(Op.Exp, product)),
            new Binary(Op.Add, new Lag(1, x0), new Lag(1, x0)),
            new Binary(Op.Sub, new Unary(Op.Sin, new Const(2)), x1),
            new Binary(Op.Sub, product, new Unary(Op.Sin, new Const(2))),
            new Binary(Op.Mul, x0, new Unary(Op.Sin, new Const(2))),
            new Ema(0.9, true, new Binary(Op.Sub, new Unary(Op.Cos, x0), x1)),
            new Lag(2, new Ema(0.5, false, new Const(1))),
            x1,
            new Const(4),
            new Unary(Op.Neg, new Const(4)),
        ];
        foreach (var e in trees)
        {
            var rule = Compiler.Compile(e, Features);
            Assert.That(rule.ToExpr(), Is.EqualTo(e), e.ToString());
            Assert.That(rule.NodeCount, Is.EqualTo(RandomTrees.Size(e)), e.ToString());
            Assert.That(rule.Constants, Is.EqualTo(e.Constants(includeBetas: true)), e.ToString());
        }
    }

    [Test]
    public void Compile_LeafOperands_AreFusedIntoOneInstruction()
    {
        var rule = Compiler.Compile(new Binary(Op.Mul, new Var("x1"), new Const(2.5)), Features);
        Assert.That(rule.Program.Length, Is.EqualTo(1));
        Assert.That(rule.Program[0].Code, Is.EqualTo(OpCode.BinaryFC));
        Assert.That(rule.Constants, Is.EqualTo(new[] { 2.5 }));
        Assert.That(rule.StackDepth, Is.EqualTo(1));
    }

    [Test]
    public void Compile_StackDepth_CountsSimultaneouslyLiveBlocks()
    {
        // (sin(x0) + cos(x1)) * (exp(x2) - tanh(x0)): two subtrees of two live values each.
        Expr l = new Binary(Op.Add, new Unary(Op.Sin, new Var("x0")), new Unary(Op.Cos, new Var("x1")));
        Expr r = new Binary(Op.Sub, new Unary(Op.Exp, new Var("x2")), new Unary(Op.Tanh, new Var("x0")));
        Assert.That(Compiler.Compile(new Binary(Op.Mul, l, r), Features).StackDepth, Is.EqualTo(3));
    }

    [Test]
    public void Compile_UnknownVariable_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => Compiler.Compile(new Binary(Op.Add, new Var("x0"), new Var("speed")), Features));
        Assert.That(ex!.Message, Does.Contain("'speed'"));
    }

    [Test]
    public void Compile_OperatorWithWrongArity_Throws()
    {
        Assert.Throws<ArgumentException>(() => Compiler.Compile(new Unary(Op.Add, new Var("x0")), Features));
    }

    [Test]
    public void WithConstants_ReplacesValuesAndEmaBetas_WithoutChangingTheProgram()
    {
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Const(2), new Var("x0")), new Ema(0.9, true, new Var("x1")));
        var rule = Compiler.Compile(e, Features);
        Assert.That(rule.ConstantKinds, Is.EqualTo(new[] { ConstantKind.Value, ConstantKind.EmaBeta }));
        var changed = rule.WithConstants([3.0, 0.5]);
        Assert.That(changed.ToExpr(), Is.EqualTo(new Binary(Op.Add, new Binary(Op.Mul, new Const(3), new Var("x0")), new Ema(0.5, true, new Var("x1")))));
        Assert.That(rule.ToExpr(), Is.EqualTo(e), "the original is unchanged");
        Assert.Throws<ArgumentException>(() => rule.WithConstants([1.0]));
    }

    [Test]
    public void Compile_Constants_AreNumberedInTreeOrder()
    {
        // 1 * ema(0.9, 2 - x0) + pow(x1, 3): the left constant is fused after its sibling is emitted, yet comes first.
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Const(1), new Ema(0.9, false, new Binary(Op.Sub, new Const(2), new Var("x0")))),
            new Binary(Op.Pow, new Var("x1"), new Const(3)));
        Assert.That(Compiler.Compile(e, Features).Constants, Is.EqualTo(new[] { 1, 0.9, 2, 3 }));
    }

    [Test]
    public void Lower_SharedSubexpression_IsEvaluatedAtEachUse()
    {
        // The IR holds x0*x1 once; the postfix program keeps the tree as written, so it decompiles to the same tree.
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Var("x0"), new Var("x1")), new Unary(Op.Cos, new Binary(Op.Mul, new Var("x0"), new Var("x1"))));
        var program = L2OEvolve.Engine.Compilation.RuleProgram.CompileOverColumns(e, [.. Features]);
        Assert.That(program.Code.Count(i => i.Op == Op.Mul), Is.EqualTo(1));
        var rule = Compiler.Lower(program);
        Assert.That(rule.Program.ToArray().Count(i => i.Code == OpCode.BinaryFF), Is.EqualTo(2));
        Assert.That(rule.ToExpr(), Is.EqualTo(e));
    }

    [Test]
    public void Lower_EqualSubtreesWithConstants_KeepOneSlotEach()
    {
        // Equal constants are separate slots (constant fitting may move them apart), so x0*2 is not shared.
        var e = new Binary(Op.Add, new Binary(Op.Mul, new Var("x0"), new Const(2)), new Unary(Op.Cos, new Binary(Op.Mul, new Var("x0"), new Const(2))));
        var program = L2OEvolve.Engine.Compilation.RuleProgram.CompileOverColumns(e, [.. Features]);
        var rule = Compiler.Lower(program);
        Assert.That(rule.Constants, Is.EqualTo(program.Constants));
        Assert.That(rule.Constants, Is.EqualTo(new[] { 2.0, 2.0 }));
        Assert.That(rule.WithConstants([2.0, 3.0]).ToExpr(),
            Is.EqualTo(new Binary(Op.Add, new Binary(Op.Mul, new Var("x0"), new Const(2)), new Unary(Op.Cos, new Binary(Op.Mul, new Var("x0"), new Const(3))))));
        Assert.That(Compiler.Lower(program.WithConstants([2.0, 3.0])).ToExpr(), Is.EqualTo(rule.WithConstants([2.0, 3.0]).ToExpr()),
            "the IR's and the postfix program's constant tables are the same slots");
    }

    [Test]
    public void Lower_SharedMovingAverage_KeepsOneStateAndBetaPerOccurrence()
    {
        var e = new Binary(Op.Sub, new Ema(0.9, false, new Var("x0")), new Ema(0.9, true, new Var("x0")));
        var rule = Compiler.Compile(e, Features);
        Assert.That(rule.EmaSlots, Is.EqualTo(2));
        Assert.That(rule.ConstantKinds, Is.EqualTo(new[] { ConstantKind.EmaBeta, ConstantKind.EmaBeta }));
        Assert.That(rule.ToExpr(), Is.EqualTo(e));
    }

    [Test]
    public void Lower_ProgramOverFeatures_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => Compiler.Lower(L2OEvolve.Engine.Compilation.RuleProgram.Compile(new Var("g"))));
    }
}
