using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Persistence;

namespace L2OEvolve.Engine.Tests.Grammars;

/// <summary>Composite operators from a grammar's "define": usable like built-ins, printed under their own name,
/// and every fault reported as one line naming the file, the operator and what is wrong.</summary>
public class DefineTests
{
    private static Grammar Load(string json) => GrammarJson.Parse(json, "g.json");

    [Test]
    public void Define_OperatorIsListedLikeABuiltInAndKeepsItsNameInPrint()
    {
        var g = Load("""
            { "define": { "definetest_soft(x)": "x / (1 + abs(x))", "definetest_lerp(a, b)": "0.5 * a + 0.5 * b" },
              "features": ["x", "y"], "operators": ["+", "definetest_soft", "definetest_lerp"] }
            """);
        Assert.That(g.Ops.Select(o => o.Op.Name), Is.EqualTo(new[] { "+", "definetest_soft", "definetest_lerp" }));
        var e = Infix.Parse("definetest_lerp(definetest_soft(x), y)");
        Assert.That(g.Violations(e), Is.Empty);
        Assert.That(Infix.Print(e), Is.EqualTo("definetest_lerp(definetest_soft(x), y)"));
        Assert.That(ExprEncoding.Decode(ExprEncoding.Encode(e)), Is.EqualTo(e));
        var output = new float[1];
        Evaluator.Evaluate(Compiler.Compile(e, ["x", "y"]), [[3f], [1f]], 1, output, new EvalWorkspace(8));
        Assert.That(output[0], Is.EqualTo(0.5 * 0.75 + 0.5).Within(1e-6));
    }

    [Test]
    public void Define_SameDefinitionTwice_IsAccepted_ADifferentOneUnderTheSameNameIsNot()
    {
        const string a = """{ "define": { "definetest_twice(x)": "x * x" }, "features": ["x"], "operators": ["definetest_twice"] }""";
        Load(a);
        Assert.DoesNotThrow(() => Load(a));
        var e = Assert.Throws<InputException>(() => Load(a.Replace("x * x", "x + x")))!;
        Assert.That(e.Message, Does.Contain("definetest_twice").And.Contain("already defined differently"));
    }

    [TestCase("""{ "definetest_u(x)": "x + z" }""", "unknown name 'z'")]
    [TestCase("""{ "definetest_v(x)": "nosuchfn(x)" }""", "unknown function 'nosuchfn'")]
    [TestCase("""{ "definetest_r1(x)": "definetest_r2(x)", "definetest_r2(x)": "definetest_r1(x) + 1" }""", "recursive definition")]
    [TestCase("""{ "definetest_self(x)": "definetest_self(x)" }""", "recursive definition")]
    [TestCase("""{ "definetest_two(a, b)": "a - b", "definetest_w(x)": "definetest_two(x)" }""", "takes 2 arguments, got 1")]
    [TestCase("""{ "definetest_w2(x)": "tanh(x, x)" }""", "takes 1 argument")]
    [TestCase("""{ "tanh(x)": "x" }""", "shadows a built-in")]
    [TestCase("""{ "lag(x)": "x" }""", "shadows a built-in")]
    [TestCase("""{ "definetest_s(x)": "ema(0.9, x)" }""", "defined operators are pure")]
    [TestCase("""{ "definetest bad": "x" }""", "name(x) or name(x, y)")]
    public void Define_Fault_IsOneLineNamingFileOperatorAndFault(string define, string fault)
    {
        var e = Assert.Throws<InputException>(() => Load($$"""{ "define": {{define}}, "features": ["x"], "operators": ["+"] }"""))!;
        Assert.That(e.Message, Does.StartWith("g.json").And.Contain("$.define").And.Contain(fault));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Define_UnknownOperatorInList_HintsAtPluginsAndDefines()
    {
        var e = Assert.Throws<InputException>(() => Load("""{ "features": ["x"], "operators": ["definetest_missing"] }"""))!;
        Assert.That(e.Message, Does.Contain("definetest_missing").And.Contain("--plugin").And.Contain("define"));
    }
}
