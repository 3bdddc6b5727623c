using System.Text.Json;
using L2OEvolve.Torch.DistillationPipeline;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Commands;

[NonParallelizable]
public class RunCommandTests
{
    // The default configuration's shape, with the shipped teacher, at a size that runs in seconds.
    private static string TinyConfig(string dataDir) => $$"""
    {
      "seed": 1, "threads": 1, "dataDir": "{{dataDir}}", "batch": 8,
      "teacher": { "pretrained": "rnnprop-fashion-v1" },
      "record": { "samples": 200, "steps": 24, "memlen": 1, "features": ["mt", "gt", "g"], "coords": 4 },
      "evolve": {
        "time": "60s", "generations": 2, "islands": 2, "population": 8, "keep": 2,
        "grammar": { "features": "from-data", "operators": { "+": 1, "*": 1, "tanh": 1, "sign": 1 }, "maxsize": 7 },
        "scale": 0.01, "stepMultipliers": [1, 3], "imitationPass": 2.0, "imitationWeight": 1.0, "rolloutWeight": 1.0,
        "rollouts": [ { "optimizee": "mlp-fashion", "steps": 4, "seeds": 1, "passBelow": 2.0 },
                      { "optimizee": "mlp-fashion:hidden=6,act=tanh", "steps": 4, "seeds": 1, "passBelow": 2.0 } ]
      },
      "tune": { "optimizees": ["mlp-fashion", "mlp-fashion:hidden=6,act=tanh"], "epochs": 1, "steps": 6, "unroll": 3, "lr": 0.001, "checkSeeds": 2 },
      "evaluate": { "horizon": 3,
                    "optimizees": [ { "optimizee": "mlp-fashion", "horizons": [1, 2], "seeds": 3 }, { "optimizee": "cnn-fashion", "horizons": [1], "seeds": 2 } ],
                    "baselines": ["sgd", "adam", "lion"], "tuneSeeds": 1, "lrPoints": 3, "lrDecades": 1, "workers": 2 }
    }
    """;

    // One sized-down run serves every test that reads its output.
    private CliRunner? _cli;
    private TinyMnist? _tiny;
    private string _runDir = "";

    [OneTimeSetUp]
    public async Task RunTinyPipelineOnce()
    {
        _cli = new CliRunner();
        _tiny = new TinyMnist(n: 40);
        var configPath = _cli.PathOf("tiny.json");
        File.WriteAllText(configPath, TinyConfig(_tiny.Dir));
        _runDir = _cli.PathOf("run");
        var (code, _, stderr) = await _cli.RunAsync("run", "--config", configPath, "--out", _runDir);
        Assert.That(code, Is.EqualTo(0), stderr);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        _cli?.Dispose();
        _tiny?.Dispose();
    }

