using System.Text.Json;
using System.Text.Json.Serialization;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.DistillationPipeline;

/// <summary>
/// <c>results.json</c>: the run's answer in a form programs read. Per-seed lists are in seed order; a value a run
/// could not give (it diverged) is null. Documented in the pipeline README.
/// </summary>
/// <param name="BestRule">The recommended rule (chosen on tuning seeds, never on evaluation seeds).</param>
/// <param name="Rules">Every rule evaluated: as found by the search and as meta-tuned (when tuning was kept).</param>
/// <param name="Evaluations">One entry per optimizee and horizon.</param>
public sealed record PipelineResults(
    [property: JsonPropertyName("best_rule")] string BestRule,
    [property: JsonPropertyName("rules")] IReadOnlyList<ResultRule> Rules,
    [property: JsonPropertyName("evaluations")] IReadOnlyList<ResultEvaluation> Evaluations)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The results of a run.</summary>
    public static PipelineResults Build(string best, IReadOnlyList<KeptRule> kept, IReadOnlyList<TunedRule> tuned,
        IReadOnlyList<OptimizeeComparison> evals, PipelineConfig config)
    {
        var rules = new List<ResultRule>();
        foreach (var k in kept) rules.Add(Rule(k.Update, k.Complexity, "found"));
        foreach (var t in tuned.Where(t => t.Tuned is not null)) rules.Add(Rule(t.Tuned!, t.From.Complexity, "meta-tuned"));
        var evaluations = evals.SelectMany(e => e.Horizons.Select(h => new ResultEvaluation(
            e.Optimizee, h.Steps, h.Steps / config.Evaluate.Horizon, e.SeenBySearch, [.. h.Results[0].Runs.Select(r => r.Seed)],
            [.. h.Results.Select(r => new ResultRow(r.Contender.Name, Kind(r.Contender.Kind), r.Lr, r.Tuning?.AtEdge,
                Nullable(r.FinalTrainLoss), Nullable(r.EvalLoss), Nullable(r.EvalAccuracy),
                r.Runs[0].StateFloatsPerParameter, OptimizerMs(r)))],
            VerdictOf(h, best)))).ToList();
        return new PipelineResults(best, rules, evaluations);
    }

    /// <summary>Writes <paramref name="results"/> as indented JSON.</summary>
    public static void Write(string path, PipelineResults results) => File.WriteAllText(path, JsonSerializer.Serialize(results, Options) + "\n");

    /// <summary>Reads a results file (the tests and the ablation script use it).</summary>
    public static PipelineResults Read(string path) =>
        JsonSerializer.Deserialize<PipelineResults>(File.ReadAllText(path), Options) ?? throw new InvalidDataException($"{path}: empty results");

    /// <summary>The verdict of <paramref name="best"/> against lr-tuned Adam at one horizon (null when either is missing).</summary>
    public static Verdict? VerdictAt(HorizonResult h, string best) =>
        h.Find(best) is { } rule && h.Find("adam") is { } adam ? Verdict.Of(rule.FinalTrainLoss, adam.FinalTrainLoss) : null;

    private static ResultVerdict? VerdictOf(HorizonResult h, string best) => VerdictAt(h, best) is { } v
        ? new ResultVerdict(v.Kind.ToString().ToLowerInvariant(), v.Phrase("lr-tuned Adam"), double.IsFinite(v.Gap) ? v.Gap : null, v.Wins, v.Seeds)
        : null;

    private static ResultRule Rule(RuleDefinition r, int complexity, string origin) => new(
        r.Name, Infix.Print(r.Rule), Latex.Print(r.Rule), r.Lr, complexity, r.Compile().StateSlots, origin);

    private static string Kind(ContenderKind k) => k switch { ContenderKind.Teacher => "teacher", ContenderKind.Rule => "rule", _ => "baseline" };

    private static double?[] Nullable(double[] xs) => [.. xs.Select(x => double.IsFinite(x) ? x : (double?)null)];

    private static double OptimizerMs(ContenderResult r)
    {
        double steps = r.Runs.Sum(x => x.StepsRun);
        return steps == 0 ? 0 : 1000 * r.Runs.Sum(x => x.OptimizerSeconds) / steps;
    }
}

/// <summary>A rule of the run.</summary>
public sealed record ResultRule(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("infix")] string Infix,
    [property: JsonPropertyName("latex")] string Latex,
    [property: JsonPropertyName("lr")] double Lr,
    [property: JsonPropertyName("complexity")] int Complexity,
    [property: JsonPropertyName("state_floats")] int StateFloats,
    [property: JsonPropertyName("origin")] string Origin);

/// <summary>One optimizee at one horizon.</summary>
public sealed record ResultEvaluation(
    [property: JsonPropertyName("optimizee")] string Optimizee,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("horizon_multiple")] int HorizonMultiple,
    [property: JsonPropertyName("seen_by_search")] bool SeenBySearch,
    [property: JsonPropertyName("seeds")] IReadOnlyList<long> Seeds,
    [property: JsonPropertyName("results")] IReadOnlyList<ResultRow> Results,
    [property: JsonPropertyName("verdict")] ResultVerdict? Verdict);

/// <summary>One optimizer's runs: one value per seed, in seed order (null where the run diverged).</summary>
public sealed record ResultRow(
    [property: JsonPropertyName("optimizer")] string Optimizer,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("lr")] double? Lr,
    [property: JsonPropertyName("lr_at_grid_edge")] bool? LrAtGridEdge,
    [property: JsonPropertyName("final_train_loss")] IReadOnlyList<double?> FinalTrainLoss,
    [property: JsonPropertyName("eval_loss")] IReadOnlyList<double?> EvalLoss,
    [property: JsonPropertyName("eval_accuracy")] IReadOnlyList<double?> EvalAccuracy,
    [property: JsonPropertyName("state_floats_per_param")] double StateFloatsPerParam,
    [property: JsonPropertyName("optimizer_ms_per_step")] double OptimizerMsPerStep);

/// <summary>The recommended rule against lr-tuned Adam at one optimizee and horizon.</summary>
public sealed record ResultVerdict(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("gap_in_adam_std")] double? Gap,
    [property: JsonPropertyName("seeds_won")] int Wins,
    [property: JsonPropertyName("seeds")] int Seeds);
