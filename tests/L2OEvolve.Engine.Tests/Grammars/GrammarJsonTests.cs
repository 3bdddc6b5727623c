using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;

namespace L2OEvolve.Engine.Tests.Grammars;

public class GrammarJsonTests
{
    private static string GrammarsDir
    {
        get
        {
            var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "L2OEvolve.sln"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("repository root"), "grammars");
        }
    }

    private const string Minimal = """{"features": ["x"], "operators": ["+"]}""";

    [TestCase("arith.json")]
    [TestCase("paper-rp.json")]
    [TestCase("adam-family.json")]
    public void Load_ShippedGrammar_IsValid(string file)
    {
        var g = GrammarJson.Load(Path.Combine(GrammarsDir, file));
        Assert.That(g.Name, Is.EqualTo(Path.GetFileNameWithoutExtension(file)));
        Assert.That(g.Ops, Is.Not.Empty);
        Assert.That(g.ContentHash, Has.Length.EqualTo(64));
        Assert.That(g.FeaturesFromData || g.Features.Length > 0, Is.True);
    }

    [Test]
    public void Load_EveryGrammarInTheFolder_Loads()
    {
        var files = Directory.GetFiles(GrammarsDir, "*.json");
        Assert.That(files, Has.Length.GreaterThanOrEqualTo(3));
        foreach (var f in files) Assert.DoesNotThrow(() => GrammarJson.Load(f), f);
    }

    [Test]
    public void Load_PaperRp_HasSpecOperatorsAndLaggedFeatures()
    {
        var g = GrammarJson.Load(Path.Combine(GrammarsDir, "paper-rp.json"));
        Assert.That(g.Ops.Select(o => o.Op), Is.EquivalentTo(new[]
        {
            Op.Add, Op.Mul, Op.Pow, Op.Greater, Op.Div, Op.Relu, Op.Exp, Op.Tanh, Op.Sinh, Op.Asinh, Op.Erfc,
            Op.Square, Op.Cube, Op.Abs, Op.Sign, Op.Log, Op.Sqrt,
        }));
        Assert.That(g.Features, Has.Length.EqualTo(80));
        Assert.That(g.Features[0], Is.EqualTo("mt_0"));
        Assert.That(g.Features[79], Is.EqualTo("mom5_19"));
        Assert.That(g.MaxSize, Is.EqualTo(20));
        Assert.That(g.MaxDepth, Is.EqualTo(20));
        Assert.That(g.Parsimony, Is.EqualTo(1e-4));
    }

    [Test]
    public void Load_AdamFamily_AllowsTheAdamRule()
    {
        var g = GrammarJson.Load(Path.Combine(GrammarsDir, "adam-family.json"));
        Assert.That(g.Stateful, Is.EqualTo(new StatefulSpec(true, 0.5, 0.9999, true, true, 5, 1)));
        var adam = Infix.Parse("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-8)");
        Assert.That(g.Violations(adam), Is.Empty);
    }

    [Test]
    public void Parse_FullExample_ReadsEverySetting()
    {
        var g = GrammarJson.Parse("""
            {
              "name": "demo",
              "features": ["g[0..2]", "t"],
              "operators": {"+": 1, "tanh": 2, "exp": {"complexity": 3, "weight": 0.5}},
              "constants": {"range": [-3, 3], "complexity": 2, "probability": 0.1},
              "stateful": {"ema": {"beta": [0.8, 0.99], "biasCorrection": true}, "lag": {"max": 4}, "complexity": 2},
              "maxsize": 25, "maxdepth": 6,
              "nesting": {"exp": {"exp": 0, "tanh": 1}},
              "parsimony": 0.01,
            }
            """);
        Assert.That(g.Name, Is.EqualTo("demo"));
        Assert.That(g.Features, Is.EqualTo(new[] { "g0", "g1", "g2", "t" }));
        Assert.That(g.Ops, Is.EqualTo(new[] { new OpSpec(Op.Add, 1, 1), new OpSpec(Op.Tanh, 2, 1), new OpSpec(Op.Exp, 3, 0.5) }));
        Assert.That(g.Constants, Is.EqualTo(new ConstantSpec(-3, 3, 2, 0.1)));
        Assert.That(g.Stateful, Is.EqualTo(new StatefulSpec(true, 0.8, 0.99, true, true, 4, 2)));
        Assert.That((g.MaxSize, g.MaxDepth, g.Parsimony), Is.EqualTo((25, 6, 0.01)));
        Assert.That(g.Nesting, Is.EqualTo(new[] { new NestingRule("exp", "exp", 0), new NestingRule("exp", "tanh", 1) }));
    }

    [Test]
    public void Parse_OperatorList_AcceptsPySrNamesAndObjects()
    {
        var g = GrammarJson.Parse("""{"features": ["x"], "operators": ["mult", {"op": "sqrtm", "complexity": 2}]}""");
        Assert.That(g.Ops, Is.EqualTo(new[] { new OpSpec(Op.Mul), new OpSpec(Op.Sqrt, 2) }));
    }

    [TestCase("""{"features": ["x"], "operators": ["+", "expp"]}""", "$.operators[1]", "unknown operator 'expp'")]
    [TestCase("""{"features": ["x"], "operators": {"+": 0}}""", "$.operators.+", "too small")]
    [TestCase("""{"features": ["x"], "operators": ["+", "plus"]}""", "$.operators[1]", "listed twice")]
    [TestCase("""{"features": ["g[5..2]"], "operators": ["+"]}""", "$.features[0]", "bad range")]
    [TestCase("""{"features": ["x", "x"], "operators": ["+"]}""", "$.features[1]", "duplicate feature 'x'")]
    [TestCase("""{"features": ["1x"], "operators": ["+"]}""", "$.features[0]", "bad feature '1x'")]
    [TestCase("""{"features": "all", "operators": ["+"]}""", "$.features", "from-data")]
    [TestCase("""{"operators": ["+"]}""", "$", "missing 'features'")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "maxsiz": 3}""", "$.maxsiz", "unknown key 'maxsiz'")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "constants": {"range": [2, 1]}}""", "$.constants.range", "bad range")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "constants": {"probability": 2}}""", "$.constants.probability", "out of range")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "stateful": {"ema": {"beta": [0, 0.9]}}}""", "$.stateful.ema.beta", "strictly between 0 and 1")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "stateful": {"lag": {}}}""", "$.stateful.lag", "missing 'max'")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "maxsize": 2.5}""", "$.maxsize", "expected an integer")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "nesting": {"exp": {"exp": 0}}}""", "$.nesting.exp", "not in 'operators'")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "nesting": {"ema": {"+": 0}}}""", "$.nesting.ema", "not enabled")]
    [TestCase("""{"features": ["x"], "operators": ["+"], "parsimony": -1}""", "$.parsimony", "out of range")]
    public void Parse_BadValue_NamesPathAndFault(string json, string path, string fault)
    {
        var ex = Assert.Throws<InputException>(() => GrammarJson.Parse(json, "g.json"))!;
        Assert.That(ex.File, Is.EqualTo("g.json"));
        Assert.That(ex.Location, Is.EqualTo(path));
        Assert.That(ex.Fault, Does.Contain(fault));
    }

    [Test]
    public void Parse_SyntaxError_NamesLineAndColumn()
    {
        var ex = Assert.Throws<InputException>(() => GrammarJson.Parse("{\n  \"features\": [\"x\"]\n  \"operators\": []\n}", "g.json"))!;
        Assert.That(ex.Location, Is.EqualTo("line 3, column 3"));
        Assert.That(ex.Message, Does.StartWith("g.json: line 3, column 3: malformed JSON"));
    }

    [Test]
    public void Load_MissingFile_NamesIt()
    {
        var ex = Assert.Throws<InputException>(() => GrammarJson.Load("/no/such/grammar.json"))!;
        Assert.That(ex.File, Is.EqualTo("/no/such/grammar.json"));
    }

    [Test]
    public void ContentHash_IgnoresNameAndFormatting_ReflectsSettings()
    {
        var a = GrammarJson.Parse("""{"name": "a", "features": ["x"], "operators": ["+"]}""");
        var b = GrammarJson.Parse("""{ "name": "b",  "features" : [ "x" ], "operators": {"plus": 1} }""");
        var c = GrammarJson.Parse("""{"features": ["x"], "operators": ["+"], "maxsize": 21}""");
        Assert.That(b.ContentHash, Is.EqualTo(a.ContentHash));
        Assert.That(c.ContentHash, Is.Not.EqualTo(a.ContentHash));
    }

    [Test]
    public void ExpandFeatures_CommandLineList_ExpandsRanges()
    {
        Assert.That(GrammarJson.ExpandFeatures(["g[0..2]", " t"]), Is.EqualTo(new[] { "g0", "g1", "g2", "t" }));
        Assert.That(Assert.Throws<InputException>(() => GrammarJson.ExpandFeatures(["g[3..1]"]))!.Fault, Does.Contain("bad range"));
    }

    [Test]
    public void BindFeatures_FromData_TakesColumnsAndRehashes()
    {
        var g = GrammarJson.Parse("""{"features": "from-data", "operators": ["+"]}""");
        Assert.That(g.FeaturesFromData, Is.True);
        var bound = g.BindFeatures(["a", "b"]);
        Assert.That(bound.Features, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(bound.FeaturesFromData, Is.False);
        Assert.That(bound.ContentHash, Is.Not.EqualTo(g.ContentHash));
    }

    [Test]
    public void BindFeatures_ListedFeatureMissing_ThrowsNamingIt()
    {
        var g = GrammarJson.Parse("""{"features": ["g[0..2]"], "operators": ["+"]}""");
        Assert.That(g.BindFeatures(["g0", "g1", "g2", "y"]), Is.SameAs(g));
        var ex = Assert.Throws<InputException>(() => g.BindFeatures(["g0", "y"]))!;
        Assert.That(ex.Fault, Does.Contain("g1, g2"));
    }

    [Test]
    public void Violations_ReportsEachBrokenLimit()
    {
        var g = GrammarJson.Parse("""
            {"features": ["x"], "operators": {"+": 1, "exp": 2}, "maxsize": 6, "maxdepth": 3,
             "stateful": {"lag": {"max": 2}}, "nesting": {"exp": {"exp": 0}}}
            """);
        Assert.That(g.Violations(Infix.Parse("x + exp(x)")), Is.Empty);
        var faults = g.Violations(Infix.Parse("exp(exp(y)) * lag(3, x)"));
        Assert.That(faults, Has.Some.Contains("unknown feature 'y'"));
        Assert.That(faults, Has.Some.Contains("operator '*' is not in the grammar"));
        Assert.That(faults, Has.Some.Contains("lag 3 exceeds the maximum 2"));
        Assert.That(faults, Has.Some.Contains("complexity 8 exceeds maxsize 6"));
        Assert.That(faults, Has.Some.Contains("depth 4 exceeds maxdepth 3"));
        Assert.That(faults, Has.Some.Contains("'exp' nested 1 times inside 'exp'"));
    }
}
