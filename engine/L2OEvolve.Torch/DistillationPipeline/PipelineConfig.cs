using System.Text.Json;
using System.Text.Json.Serialization;
using L2OEvolve.Engine;

namespace L2OEvolve.Torch.DistillationPipeline;

/// <summary>
/// The configuration of <c>l2oevolve run</c> (JSON; comments and trailing commas allowed; unknown keys are errors).
/// The embedded default (<c>DistillationPipeline/default.pipeline.json</c>) is sized for about 20 minutes on a quiet 2-core machine (30 CPU-minutes).
/// </summary>
/// <param name="Seed">Master seed: the teacher, the recording, the search and the tuning derive theirs from it.</param>
/// <param name="Threads">libtorch intra-op threads for meta-training, recording, the search and meta-tuning.</param>
/// <param name="DataDir">MNIST-format IDX folder for the *-fashion optimizees (null: Debian's dataset-fashion-mnist).</param>
/// <param name="Batch">Optimizee minibatch size everywhere.</param>
/// <param name="EvalExamples">Held-out examples an image optimizee is evaluated on (null: its whole held-out half).</param>
/// <param name="Teacher">Stage 1: a shipped (pretrained) teacher, or the recipe to meta-train one.</param>
/// <param name="Record">Stage 2: roll the teacher out and record distillation rows.</param>
/// <param name="Evolve">Stage 3: evolve rules under the funnel fitness (imitation, then rollouts).</param>
/// <param name="Tune">Stage 4: meta-tune the constants of the kept rules.</param>
/// <param name="Evaluate">Stage 5: compare teacher, rules and lr-tuned baselines on held-out seeds and unseen optimizees.</param>
public sealed record PipelineConfig(
    ulong Seed, int Threads, string? DataDir, int Batch,
    TeacherStageConfig Teacher, RecordStageConfig Record, EvolveStageConfig Evolve, TuneStageConfig Tune, EvaluateStageConfig Evaluate,
    int? EvalExamples = null)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The embedded default configuration's text.</summary>
    public static string DefaultText()
    {
        using var stream = typeof(PipelineConfig).Assembly.GetManifestResourceStream("default.pipeline.json")
            ?? throw new InvalidOperationException("the default pipeline configuration is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Parses a configuration; <paramref name="source"/> names it in errors.</summary>
    public static PipelineConfig Parse(string json, string source)
    {
        PipelineConfig? c;
        try { c = JsonSerializer.Deserialize<PipelineConfig>(json, Options); }
        catch (JsonException e) { throw new InputException(e.Message, source, e.Path, e); }
        if (c is null || c.Teacher is null || c.Record is null || c.Evolve is null || c.Tune is null || c.Evaluate is null)
            throw new InputException("a pipeline configuration needs teacher, record, evolve, tune and evaluate sections", source);
        c.Validate(source);
        return c;
    }

    /// <summary>Loads a configuration file.</summary>
    public static PipelineConfig Load(string path) => Parse(L2OEvolve.Engine.InputFiles.ReadText(path, L2OEvolve.Engine.InputFiles.JsonBytes, "pipeline configuration"), path);

    /// <summary>This configuration as JSON (written beside every run).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    private void Validate(string source)
    {
        void Need(bool ok, string path, string fault) { if (!ok) throw new InputException(fault, source, path); }
        var t = Teacher;
        if (t.Pretrained is not null)
            Need(t.Model is null && t.Optimizee is null && t.Epochs is null, "$.teacher", "give either \"pretrained\" (a shipped teacher or a teacher folder) or a training recipe (model, optimizee, epochs, ...), not both");
        else
            Need(t.Model is not null && t.Optimizee is not null && t.Epochs is > 0 && t.Steps is > 0 && t.Unroll is > 0 && t.Lr is > 0, "$.teacher",
                "a teacher recipe needs model, optimizee, epochs, steps, unroll and lr (or give \"pretrained\": NAME)");
        Need(Threads >= 1, "$.threads", $"must be at least 1, got {Threads}");
        Need(Batch >= 1, "$.batch", $"must be at least 1, got {Batch}");
        Need(EvalExamples is null or >= 1, "$.evalExamples", $"must be at least 1, got {EvalExamples}");
        Need(Evolve.ImitationGenerations >= 0, "$.evolve.imitationGenerations", $"must be 0 or more, got {Evolve.ImitationGenerations}");
        Need(Evolve.Rollouts is { Length: > 0 }, "$.evolve.rollouts", "needs at least one stage");
        Need(Evolve.Keep >= 1, "$.evolve.keep", $"must be at least 1, got {Evolve.Keep}");
        Need(Evolve.StepMultipliers is null || Evolve.StepMultipliers.All(m => m > 0 && double.IsFinite(m)), "$.evolve.stepMultipliers", "must be positive numbers");
        Need(Tune.Optimizees is { Length: > 0 }, "$.tune.optimizees", "needs at least one optimizee");
        Need(Tune.CheckSeeds >= 1, "$.tune.checkSeeds", $"must be at least 1, got {Tune.CheckSeeds}");
        var ev = Evaluate;
        Need(ev.Horizon >= 1, "$.evaluate.horizon", $"must be at least 1 step, got {ev.Horizon}");
        Need(ev.Optimizees is { Length: > 0 }, "$.evaluate.optimizees", "needs at least one optimizee");
        for (int i = 0; i < ev.Optimizees.Length; i++)
        {
            var o = ev.Optimizees[i];
            Need(o is not null && !string.IsNullOrWhiteSpace(o.Optimizee), $"$.evaluate.optimizees[{i}]", "needs \"optimizee\"");
            Need(o!.Horizons is { Length: > 0 } && o.Horizons.All(h => h > 0), $"$.evaluate.optimizees[{i}].horizons", "needs positive multiples of the horizon, e.g. [1, 2, 5]");
            Need(o.Seeds >= 1, $"$.evaluate.optimizees[{i}].seeds", $"must be at least 1, got {o.Seeds}");
        }
        Need(ev.Baselines.Contains("adam"), "$.evaluate.baselines", "must include adam: the verdict compares the recommended rule with lr-tuned Adam");
        Need(ev.TuneSeeds >= 1, "$.evaluate.tuneSeeds", $"must be at least 1, got {ev.TuneSeeds}");
        Need(ev.LrPoints >= 3, "$.evaluate.lrPoints", $"must be at least 3, got {ev.LrPoints}");
        Need(ev.LrDecades > 0, "$.evaluate.lrDecades", $"must be positive, got {ev.LrDecades}");
        Need(ev.Workers >= 1, "$.evaluate.workers", $"must be at least 1, got {ev.Workers}");
        Need(ev.TuneSeedBase >= ev.SeedBase + ev.Optimizees.Max(o => o.Seeds) || ev.TuneSeedBase + ev.TuneSeeds <= ev.SeedBase,
            "$.evaluate.tuneSeedBase", "lr-tuning seeds must not overlap the evaluation seeds");
    }
}

/// <summary>Where the teacher comes from: a shipped (pretrained) one, or a recipe that meta-trains one.</summary>
/// <param name="Pretrained">A shipped teacher's name (<c>grammars/teachers/NAME</c>) or a teacher folder; when set, the recipe fields stay unset.</param>
/// <param name="Model">dm, rnnprop, rp-s or rp-si.</param>
/// <param name="Optimizee">Optimizee family trained on.</param>
/// <param name="Epochs">Epochs, each a fresh optimizee.</param>
/// <param name="Steps">Optimizee steps per epoch.</param>
/// <param name="Unroll">Truncation length.</param>
/// <param name="Lr">Meta learning rate (Adam).</param>
/// <param name="Features">Input feature tokens joined by '+' (null: the model's default).</param>
/// <param name="Preprocess">Linear+ELU widths (null: the model's default).</param>
/// <param name="Hidden">LSTM widths (null: the model's default).</param>
public sealed record TeacherStageConfig(string? Pretrained = null, string? Model = null, string? Optimizee = null, int? Epochs = null,
    int? Steps = null, int? Unroll = null, double? Lr = null, string? Features = null, int[]? Preprocess = null, int[]? Hidden = null);

/// <summary>Distillation recording (see <c>teacher record</c>).</summary>
/// <param name="Samples">Lag rows recorded.</param>
/// <param name="Steps">Length of each teacher rollout.</param>
/// <param name="Memlen">Lags per feature (columns f0..f{memlen-1}).</param>
/// <param name="Features">Feature tokens recorded (mt, gt, g, mom5, ...).</param>
/// <param name="Coords">Coordinates sampled per parameter tensor and rollout.</param>
public sealed record RecordStageConfig(int Samples, int Steps, int Memlen, string[] Features, int Coords = 10);

/// <summary>Evolution under the funnel fitness.</summary>
/// <param name="Grammar">The search grammar, inline (the <c>grammars/*.json</c> format; "from-data" takes the recorded columns).</param>
/// <param name="Time">Time budget of the search (60s, 4m, ...).</param>
/// <param name="Generations">Optional generation limit (whichever comes first).</param>
/// <param name="Islands">Island populations.</param>
/// <param name="Population">Members per island.</param>
/// <param name="Keep">Rules carried on to tuning and evaluation (the lowest combined losses, distinct after simplification).</param>
/// <param name="Scale">The nominal step size: a candidate stands for the update <c>Scale · m · candidate</c>.</param>
/// <param name="ImitationPass">Only candidates with imitation loss (1 − R²) at most this get rollouts.</param>
/// <param name="ImitationWeight">Weight of 1 − R² in the combined loss.</param>
/// <param name="RolloutWeight">Weight of the rollout score (final loss / do-nothing's, mean over stages) in the combined loss.</param>
/// <param name="Rollouts">The funnel's rollout stages, cheap first.</param>
/// <param name="StepMultipliers">Step multipliers m tried on the first stage (the best is kept); null: [1].</param>
/// <param name="RestTolerance">Largest update at rest (zero gradient), relative to the imitation target's std, before a candidate counts as a drift.</param>
/// <param name="ImitationGenerations">Generations of a pure imitation search run first (cheap: no rollouts); its hall
/// of fame joins the warm start of the funnel search, which then spends its rollouts on good imitators.</param>
public sealed record EvolveStageConfig(JsonElement Grammar, string Time, int? Generations, int Islands, int Population, int Keep,
    double Scale, double ImitationPass, double ImitationWeight, double RolloutWeight, RolloutStageConfig[] Rollouts,
    double[]? StepMultipliers = null, double RestTolerance = 0.05, int ImitationGenerations = 0);

/// <summary>One rollout stage of the funnel.</summary>
/// <param name="Optimizee">Optimizee family spec (other widths, activations and batch sizes of the training family; never an evaluation's unseen one).</param>
/// <param name="Steps">Steps per seed.</param>
/// <param name="Seeds">Seeds (900000, 900001, ... for stage 1; 910000, ... for stage 2: never evaluation or tuning seeds).</param>
/// <param name="PassBelow">Normalised score needed to reach the next stage.</param>
public sealed record RolloutStageConfig(string Optimizee, int Steps, int Seeds, double PassBelow = 0.9);

/// <summary>Meta-tuning of the kept rules' constants (see <c>tune</c>).</summary>
/// <param name="Optimizees">Optimizees tuned on; each epoch draws an instance of one of them.</param>
/// <param name="Epochs">Epochs.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Unroll">Truncation length (long windows avoid the short-horizon bias towards tiny steps).</param>
/// <param name="Lr">Meta learning rate (Adam, log objective, relative steps).</param>
/// <param name="CheckSeeds">Check instances (seeds 3000000, ...; neither the search's nor the evaluation's): a tuned rule is kept only when its mean final training loss there is lower.</param>
public sealed record TuneStageConfig(string[] Optimizees, int Epochs, int Steps, int Unroll, double Lr, int CheckSeeds = 4);

/// <summary>One optimizee of the final comparison.</summary>
/// <param name="Optimizee">Optimizee family spec.</param>
/// <param name="Horizons">Training lengths as multiples of <see cref="EvaluateStageConfig.Horizon"/>.</param>
/// <param name="Seeds">Evaluation seeds (from <see cref="EvaluateStageConfig.SeedBase"/>).</param>
public sealed record EvaluationTarget(string Optimizee, int[] Horizons, int Seeds);

/// <summary>The final comparison.</summary>
/// <param name="Horizon">The search's horizon in steps (1× in the horizon lists).</param>
/// <param name="Optimizees">The search's own optimizee (held-out seeds) and optimizees it never saw.</param>
/// <param name="Baselines">Baseline optimizers (built-in or shipped names); must include adam.</param>
/// <param name="SeedBase">First evaluation seed.</param>
/// <param name="TuneSeeds">lr-tuning seeds per optimizer (from <paramref name="TuneSeedBase"/>).</param>
/// <param name="TuneSeedBase">First lr-tuning seed (disjoint from the evaluation seeds).</param>
/// <param name="LrPoints">Points of every lr grid (log-spaced, grown past an edge holding the best rate).</param>
/// <param name="LrDecades">Span of the initial lr grid, centred on each optimizer's default rate.</param>
/// <param name="Workers">Training runs at once (each on one libtorch thread).</param>
/// <param name="MaxStateFloats">The recommended rule keeps at most this many floats of state per parameter.</param>
public sealed record EvaluateStageConfig(int Horizon, EvaluationTarget[] Optimizees, string[] Baselines, long SeedBase = 0, int TuneSeeds = 2,
    long TuneSeedBase = 1_000_000, int LrPoints = 17, double LrDecades = 2.0, int Workers = 2, int MaxStateFloats = 4);
