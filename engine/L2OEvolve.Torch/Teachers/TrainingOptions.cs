using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// How a teacher is meta-trained (docs/symbolic-l2o.md, 'Meta-training'). Stored in the teacher directory so a resumed run continues
/// with the settings it started with.
/// </summary>
/// <param name="Optimizee">Optimizee family name (a fresh instance, new seed, every epoch).</param>
/// <param name="Epochs">Number of epochs.</param>
/// <param name="Steps">Optimizee steps per epoch (the first curriculum stage overrides it when curriculum is on).</param>
/// <param name="Unroll">Truncation length U: steps per meta-update.</param>
/// <param name="MetaLr">Adam learning rate of the meta-optimizer (paper: 0.001).</param>
/// <param name="Seed">Master seed: weights, epoch optimizee seeds, imitation draws and scalings derive from it.</param>
/// <param name="Imitation">Probability that an epoch imitates Adam instead of minimising the optimizee loss.</param>
/// <param name="ImitationTeacherLr">Learning rate of the Adam being imitated (paper: 0.01).</param>
/// <param name="RandomScale">Random scaling bound b (parameters scaled by exp(U(−b, b)) per coordinate); 0 = off.</param>
/// <param name="Curriculum">Curriculum stages (steps per epoch); empty = no curriculum.</param>
/// <param name="CurriculumEvalEvery">Epochs between curriculum evaluations.</param>
/// <param name="CurriculumEvalRuns">Optimizee runs per curriculum evaluation (fixed seeds, disjoint from training).</param>
/// <param name="CurriculumPatience">Evaluations without improvement before advancing (or stopping).</param>
/// <param name="ImitationWarmup">The first this many epochs always imitate Adam (a sane starting point), whatever the draw.</param>
public sealed record TrainingOptions(
    string Optimizee,
    int Epochs = 20,
    int Steps = 100,
    int Unroll = 20,
    double MetaLr = 0.001,
    ulong Seed = 1,
    double Imitation = 0.0,
    double ImitationTeacherLr = 0.01,
    double RandomScale = 0.0,
    ImmutableArray<int> Curriculum = default,
    int CurriculumEvalEvery = 1,
    int CurriculumEvalRuns = 2,
    int CurriculumPatience = 3,
    int ImitationWarmup = 0)
{
    /// <summary>The paper's curriculum (docs/symbolic-l2o.md, 'Meta-training'): 100, 200, 500, 1000, 1500, 2000, 2500, 3000 steps.</summary>
    public static ImmutableArray<int> PaperCurriculum { get; } = [100, 200, 500, 1000, 1500, 2000, 2500, 3000];

    /// <summary>True when curriculum learning is on.</summary>
    public bool UsesCurriculum => !Curriculum.IsDefaultOrEmpty;

    /// <summary>Throws a clear error on inconsistent settings.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentException($"epochs must be positive, got {Epochs}");
        if (Unroll <= 0) throw new ArgumentException($"unroll must be positive, got {Unroll}");
        if (Steps < Unroll) throw new ArgumentException($"steps per epoch ({Steps}) must be at least the unroll ({Unroll})");
        if (Imitation is < 0 or > 1) throw new ArgumentException($"imitation probability must lie in [0, 1], got {Imitation}");
        if (ImitationWarmup < 0) throw new ArgumentException($"imitation warm-up must be non-negative, got {ImitationWarmup}");
        if (RandomScale < 0) throw new ArgumentException($"random scale bound must be non-negative, got {RandomScale}");
        if (MetaLr <= 0) throw new ArgumentException($"meta learning rate must be positive, got {MetaLr}");
        if (UsesCurriculum && Curriculum.Any(s => s < Unroll))
            throw new ArgumentException($"every curriculum stage must be at least the unroll ({Unroll}): {string.Join(',', Curriculum)}");
        if (CurriculumEvalEvery <= 0 || CurriculumEvalRuns <= 0 || CurriculumPatience <= 0)
            throw new ArgumentException("curriculum evaluation period, runs and patience must be positive");
    }

    /// <summary>JSON form (<c>training.json</c>).</summary>
    public JsonObject ToJson() => new()
    {
        ["optimizee"] = Optimizee,
        ["epochs"] = Epochs,
        ["steps"] = Steps,
        ["unroll"] = Unroll,
        ["metaLr"] = MetaLr,
        ["seed"] = Seed,
        ["imitation"] = Imitation,
        ["imitationTeacherLr"] = ImitationTeacherLr,
        ["randomScale"] = RandomScale,
        ["curriculum"] = new JsonArray([.. (Curriculum.IsDefault ? [] : Curriculum).Select(s => (JsonNode)s)]),
        ["curriculumEvalEvery"] = CurriculumEvalEvery,
        ["curriculumEvalRuns"] = CurriculumEvalRuns,
        ["curriculumPatience"] = CurriculumPatience,
        ["imitationWarmup"] = ImitationWarmup,
    };

    /// <summary>Reads the JSON form; <paramref name="source"/> names the file in errors.</summary>
    public static TrainingOptions FromJson(JsonNode node, string source)
    {
        try
        {
            var o = node.AsObject();
            var t = new TrainingOptions(
                o["optimizee"]!.GetValue<string>(), o["epochs"]!.GetValue<int>(), o["steps"]!.GetValue<int>(),
                o["unroll"]!.GetValue<int>(), o["metaLr"]!.GetValue<double>(), o["seed"]!.GetValue<ulong>(),
                o["imitation"]!.GetValue<double>(), o["imitationTeacherLr"]!.GetValue<double>(),
                o["randomScale"]!.GetValue<double>(), [.. o["curriculum"]!.AsArray().Select(x => x!.GetValue<int>())],
                o["curriculumEvalEvery"]!.GetValue<int>(), o["curriculumEvalRuns"]!.GetValue<int>(),
                o["curriculumPatience"]!.GetValue<int>(),
                // Absent in runs written before the option existed: no warm-up.
                o["imitationWarmup"]?.GetValue<int>() ?? 0);
            t.Validate();
            return t;
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{source}: not a teacher training configuration ({e.Message})", e);
        }
    }

    public bool Equals(TrainingOptions? other) => other is not null && ToJson().ToJsonString() == other.ToJson().ToJsonString();

    public override int GetHashCode() => ToJson().ToJsonString().GetHashCode(StringComparison.Ordinal);
}

