namespace L2OEvolve.Torch.Tests.Cli;

public class SanityDataCommandTests
{
    // Each target's defining formula must score R2 = 1 on the generated data (lag form on tables, ema form on trajectories).
    [TestCase("sgd.csv", "-0.01 * g0")]
    [TestCase("lagsum.csv", "g0 + 0.9*g1 + 0.8*g2 + 0.7*g3 + 0.6*g4 + 0.5*g5 + 0.4*g6 + 0.3*g7 + 0.2*g8 + 0.1*g9")]
    [TestCase("mixed.csv", "g0*g0 + g1 + 2*g2 + exp(g4)")]
    [TestCase("momentum_traj.npy", "2.5 * ema(0.6, g)")]
    [TestCase("adam_traj.npy", "ema(0.9, g) / (sqrt(ema(0.9, g*g)) + 1e-8)")]
    public void SanityData_DefiningFormula_ScoresR2One(string file, string equation)
    {
        using var cli = new CliRunner();
        var (code, stdout, stderr) = cli.Run("sanity-data", "--out", cli.Dir, "--coordinates", "8", "--steps", "20", "--seed", "1");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("adam_traj.npy"));
        var score = cli.Run("score", "--data", cli.PathOf(file), "--equation", equation);
        Assert.That(score.Code, Is.Zero, score.Err);
        Assert.That(score.Out, Does.Contain("R2       1.000000"));
    }

    [Test]
    public void SanityData_MomentumTable_TruncatedLagSumIsNearlyExact()
    {
        using var cli = new CliRunner();
        cli.Run("sanity-data", "--out", cli.Dir, "--coordinates", "8", "--steps", "20");
        var terms = string.Join(" + ", Enumerable.Range(0, 20).Select(i => FormattableString.Invariant($"{Math.Pow(0.6, i):R}*g{i}")));
        var score = cli.Run("score", "--data", cli.PathOf("momentum.csv"), "--equation", terms);
        Assert.That(score.Out, Does.Match(@"R2\s+(1\.000000|0\.99999\d)"));
    }

    [TestCase("--coordinates", "0", "error: --coordinates must be positive, got 0")]
    [TestCase("--steps", "-5", "error: --steps must be positive, got -5")]
    public void SanityData_NonPositiveSize_IsRejectedNamingTheOption(string option, string value, string message)
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = cli.Run("sanity-data", "--out", cli.PathOf("s"), option, value);
        Assert.That(code, Is.EqualTo(L2OEvolve.Cli.Commands.CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith(message));
        Assert.That(Directory.Exists(cli.PathOf("s")), Is.False);
    }

    [Test]
    public void SanityData_OutIsAFile_IsRejectedAndTheFileLeftAlone()
    {
        using var cli = new CliRunner();
        File.WriteAllText(cli.PathOf("f"), "keep");
        var (code, _, stderr) = cli.Run("sanity-data", "--out", cli.PathOf("f"));
        Assert.That(code, Is.EqualTo(L2OEvolve.Cli.Commands.CommandErrors.BadInput));
        Assert.That(stderr, Does.StartWith($"error: {cli.PathOf("f")}: --out: a file, not a directory"));
        Assert.That(File.ReadAllText(cli.PathOf("f")), Is.EqualTo("keep"));
    }
}
