using L2OEvolve.Cli.Commands;
using L2OEvolve.Engine.Persistence;

namespace L2OEvolve.Torch.Tests.Cli;

public class SrCommandTests
{
    [Test]
    public void Sr_TinyTable_WritesHallOfFameTexAndStateAndPrintsChoice()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, stdout, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--generations", "30", "--seed", "3",
            "--threads", "1", "--islands", "2", "--population", "24", "--out", cli.PathOf("out"));
        Assert.That(code, Is.Zero, stderr);
        var csv = File.ReadAllLines(cli.PathOf("out/hall_of_fame.csv"));
        Assert.That(csv[0], Is.EqualTo("Complexity|Loss|R2|Equation"));
        Assert.That(csv.Length, Is.GreaterThan(1));
        var complexities = csv.Skip(1).Select(l => int.Parse(l.Split('|')[0])).ToArray();
        Assert.That(complexities, Is.Ordered.Ascending.And.Unique);
        var losses = csv.Skip(1).Select(l => double.Parse(l.Split('|')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(losses, Is.Ordered.Descending, "a Pareto front: more complex rows are more accurate");
        Assert.That(File.ReadAllText(cli.PathOf("out/hall_of_fame.tex")), Does.Contain("\\begin{tabular}").And.Contain("\\toprule"));
        var stateFile = cli.PathOf("out/state.msgpack");
        var state = SearchStateCodec.Deserialize(L2OEvolve.Cli.Checkpoints.CheckpointFile.Unframe(File.ReadAllBytes(stateFile), stateFile).ToArray());
        Assert.That(state.Generation, Is.EqualTo(30));
        Assert.That(stdout, Does.Contain("chosen").And.Contain("accurate").And.Contain("gen"));
    }

    [Test]
    public void Sr_SameSeedOneAndTwoThreads_WriteTheSameHallOfFame()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        string[] Args(int threads, string dir) =>
            ["sr", "--data", data, "--grammar", grammar, "--generations", "15", "--seed", "9", "--threads", threads.ToString(),
             "--islands", "3", "--population", "20", "--quiet", "--out", cli.PathOf(dir)];
        Assert.That(cli.Run(Args(1, "one")).Code, Is.Zero);
        Assert.That(cli.Run(Args(2, "two")).Code, Is.Zero);
        Assert.That(File.ReadAllText(cli.PathOf("two/hall_of_fame.csv")), Is.EqualTo(File.ReadAllText(cli.PathOf("one/hall_of_fame.csv"))));
    }

    [Test]
    public void Sr_WarmStartWithTheAnswer_FindsItAtOnce()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, stdout, _) = cli.Run("sr", "--data", data, "--grammar", grammar, "--generations", "1", "--threads", "1",
            "--warm-start", "x0 * x1 + 0.5", "--quiet", "--out", cli.PathOf("out"));
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("R2 1.000000"));
    }

    [Test]
    public void Sr_MissingDataFile_CleanErrorNamingItAndNonZeroExit()
    {
        using var cli = new CliRunner();
        var (_, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("sr", "--data", cli.PathOf("nope.csv"), "--grammar", grammar, "--generations", "1", "--out", cli.PathOf("o"));
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith("error: ").And.Contain("nope.csv").And.Contain("not found"));
        Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void Sr_BadTargetColumn_CleanErrorListingColumns()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--target", "zz", "--grammar", grammar, "--generations", "1", "--out", cli.PathOf("o"));
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("zz"));
    }

    [Test]
    public void Sr_MalformedGrammar_CleanErrorNamingTheFile()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        File.WriteAllText(cli.PathOf("bad.json"), """{ "features": "from-data", "operators": { "expp": 1 } }""");
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", cli.PathOf("bad.json"), "--generations", "1", "--out", cli.PathOf("o"));
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("bad.json").And.Contain("expp"));
    }

    [Test]
    public void Sr_UnknownOptionOrBadTime_NonZeroExit()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        Assert.That(cli.Run("sr", "--data", data, "--grammar", grammar, "--out", cli.PathOf("o"), "--frobnicate").Code, Is.EqualTo(CommandErrors.BadInput));
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--out", cli.PathOf("o"), "--time", "soon");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("soon"));
    }

    [Test]
    public void Sr_OutIsAnExistingFile_FailsBeforeSearchingAndLeavesTheFileAlone()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        string before = File.ReadAllText(data);
        var (code, stdout, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--generations", "1", "--out", data);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith($"error: {data}: --out: a file, not a directory"));
        Assert.That(stdout, Does.Not.Contain("gen "), "no search ran");
        Assert.That(File.ReadAllText(data), Is.EqualTo(before));
    }

    [TestCase("--islands", "0", "--islands must be at least 1")]
    [TestCase("--population", "1", "--population must be at least 2")]
    [TestCase("--evaluations", "-5", "--evaluations must be positive")]
    [TestCase("--target-r2", "1.5", "--target-r2 must be a number at most 1")]
    [TestCase("--target-loss", "NaN", "--target-loss must be a number")]
    public void Sr_OutOfRangeOption_IsRejectedNamingIt(string option, string value, string message)
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--generations", "1", "--out", cli.PathOf("o"), option, value);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith("error: " + message));
    }

    [Test]
    public void Sr_GrammarFeatureMissingFromData_NamesTheGrammarFile()
    {
        using var cli = new CliRunner();
        var (data, _) = cli.ProductProblem();
        File.WriteAllText(cli.PathOf("g.json"), """{ "name": "needs-z", "features": ["x0", "z"], "operators": { "+": 1 } }""");
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", cli.PathOf("g.json"), "--generations", "1", "--out", cli.PathOf("o"));
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith($"error: {cli.PathOf("g.json")}: $.features: grammar 'needs-z' needs feature(s) z"));
    }

    [Test]
    public void Sr_TimeBudgetSpentOnTheInitialPopulation_IsOneErrorNotAnOverrun()
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        // A millisecond cannot score 400 × 200 random trees: the budget must stop the initialisation itself.
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--time", "1ms", "--threads", "1",
            "--islands", "400", "--population", "200", "--quiet", "--out", cli.PathOf("out"));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.Contain("--time").And.Contain("initial population of 400 × 200"));
    }
}
