using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

public class InfixTests
{
    private static readonly Var X = new("x"), Y = new("y"), Z = new("z"), G = new("g");

    [Test]
    public void Parse_AdamFormula_BuildsExpectedTree()
    {
        var e = Infix.Parse("-0.01 * ema(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-8)");
        var expected = new Binary(Op.Div,
            new Binary(Op.Mul, new Const(-0.01), new Ema(0.9, false, G)),
            new Binary(Op.Add, new Unary(Op.Sqrt, new Ema(0.999, true, new Binary(Op.Mul, G, G))), new Const(1e-8)));
        Assert.That(e, Is.EqualTo(expected));
    }

    [TestCase("x + y * z", "x + y * z")]
    [TestCase("(x + y) * z", "(x + y) * z")]
    [TestCase("x - (y - z)", "x - (y - z)")]
    [TestCase("(x - y) - z", "x - y - z")]
    [TestCase("x / (y * z)", "x / (y * z)")]
    [TestCase("(x / y) * z", "x / y * z")]
    [TestCase("-(x + y)", "-(x + y)")]
    [TestCase("-x * y", "-x * y")]
    [TestCase("-(x * y)", "-(x * y)")]
    [TestCase("x * -y", "x * -y")]
    [TestCase("x - -2", "x - -2")]
    [TestCase("-(2)", "-(2)")]
    [TestCase("--x", "--x")]
    [TestCase("pow(x, 2.5)", "pow(x, 2.5)")]
    [TestCase("min(x,max(y ,greater(x, y)))", "min(x, max(y, greater(x, y)))")]
    [TestCase("lag(3, g) + ema(0.5, lag(1, g))", "lag(3, g) + ema(0.5, lag(1, g))")]
    [TestCase("1e-8", "1E-08")]
    [TestCase("-inf + nan", "-inf + nan")]
    public void Print_AfterParse_UsesMinimalParentheses(string input, string expected) =>
        Assert.That(Infix.Print(Infix.Parse(input)), Is.EqualTo(expected));

    [Test]
    public void Parse_UnaryMinusBeforeNumber_IsNegativeConstantNotNeg()
    {
        Assert.That(Infix.Parse("-2"), Is.EqualTo(new Const(-2)));
        Assert.That(Infix.Parse("-(2)"), Is.EqualTo(new Unary(Op.Neg, new Const(2))));
        Assert.That(Infix.Parse("neg(2)"), Is.EqualTo(new Unary(Op.Neg, new Const(2))));
    }

    [Test]
    public void Parse_PySrFunctionNames_MapToOperators()
    {
        var e = Infix.Parse("mult(plus(g0, -0.0036), sqrtm(logm(t)))");
        Assert.That(e, Is.EqualTo(new Binary(Op.Mul, new Binary(Op.Add, new Var("g0"), new Const(-0.0036)),
            new Unary(Op.Sqrt, new Unary(Op.Log, new Var("t"))))));
    }

    [Test]
    public void Print_Constants_UseShortestRoundTripFormat()
    {
        Assert.That(Infix.Print(new Const(0.1)), Is.EqualTo("0.1"));
        Assert.That(Infix.Print(new Const(1.0 / 3)), Is.EqualTo("0.3333333333333333"));
        Assert.That(Infix.Print(new Const(2.5e-300)), Is.EqualTo("2.5E-300"));
    }

    [Test]
    public void ParsePrint_RandomTrees_RoundTripExactly()
    {
        var rng = new Rng(12345);
        for (int i = 0; i < 3000; i++)
        {
            var e = TestTrees.Random(ref rng, rng.NextInt(1, 30));
            string text = Infix.Print(e);
            var back = Infix.Parse(text);
            Assert.That(back, Is.EqualTo(e), text);
            Assert.That(back.Constants().Select(BitConverter.DoubleToInt64Bits),
                Is.EqualTo(e.Constants().Select(BitConverter.DoubleToInt64Bits)), text);
            Assert.That(Infix.Print(back), Is.EqualTo(text));
        }
    }

    [Test]
    public void Parse_NegativeZero_KeepsItsSign()
    {
        var c = (Const)Infix.Parse(Infix.Print(new Const(-0.0)));
        Assert.That(double.IsNegative(c.Value), Is.True);
    }

    [TestCase("x +", 4, "expected an operand")]
    [TestCase("x + * y", 5, "expected an operand")]
    [TestCase("tanh(x", 7, "expected ')'")]
    [TestCase("pow(x)", 6, "'pow' takes 2 arguments, got 1")]
    [TestCase("x y", 3, "expected an operator or the end")]
    [TestCase("foo(x)", 1, "unknown function 'foo'")]
    [TestCase("ema(1.5, g)", 5, "ema beta must lie in (0, 1)")]
    [TestCase("ema(g, g)", 5, "expected the ema's beta")]
    [TestCase("lag(2.5, g)", 5, "lag steps must be an integer")]
    [TestCase("1e+", 4, "expected digits of the exponent")]
    public void Parse_Malformed_NamesColumnAndExpectation(string text, int column, string fault)
    {
        var ex = Assert.Throws<InputException>(() => Infix.Parse(text))!;
        Assert.That(ex.Location, Is.EqualTo($"column {column}"));
        Assert.That(ex.Fault, Does.Contain(fault));
    }

    [Test]
    public void Parse_AbsurdNesting_IsAnInputErrorNotAStackOverflow()
    {
        var ex = Assert.Throws<InputException>(() => Infix.Parse(new string('(', 100_000) + "x" + new string(')', 100_000)))!;
        Assert.That(ex.Fault, Does.Contain("nests too deeply"));
        Assert.That(Infix.Parse(new string('-', 500) + "x").Depth(), Is.EqualTo(501));
    }

    [Test]
    public void ToString_IsInfixPrint()
    {
        var e = new Binary(Op.Add, X, new Unary(Op.Tanh, Y));
        Assert.That(e.ToString(), Is.EqualTo("x + tanh(y)"));
        Assert.That(Z.ToString(), Is.EqualTo("z"));
    }
}
