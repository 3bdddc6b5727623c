using L2OEvolve.Cli.Pipeline;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class RunCommandTests
{
    // The default configuration's shape at a size that runs in seconds.
    private static string TinyConfig(string dataDir) => $$"""
    {
      "seed": 1, "threads": 1, "dataDir": "{{dataDir}}", "batch": 8,
      "teacher": { "model": "rnnprop", "optimizee": "mlp-fashion", "epochs": 1, "steps": 10, "unroll": 5, "lr": 0.001,
                   "features": "mt+gt", "preprocess": [4], "hidden": [4] },
      "record": { "samples": 200, "steps": 24, "memlen": 1, "features": ["mt", "gt"], "coords": 4 },
      "evolve": {
        "time": "60s", "generations": 2, "islands": 2, "population": 8, "keep": 1,
        "grammar": { "features": "from-data", "operators": { "+": 1, "*": 1, "tanh": 1 }, "maxsize": 7 },
        "scale": 0.01, "imitationPass": 2.0, "imitationWeight": 1.0, "rolloutWeight": 1.0,
        "rollouts": [ { "optimizee": "mlp-fashion", "steps": 4, "seeds": 1, "passBelow": 2.0 } ]
      },
      "tune": { "optimizee": "mlp-fashion", "epochs": 1, "steps": 6, "unroll": 3, "lr": 0.001 },
      "evaluate": { "optimizees": ["mlp-fashion", "cnn-fashion"], "steps": 6, "seeds": 2, "seedBase": 0,
                    "baselines": ["sgd", "adam"], "tuneLr": true, "tuneSteps": 3, "lrPoints": 2 }
    }
    """;

    [Test]
    public async Task Run_TinyConfig_WritesTheReportWithEveryPart()
    {
        using var cli = new CliRunner();
        using var tiny = new TinyMnist(n: 40);
        var configPath = cli.PathOf("tiny.json");
        File.WriteAllText(configPath, TinyConfig(tiny.Dir));
        var runDir = cli.PathOf("run");

        var (code, _, stderr) = await cli.RunAsync("run", "--config", configPath, "--out", runDir);

        Assert.That(code, Is.EqualTo(0), stderr);
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.That(report, Does.Contain("## Teacher").And.Contain("distillation R²").And.Contain("LaTeX: $\\Delta\\theta =")
            .And.Contain("## Evaluation on mlp-fashion").And.Contain("## Evaluation on cnn-fashion (never seen")
            .And.Contain("| teacher |").And.Contain("| distilled-1 |").And.Contain("| distilled-1-tuned |").And.Contain("lr-tuned")
            .And.Contain("**Verdict:**").And.Contain("±"));
        foreach (var png in new[] { "evolve/pareto.png", "eval/mlp-fashion/loss.png", "eval/cnn-fashion/loss.png" })
            Assert.That(File.ReadAllBytes(Path.Combine(runDir, png)).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), png);
        Assert.That(RuleFile.Load(Path.Combine(runDir, "tune", "distilled-1", "tuned.rule.json")).Name, Is.EqualTo("distilled-1-tuned"));
        Assert.That(File.ReadAllLines(Path.Combine(runDir, "evolve", "hall_of_fame.csv"))[0], Does.StartWith("Complexity|Combined|ImitationR2|Rollout1"));
    }

    [Test]
    public void DefaultConfig_Parses()
    {
        var c = PipelineConfig.Parse(PipelineConfig.DefaultText(), "default");
        Assert.That(c.Teacher.Optimizee, Is.EqualTo("mlp-fashion"));
        Assert.That(c.Evaluate.Optimizees, Does.Contain("cnn-fashion"));
    }

    [Test]
    public async Task Run_ConfigWithUnknownKey_FailsNamingIt()
    {
        using var cli = new CliRunner();
        var path = cli.PathOf("bad.json");
        File.WriteAllText(path, PipelineConfig.DefaultText().Replace("\"seed\": 1,", "\"seed\": 1, \"sead\": 2,"));
        var (code, _, stderr) = await cli.RunAsync("run", "--config", path, "--out", cli.PathOf("r"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("sead").And.Contain(path));
    }
}
