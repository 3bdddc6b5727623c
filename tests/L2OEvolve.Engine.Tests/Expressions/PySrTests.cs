using L2OEvolve.Engine.Expressions;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Engine.Tests.Expressions;

public class PySrTests
{
    [Test]
    public void ParseEquation_PrefixNotation_BuildsTree()
    {
        var e = PySr.ParseEquation("mult(plus(g0, -0.0036), t)");
        Assert.That(e, Is.EqualTo(new Binary(Op.Mul, new Binary(Op.Add, new Var("g0"), new Const(-0.0036)), new Var("t"))));
    }

    [Test]
    public void ParseEquation_EveryPySrOperatorName_IsKnown()
    {
        var e = PySr.ParseEquation(
            "plus(mult(pow(a, 2.0), greater(b, c)), div(relu(exp(tanh(sinh(asinh(erfc(x)))))), " +
            "square(cube(abs(sign(logm(sqrtm(neg(sub(y, 2.3757454e-10))))))))))");
        var ops = e.Preorder().OfType<Unary>().Select(u => u.Op)
            .Concat(e.Preorder().OfType<Binary>().Select(b => b.Op)).ToHashSet();
        Assert.That(ops, Is.EquivalentTo(new[]
        {
            Op.Add, Op.Mul, Op.Pow, Op.Greater, Op.Div, Op.Relu, Op.Exp, Op.Tanh, Op.Sinh, Op.Asinh, Op.Erfc,
            Op.Square, Op.Cube, Op.Abs, Op.Sign, Op.Log, Op.Sqrt, Op.Neg, Op.Sub,
        }));
    }

    [Test]
    public void ParseEquation_JuliaInfix_ReadsCaretAndFloat32Exponents()
    {
        Assert.That(PySr.ParseEquation("(0.49058884 * tanh(g_2 + g_0))").ToString(), Is.EqualTo("0.49058884 * tanh(g_2 + g_0)"));
        Assert.That(PySr.ParseEquation("x ^ 2 * y"), Is.EqualTo(new Binary(Op.Mul, new Binary(Op.Pow, new Var("x"), new Const(2)), new Var("y"))));
        Assert.That(PySr.ParseEquation("1.5f-3"), Is.EqualTo(new Const(1.5e-3)));
        Assert.That(PySr.ParseEquation("-2.0 ^ x"), Is.EqualTo(new Binary(Op.Pow, new Const(-2), new Var("x"))));
    }

    [Test]
    public void ParseHallOfFame_Dec2020Format_ReadsRowsAndStopsAtTrailer()
    {
        string[] lines =
        [
            "Complexity|MSE|Equation",
            "1|1.15e-5|-0.0036214",
            "5|1.0e-5|mult(plus(g0, -0.0036), t)",
            "7|9.0e-6|plus(mult(g0, t), div(rmspro, adagra))",
            "",
            "best:    g0*t - 0.0036*t",
        ];
        var rows = PySr.ParseHallOfFame(lines, "hof.csv");
        Assert.That(rows.Select(r => r.Complexity), Is.EqualTo(new[] { 1, 5, 7 }));
        Assert.That(rows[1].Loss, Is.EqualTo(1.0e-5));
        Assert.That(rows[1].Expression.Size(), Is.EqualTo(rows[1].Complexity));
        Assert.That(rows[2].Expression.Variables(), Is.EqualTo(new[] { "g0", "t", "rmspro", "adagra" }));
        Assert.That(rows[2].Line, Is.EqualTo(4));
    }

    [Test]
    public void ParseHallOfFame_EquationWithPipe_SplitsOnFirstTwoOnly()
    {
        // Only the first two bars separate fields; a malformed equation reports its line and column.
        var ex = Assert.Throws<InputException>(() => PySr.ParseHallOfFame(["Complexity|Loss|Equation", "3|0.5|x | y"], "h.csv"))!;
        Assert.That(ex.File, Is.EqualTo("h.csv"));
        Assert.That(ex.Location, Is.EqualTo("line 2, column 3"));
    }

    [Test]
    public void ParseHallOfFame_ExtraColumns_EquationIsLast()
    {
        var rows = PySr.ParseHallOfFame(["Complexity|Loss|R2|Equation", "3|0.25|0.9|x * 2"]);
        Assert.That(rows.Single().Equation, Is.EqualTo("x * 2"));
        Assert.That(rows.Single().Loss, Is.EqualTo(0.25));
    }

    [Test]
    public void ParseHallOfFame_BadHeader_Throws()
    {
        var ex = Assert.Throws<InputException>(() => PySr.ParseHallOfFame(["a,b,c", "1|2|x"], "h.csv"))!;
        Assert.That(ex.Location, Is.EqualTo("line 1"));
        Assert.That(ex.Fault, Does.Contain("Complexity|MSE|Equation"));
    }

    [Test]
    public void ReadHallOfFame_File_RoundTripsThroughDisk()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hof-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, ["Complexity|MSE|Equation", "3|0.25|(g_0 * -0.5)"]);
        try
        {
            var rows = PySr.ReadHallOfFame(path);
            Assert.That(rows.Single().Expression, Is.EqualTo(new Binary(Op.Mul, new Var("g_0"), new Const(-0.5))));
        }
        finally { File.Delete(path); }
        Assert.Throws<InputException>(() => PySr.ReadHallOfFame(path));
    }
}
