using L2OEvolve.Cli.Commands;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;

namespace L2OEvolve.Torch.Tests.Cli;

/// <summary>Operators from a user assembly (<c>--plugin FILE.dll</c>): built here from source, then used by name in
/// a search, a rollout and an export exactly like the built-in ones.</summary>
public class PluginTests
{
    // Written only against the engine's public operator interface: a name, the scalar meaning, a derivative and
    // the tensor mapping (the span kernel is the default scalar loop).
    private const string Source = """
        using L2OEvolve.Engine.Expressions;

        namespace UserOps;

        public sealed class HalfSquare : Op
        {
            public HalfSquare() : base("plugtest_halfsq", 1) { }
            public override double Apply(double x) => 0.5 * x * x;
            public override double Derivative(double x, double value) => x;
            public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.MulScalar(t.Mul(x, x), 0.5);
        }
        """;

    private static string Plugin(CliRunner cli)
    {
        var path = cli.PathOf("userops.dll");
        File.WriteAllBytes(path, TestCompiler.Emit(Source, "UserOps"));
        return path;
    }

    [Test]
    public void Plugin_OperatorIsUsableInSrARolloutAndAnExport()
    {
        using var cli = new CliRunner();
        var plugin = Plugin(cli);
        var lines = new List<string> { "x0,x1,y" };
        for (int i = 0; i < 40; i++) lines.Add(FormattableString.Invariant($"{-2 + i * 0.1},{i % 7 * 0.3},{0.5 * Math.Pow(-2 + i * 0.1, 2) + i % 7 * 0.3}"));
        File.WriteAllLines(cli.PathOf("data.csv"), lines);
        File.WriteAllText(cli.PathOf("grammar.json"), """
            { "features": "from-data", "operators": ["+", "*", "plugtest_halfsq"], "maxsize": 8 }
            """);

        var sr = cli.Run("--plugin", plugin, "sr", "--data", cli.PathOf("data.csv"), "--grammar", cli.PathOf("grammar.json"), "--generations", "3",
            "--seed", "1", "--threads", "1", "--population", "16", "--warm-start", "plugtest_halfsq(x0) + x1", "--quiet", "--out", cli.PathOf("out"));
        Assert.That(sr.Code, Is.Zero, sr.Err);
        Assert.That(File.ReadAllText(cli.PathOf("out/hall_of_fame.csv")), Does.Contain("plugtest_halfsq(x0)"), "printed under its own name");

        File.WriteAllText(cli.PathOf("r.rule.json"), """{ "rule": "-0.1 * plugtest_halfsq(g) * sign(g) - 0.05 * g" }""");
        var eval = cli.Run("--plugin", plugin, "eval", "--optimizee", "quadratic", "--optimizer", cli.PathOf("r.rule.json"),
            "--steps", "5", "--seeds", "1", "--out", cli.PathOf("eval"));
        Assert.That(eval.Code, Is.Zero, eval.Err);

        var export = cli.Run("--plugin", plugin, "export", "--rule", cli.PathOf("r.rule.json"), "--to", "pytorch");
        Assert.That(export.Code, Is.Zero, export.Err);
        Assert.That(export.Out, Does.Match(@"r\d+\.mul\(r\d+\)\.mul\(0\.5\)"), "the plug-in's tensor mapping, printed");
        var latex = cli.Run("--plugin", plugin, "export", "--rule", cli.PathOf("r.rule.json"), "--to", "latex");
        Assert.That(latex.Out, Does.Contain(@"\operatorname{plugtest\_halfsq}"));
    }

    [Test]
    public void Plugin_MissingFile_IsOneErrorLineAndExitCode2()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("--plugin", cli.PathOf("nope.dll"), "version");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.StartWith("error: ").And.Contain("nope.dll").And.Contain("no such plug-in file"));
    }

    [Test]
    public void Checkpoint_NamingAnOperatorThatIsNotLoaded_SaysWhichAndHowToLoadIt()
    {
        var dto = new ExprDto { Tokens = ["+", "never_loaded_op", "$g", "$g"], Numbers = [] };
        var e = Assert.Throws<FormatException>(() => ExprEncoding.Decode(dto))!;
        Assert.That(e.Message, Does.Contain("'never_loaded_op'").And.Contain("--plugin"));
    }
}