/// <summary>
/// Curriculum bookkeeping (docs/symbolic-l2o.md, 'Meta-training'): the current stage, the best evaluation cost reached in it, evaluations
/// since the last improvement, whether this stage improved at all, and whether training stopped.
/// </summary>
public sealed record CurriculumState(int Stage, double Best, int EvalsSinceBest, bool Improved, bool Stopped)
{
    /// <summary>Start of the first stage, before its baseline evaluation.</summary>
    public static CurriculumState Start { get; } = new(0, double.PositiveInfinity, 0, false, false);

    /// <summary>What to do after an evaluation.</summary>
    public enum Decision { Continue, SavedBest, Advance, Stop }

    /// <summary>
    /// The curriculum rule: a stage's first cost is its baseline; a better cost is kept as the stage's best; after <paramref name="patience"/> evaluations
    /// without improvement, advance to the next stage if this one improved at all (and one exists), else stop.
    /// Pure: returns the next state and the decision.
    /// </summary>
    public (CurriculumState Next, Decision Decision) After(double cost, int patience, int stages)
    {
        if (Stopped) return (this, Decision.Stop);
        // The first evaluation of a stage is its baseline: kept as the best, but not an improvement.
        if (double.IsPositiveInfinity(Best) && double.IsFinite(cost)) return (this with { Best = cost, EvalsSinceBest = 0 }, Decision.SavedBest);
        if (double.IsFinite(cost) && cost < Best) return (this with { Best = cost, EvalsSinceBest = 0, Improved = true }, Decision.SavedBest);
        int since = EvalsSinceBest + 1;
        if (since < patience) return (this with { EvalsSinceBest = since }, Decision.Continue);
        if (Improved && Stage + 1 < stages) return (new CurriculumState(Stage + 1, double.PositiveInfinity, 0, false, false), Decision.Advance);
        return (this with { EvalsSinceBest = since, Stopped = true }, Decision.Stop);
    }

    /// <summary>JSON form.</summary>
    public JsonObject ToJson() => new()
    {
        ["stage"] = Stage, ["best"] = double.IsFinite(Best) ? Best : null, ["evalsSinceBest"] = EvalsSinceBest,
        ["improved"] = Improved, ["stopped"] = Stopped,
    };

    /// <summary>Reads the JSON form.</summary>
    public static CurriculumState FromJson(JsonNode node) => new(
        node["stage"]!.GetValue<int>(), node["best"]?.GetValue<double>() ?? double.PositiveInfinity,
        node["evalsSinceBest"]!.GetValue<int>(), node["improved"]!.GetValue<bool>(), node["stopped"]!.GetValue<bool>());
}
