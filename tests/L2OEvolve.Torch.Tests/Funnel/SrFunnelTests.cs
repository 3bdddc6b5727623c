using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Funnel;

[NonParallelizable]
public class SrFunnelTests
{
    [Test]
    public async Task Sr_WithRolloutOptimizee_ReportsImitationR2AndFindsTheDescentRule()
    {
        using var cli = new CliRunner();
        // A teacher whose raw output is -2·mt0: the funnel must keep the sign and the rollouts must accept it.
        var rng = new Rng(5);
        var csv = new StringBuilder("mt0,gt0,y\n");
        for (int i = 0; i < 300; i++)
        {
            double mt = rng.NextGaussian(), gt = rng.NextGaussian();
            csv.Append(CultureInfo.InvariantCulture, $"{mt},{gt},{-2 * mt}\n");
        }
        var data = cli.PathOf("rows.csv");
        File.WriteAllText(data, csv.ToString());
        var grammar = cli.PathOf("g.json");
        File.WriteAllText(grammar, """{"features": "from-data", "operators": {"+": 1, "*": 1}, "maxsize": 5}""");
        var (code, stdout, stderr) = await cli.RunAsync("sr", "--data", data, "--grammar", grammar, "--generations", "5", "--threads", "1", "--islands", "2",
            "--population", "16", "--warm-start", "-1 * mt0", "--rollout-optimizee", "quadratic", "--rollout-steps", "10", "--rollout-seeds", "1",
            "--quiet", "--out", cli.PathOf("out"));
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var hof = File.ReadAllLines(cli.PathOf(Path.Combine("out", "hall_of_fame.csv")));
        Assert.That(hof[0], Is.EqualTo("Complexity|Loss|R2|Equation"));
        var best = hof.Skip(1).Select(l => l.Split('|')).MaxBy(p => double.Parse(p[2], CultureInfo.InvariantCulture))!;
        Assert.That(double.Parse(best[2], CultureInfo.InvariantCulture), Is.GreaterThan(0.99), string.Join("\n", hof));
        Assert.That(best[3], Does.Contain("mt0"));
    }
}
