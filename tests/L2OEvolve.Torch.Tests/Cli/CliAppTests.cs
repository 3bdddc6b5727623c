using L2OEvolve.Cli.Commands;

namespace L2OEvolve.Torch.Tests.Cli;

public class CliAppTests
{
    [TestCase("sr")]
    [TestCase("score")]
    [TestCase("submit")]
    [TestCase("status")]
    [TestCase("stop")]
    [TestCase("result")]
    [TestCase("resume")]
    [TestCase("daemon")]
    public void RunAsync_UnknownOption_ExitsWithTheBadInputCodeNamingTheOption(string verb)
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = cli.Run(verb, "--home", cli.Dir, "job", "--frobnicate");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput), stderr);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain("--frobnicate").And.Contain($"l2oevolve {verb} --help"));
        Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void RunAsync_UnknownVerb_ExitsWithTheBadInputCode()
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = cli.Run("frobnicate");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("frobnicate"));
    }

    [Test]
    public void RunAsync_BadUsageAndBadInput_ShareOneExitCode()
    {
        using var cli = new CliRunner();
        var usage = cli.Run("score", "--data", cli.PathOf("a.csv"));
        var input = cli.Run("score", "--data", cli.PathOf("a.csv"), "--equation", "x0");
        Assert.That((usage.Code, input.Code), Is.EqualTo((CommandErrors.BadInput, CommandErrors.BadInput)), usage.Err + input.Err);
        Assert.That(usage.Err, Does.Contain("--equation"));
        Assert.That(input.Err, Does.Contain("a.csv"));
    }

    [TestCase("--generations", "abc", "as an integer")]
    [TestCase("--seed", "-1", "as a non-negative integer")]
    [TestCase("--target-r2", "high", "as a number")]
    public void RunAsync_UnparsableValue_SaysWhatKindOfValueItWanted(string option, string value, string wanted)
    {
        using var cli = new CliRunner();
        var (data, grammar) = cli.ProductProblem();
        var (code, _, stderr) = cli.Run("sr", "--data", data, "--grammar", grammar, "--out", cli.PathOf("o"), option, value);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain($"'{value}' for option '{option}' {wanted}").And.Not.Contain("System."));
    }

    [Test]
    public void RunAsync_Help_ExitsZero()
    {
        using var cli = new CliRunner();
        Assert.That(cli.Run("sr", "--help").Code, Is.Zero);
    }
}