    [Test]
    public void Run_TinyConfig_WritesTheReportAndResultsWithEveryPart()
    {
        var runDir = _runDir;
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.That(report, Does.Contain("## Answer").And.Contain("## Teacher").And.Contain("shipped teacher **rnnprop-fashion** v1").And.Contain("distillation R²").And.Contain("\\Delta\\theta")
            .And.Contain("## mlp-fashion, 3 steps (1×").And.Contain("## mlp-fashion, 6 steps (2×").And.Contain("## cnn-fashion, 3 steps (1× the search's horizon; never seen")
            .And.Contain("| teacher |").And.Contain("distilled-1").And.Contain("| lion |").And.Contain("seeds lower than Adam").And.Contain("**Verdict:**").And.Contain("±"));
        foreach (var png in new[] { "evolve/pareto.png", "eval/mlp-fashion/3-steps/loss.png", "eval/mlp-fashion/6-steps/loss.png", "eval/cnn-fashion/3-steps/loss.png" })
            Assert.That(File.ReadAllBytes(Path.Combine(runDir, png)).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), png);
        Assert.That(File.ReadAllLines(Path.Combine(runDir, "evolve", "hall_of_fame.csv"))[0], Does.StartWith("Complexity|Combined|ImitationR2|StepSize|Rollout1"));
        Assert.That(RuleFile.Load(Path.Combine(runDir, "evolve", "distilled-1.rule.json")).Lr, Is.GreaterThan(0));
    }

    [Test]
    public void Run_TinyConfig_ResultsJsonFollowsTheDocumentedSchema()
    {
        var runDir = _runDir;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "results.json")));
        var root = doc.RootElement;
        var best = root.GetProperty("best_rule").GetString();
        var rules = root.GetProperty("rules").EnumerateArray().ToArray();
        Assert.That(rules.Select(r => r.GetProperty("name").GetString()), Does.Contain(best));
        foreach (var r in rules)
        {
            Assert.That(r.GetProperty("infix").GetString(), Is.Not.Empty);
            Assert.That(r.GetProperty("complexity").GetInt32(), Is.GreaterThan(0));
            Assert.That(r.GetProperty("state_floats").GetInt32(), Is.GreaterThanOrEqualTo(0));
        }
        var evals = root.GetProperty("evaluations").EnumerateArray().ToArray();
        Assert.That(evals.Select(e => (e.GetProperty("optimizee").GetString(), e.GetProperty("steps").GetInt32(), e.GetProperty("seen_by_search").GetBoolean())),
            Is.EqualTo(new[] { ("mlp-fashion", 3, true), ("mlp-fashion", 6, true), ("cnn-fashion", 3, false) }));
        foreach (var e in evals)
        {
            int seeds = e.GetProperty("seeds").GetArrayLength();
            var results = e.GetProperty("results").EnumerateArray().ToArray();
            Assert.That(results.Select(r => r.GetProperty("optimizer").GetString()), Does.Contain("adam").And.Contain(best).And.Contain("teacher"));
            foreach (var r in results)
            {
                Assert.That(r.GetProperty("kind").GetString(), Is.AnyOf("teacher", "rule", "baseline"));
                foreach (var key in new[] { "final_train_loss", "eval_loss", "eval_accuracy" })
                    Assert.That(r.GetProperty(key).GetArrayLength(), Is.EqualTo(seeds), key);
                Assert.That(r.GetProperty("lr").ValueKind, r.GetProperty("kind").GetString() == "teacher" ? Is.EqualTo(JsonValueKind.Null) : Is.EqualTo(JsonValueKind.Number));
            }
            Assert.That(e.GetProperty("verdict").GetProperty("kind").GetString(), Is.AnyOf("beats", "ties", "loses"));
        }
    }

    [Test]
    public async Task Run_TeacherRecipe_MetaTrainsTheTeacherInTheRun()
    {
        using var cli = new CliRunner();
        var config = TinyConfig(_tiny!.Dir)
            .Replace("\"teacher\": { \"pretrained\": \"rnnprop-fashion-v1\" }",
                "\"teacher\": { \"model\": \"rnnprop\", \"optimizee\": \"mlp-fashion\", \"epochs\": 1, \"steps\": 10, \"unroll\": 5, \"lr\": 0.001, \"preprocess\": [4], \"hidden\": [4] }")
            .Replace("{ \"optimizee\": \"cnn-fashion\", \"horizons\": [1], \"seeds\": 2 }", "{ \"optimizee\": \"logreg\", \"horizons\": [1], \"seeds\": 2 }");
        File.WriteAllText(cli.PathOf("recipe.json"), config);
        var (code, _, stderr) = await cli.RunAsync("run", "--config", cli.PathOf("recipe.json"), "--out", cli.PathOf("run"));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(File.Exists(cli.PathOf("run/teacher/config.json")), Is.True);
        Assert.That(File.ReadAllText(cli.PathOf("run/report.md")), Does.Contain("meta-trained in this run on mlp-fashion"));
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
