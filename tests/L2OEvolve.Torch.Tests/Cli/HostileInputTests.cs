using System.Text;

namespace L2OEvolve.Torch.Tests.Cli;

/// <summary>
/// One input of each hostile class through the real verbs: each ends in exactly one <c>error:</c> line naming the file
/// or option, the place and the fault, with exit code 2, and writes nothing.
/// </summary>
public class HostileInputTests
{
    private static void AssertOneCleanError(int code, string stdout, string stderr, params string[] expected)
    {
        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain("error: "));
        foreach (var e in expected) Assert.That(lines[0], Does.Contain(e));
        Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    private static string Table(CliRunner cli, string name, string header, Func<int, string>? row = null)
    {
        var sb = new StringBuilder(header).Append('\n');
        for (int i = 0; i < 20; i++) sb.Append(row?.Invoke(i) ?? $"{i * 0.1},{i * 0.2},{i * 0.3}").Append('\n');
        File.WriteAllText(cli.PathOf(name), sb.ToString());
        return cli.PathOf(name);
    }

    private static (int, string, string) Sr(CliRunner cli, string data, string grammar, params string[] extra) =>
        cli.Run(["sr", "--data", data, "--grammar", grammar, "--generations", "1", "--out", cli.PathOf("out"), .. extra]);

