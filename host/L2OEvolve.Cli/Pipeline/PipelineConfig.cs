using System.Text.Json;
using System.Text.Json.Serialization;
using L2OEvolve.Engine;

namespace L2OEvolve.Cli.Pipeline;

/// <summary>
/// The configuration of <c>l2oevolve run</c> (JSON; comments and trailing commas allowed; unknown keys are errors).
/// The embedded default (<c>Pipeline/default.pipeline.json</c>) is sized to about 15 minutes on 2 cores.
/// </summary>
/// <param name="Seed">Master seed: the teacher, the recording, the search and the tuning derive theirs from it.</param>
/// <param name="Threads">libtorch intra-op threads (1 keeps runs reproducible and polite on shared machines).</param>
/// <param name="DataDir">MNIST-format IDX folder for the *-fashion optimizees (null: Debian's dataset-fashion-mnist).</param>
/// <param name="Batch">Optimizee minibatch size everywhere.</param>
/// <param name="Teacher">Stage 1: meta-train the LSTM teacher.</param>
/// <param name="Record">Stage 2: roll the teacher out and record distillation rows.</param>
/// <param name="Evolve">Stage 3: evolve rules under the funnel fitness (imitation, then rollouts).</param>
/// <param name="Tune">Stage 4: meta-tune the constants of the kept rules.</param>
/// <param name="Evaluate">Stage 5: compare teacher, distilled and tuned rules and lr-tuned baselines on held-out seeds.</param>
public sealed record PipelineConfig(
    ulong Seed, int Threads, string? DataDir, int Batch,
    TeacherStageConfig Teacher, RecordStageConfig Record, EvolveStageConfig Evolve, TuneStageConfig Tune, EvaluateStageConfig Evaluate)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
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
        if (c.Evolve.Rollouts is null || c.Evolve.Rollouts.Length == 0) throw new InputException("evolve.rollouts needs at least one stage", source, "$.evolve.rollouts");
        if (c.Evaluate.Optimizees is null || c.Evaluate.Optimizees.Length == 0) throw new InputException("evaluate.optimizees needs at least one optimizee", source, "$.evaluate.optimizees");
        return c;
    }

    /// <summary>Loads a configuration file.</summary>
    public static PipelineConfig Load(string path) => Parse(L2OEvolve.Engine.InputFiles.ReadText(path, L2OEvolve.Engine.InputFiles.JsonBytes, "pipeline configuration"), path);

    /// <summary>This configuration as JSON (written beside every run).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);
}

/// <summary>Teacher training (see <c>teacher train</c>).</summary>
/// <param name="Model">dm, rnnprop, rp-s or rp-si.</param>
/// <param name="Optimizee">Optimizee family trained on.</param>
/// <param name="Epochs">Epochs, each a fresh optimizee.</param>
/// <param name="Steps">Optimizee steps per epoch.</param>
/// <param name="Unroll">Truncation length.</param>
/// <param name="Lr">Meta learning rate (Adam).</param>
/// <param name="Features">Input feature tokens joined by '+' (null: the model's default).</param>
/// <param name="Preprocess">Linear+ELU widths (null: the model's default).</param>
/// <param name="Hidden">LSTM widths (null: the model's default).</param>
public sealed record TeacherStageConfig(string Model, string Optimizee, int Epochs, int Steps, int Unroll, double Lr,
    string? Features = null, int[]? Preprocess = null, int[]? Hidden = null);

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
/// <param name="Keep">Rules carried on to tuning and evaluation (the lowest combined losses, distinct).</param>
/// <param name="Scale">Rollouts apply <c>Scale · rule</c>: the recorded target is the teacher's raw output.</param>
/// <param name="ImitationPass">Only candidates with imitation loss (1 − R²) at most this get rollouts.</param>
/// <param name="ImitationWeight">Weight of 1 − R² in the combined loss.</param>
/// <param name="RolloutWeight">Weight of the rollout score (final loss / do-nothing's) in the combined loss.</param>
/// <param name="Rollouts">The funnel's rollout stages, cheap first.</param>
public sealed record EvolveStageConfig(JsonElement Grammar, string Time, int? Generations, int Islands, int Population, int Keep,
    double Scale, double ImitationPass, double ImitationWeight, double RolloutWeight, RolloutStageConfig[] Rollouts);

/// <summary>One rollout stage of the funnel.</summary>
/// <param name="Optimizee">Optimizee family spec.</param>
/// <param name="Steps">Steps per seed.</param>
/// <param name="Seeds">Seeds (900000, 900001, ... for stage 1; 910000, ... for stage 2: never evaluation seeds).</param>
/// <param name="PassBelow">Normalised score needed to reach the next stage.</param>
public sealed record RolloutStageConfig(string Optimizee, int Steps, int Seeds, double PassBelow = 0.9);

/// <summary>Meta-tuning of the kept rules (see <c>tune</c>).</summary>
/// <param name="Optimizee">Optimizee tuned on.</param>
/// <param name="Epochs">Epochs.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Unroll">Truncation length.</param>
/// <param name="Lr">Meta learning rate (Adam, log objective).</param>
public sealed record TuneStageConfig(string Optimizee, int Epochs, int Steps, int Unroll, double Lr);

/// <summary>The final comparison (see <c>eval</c>).</summary>
/// <param name="Optimizees">The first is the one the search trained on (held-out seeds); the others were never seen (e.g. cnn-fashion).</param>
/// <param name="Steps">Steps per run.</param>
/// <param name="Seeds">Evaluation seeds (mean ± std over them).</param>
/// <param name="SeedBase">First evaluation seed.</param>
/// <param name="Baselines">Baseline optimizers (sgd, momentum, adam, ...).</param>
/// <param name="TuneLr">Tune each baseline's learning rate on separate seeds first.</param>
/// <param name="TuneSteps">Steps per lr-tuning run.</param>
/// <param name="LrPoints">Points of the log-spaced lr grid (1e-4 .. 1).</param>
public sealed record EvaluateStageConfig(string[] Optimizees, int Steps, int Seeds, long SeedBase, string[] Baselines, bool TuneLr, int TuneSteps, int LrPoints);