    [Test]
    public void UnboundedReads_DevZeroAsGrammarOrTable_AreRefusedBySize()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, o, e) = Sr(cli, data, "/dev/zero");
        AssertOneCleanError(code, o, e, "/dev/zero: larger than 4 MiB, the limit for a grammar file");
        File.CreateSymbolicLink(cli.PathOf("zero.csv"), "/dev/zero");
        (code, o, e) = cli.Run("score", "--data", cli.PathOf("zero.csv"), "--equation", "x0");
        AssertOneCleanError(code, o, e, "zero.csv: line 1: line longer than 16 MiB");
    }

    [TestCase("--time", "1e9h", "--time: '1e9h' is longer than the longest budget")]
    [TestCase("--population", "2000000000", "--population: 8 islands of 2000000000 members exceed the limit")]
    [TestCase("--islands", "100000", "--islands: at most 10000 islands")]
    [TestCase("--threads", "100000", "--threads must be between 1 and 1024")]
    public void CheckedArithmetic_HugeSizes_AreRefusedBeforeAnyAllocation(string option, string value, string expected)
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, o, e) = Sr(cli, data, grammar, option, value);
        AssertOneCleanError(code, o, e, expected);
        Assert.That(Directory.Exists(cli.PathOf("out")), Is.False);
    }

    [TestCase("\"maxsize\": 2000000000", "$.maxsize: 2000000000 is too large (maximum 1000)")]
    [TestCase("\"maxsize\": 20, \"maxdepth\": 5000", "$.maxdepth: 5000 is too large (maximum 1000)")]
    [TestCase("\"maxsize\": 20, \"stateful\": {\"lag\": {\"max\": 100000}}", "$.stateful.lag.max: 100000 is too large (maximum 1000)")]
    [TestCase("\"maxsize\": 20, \"maxsize\": 30", "line 1, column 65: duplicate key 'maxsize' in $")]
    public void GrammarLimitsAndDuplicateKeys_AreRefusedNamingThePlace(string tail, string expected)
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        File.WriteAllText(cli.PathOf("g.json"), "{\"features\": \"from-data\", \"operators\": {\"+\": 1}, " + tail + "}");
        var (code, o, e) = Sr(cli, data, cli.PathOf("g.json"));
        AssertOneCleanError(code, o, e, "g.json: " + expected);
    }

    [Test]
    public void DegenerateShapes_NpyWithoutColumns_IsRefused()
    {
        using var cli = new CliRunner();
        L2OEvolve.Engine.Data.Npy.WriteFloat32(cli.PathOf("empty.npy"), [10, 0], []);
        var (code, o, e) = cli.Run("score", "--data", cli.PathOf("empty.npy"), "--equation", "1");
        AssertOneCleanError(code, o, e, "empty.npy: the array (10, 0) has no columns");
    }

    [Test]
    public void LongFlatChains_InScoreAndExport_AreRefusedBeyondTheDepthLimit()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        string sum = string.Join(" + ", Enumerable.Repeat("x0", 10_000));
        var (code, o, e) = cli.Run("score", "--data", data, "--equation", sum);
        AssertOneCleanError(code, o, e, "--equation: column 1: the equation's tree is more than 1000 levels deep");
        File.WriteAllText(cli.PathOf("long.rule.json"), "{\"rule\": \"" + string.Join(" + ", Enumerable.Repeat("g", 10_000)) + "\"}");
        (code, o, e) = cli.Run("export", "--rule", cli.PathOf("long.rule.json"), "--to", "latex");
        AssertOneCleanError(code, o, e, "long.rule.json: $.rule, column 1: the equation's tree is more than 1000 levels deep");
        (code, o, _) = cli.Run("score", "--data", data, "--equation", string.Join(" + ", Enumerable.Repeat("x0", 1000)));
        Assert.That(code, Is.Zero, "the longest chain accepted is scored");
    }

    [Test]
    public void Paths_EmptyOutOrADirectoryForAFile_AreRefused()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, o, e) = cli.Run("sr", "--data", data, "--grammar", grammar, "--generations", "1", "--out", "");
        AssertOneCleanError(code, o, e, "--out: the output directory is empty");
        File.WriteAllText(cli.PathOf("sgd.rule.json"), "{\"rule\": \"-0.01 * g\"}");
        Directory.CreateDirectory(cli.PathOf("adir"));
        (code, o, e) = cli.Run("export", "--rule", cli.PathOf("sgd.rule.json"), "--to", "latex", "--out", cli.PathOf("adir"));
        AssertOneCleanError(code, o, e, "adir: --out: a directory; --out names the file to write");
    }

    [Test]
    public void SilentMisreads_CsvWithoutHeader_IsRefusedNotReadAsNames()
    {
        using var cli = new CliRunner();
        var (code, o, e) = cli.Run("score", "--data", Table(cli, "nohdr.csv", "0.5,1,2"), "--equation", "1");
        AssertOneCleanError(code, o, e, "nohdr.csv: line 1: the first row must name the columns, but column 1 is the number '0.5'");
    }

    [TestCase("sin", "'sin' is the name of a function")]
    [TestCase("x1+x2", "'x1+x2' is not a name an equation can use")]
    [TestCase("nan", "'nan' is reserved for a constant")]
    [TestCase("2x", "'2x' is not a name an equation can use")]
    public void SilentMisreads_ColumnNamesEquationsCannotSay_AreRefused(string name, string expected)
    {
        using var cli = new CliRunner();
        var (_, grammar) = cli.ProductProblem();
        var (code, o, e) = Sr(cli, Table(cli, "t.csv", $"{name},x1,y"), grammar);
        AssertOneCleanError(code, o, e, $"t.csv: column names: column '{name}' cannot be a feature: {expected}");
    }

    [TestCase("1e-50", "below the float32 range")]
    [TestCase("-1e50", "beyond the float32 range")]
    public void SilentMisreads_ValuesOutsideFloat32_AreReportedWithTheirLine(string value, string expected)
    {
        using var cli = new CliRunner();
        string data = Table(cli, "t.csv", "x0,x1,y", i => i == 3 ? $"0.1,{value},1" : $"{i},{i},{i}");
        var (code, o, e) = cli.Run("score", "--data", data, "--equation", "x1");
        AssertOneCleanError(code, o, e, $"t.csv: line 5: '{value}' in column 'x1' is {expected}");
    }

    [TestCase("1x-y", "pytorch", "not an identifier")]
    [TestCase("None", "pytorch", "a keyword of Python")]
    [TestCase("class", "torchsharp", "a keyword of C#")]
    public void SilentMisreads_ClassNamesThatAreNotIdentifiers_AreRefused(string name, string to, string expected)
    {
        using var cli = new CliRunner();
        File.WriteAllText(cli.PathOf("sgd.rule.json"), "{\"rule\": \"-0.01 * g\"}");
        var (code, _, e) = cli.Run("export", "--rule", cli.PathOf("sgd.rule.json"), "--to", to, "--class", name);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(e, Does.Contain($"--class '{name}': {expected}"));
    }

    [Test]
    public void SilentMisreads_RuleNameThatWouldBreakOutOfAComment_IsRefused()
    {
        using var cli = new CliRunner();
        File.WriteAllText(cli.PathOf("evil.rule.json"), "{\"name\": \"x\\nimport os\", \"rule\": \"-0.01 * g\"}");
        var (code, _, e) = cli.Run("export", "--rule", cli.PathOf("evil.rule.json"), "--to", "pytorch");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(e, Does.Contain("evil.rule.json: $.name: a rule name is 1 to 200 characters without quotes"));
    }
}
