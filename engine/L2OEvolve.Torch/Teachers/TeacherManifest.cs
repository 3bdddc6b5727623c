using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// A short, data-free evaluation recorded when a teacher is published: its mean final train loss on
/// <see cref="Optimizee"/> over <see cref="Seeds"/> at <see cref="Threads"/> libtorch threads. Loading the teacher and
/// rerunning it must give the same figure (within <see cref="RelativeTolerance"/>), which guards the format.
/// </summary>
public sealed record TeacherCheck(string Optimizee, int Steps, IReadOnlyList<long> Seeds, int Threads, double MeanFinalTrainLoss, double RelativeTolerance)
{
    /// <summary>
    /// The default check: logistic regression on seeded synthetic data (no data set needed), 50 steps, seeds 0–2,
    /// one thread, where the libtorch and fused LSTM kernels and runs on one machine agree to far better than the tolerance.
    /// </summary>
    public static TeacherCheck Default(double meanFinalTrainLoss) => new("logreg", 50, [0, 1, 2], 1, meanFinalTrainLoss, 1e-5);

    /// <summary>True when <paramref name="measured"/> matches the recorded figure.</summary>
    public bool Matches(double measured) =>
        double.IsFinite(measured) && Math.Abs(measured - MeanFinalTrainLoss) <= RelativeTolerance * Math.Abs(MeanFinalTrainLoss);

    public bool Equals(TeacherCheck? other) =>
        other is not null && Optimizee == other.Optimizee && Steps == other.Steps && Seeds.SequenceEqual(other.Seeds) && Threads == other.Threads
        && MeanFinalTrainLoss.Equals(other.MeanFinalTrainLoss) && RelativeTolerance == other.RelativeTolerance;

    public override int GetHashCode() => HashCode.Combine(Optimizee, Steps, Seeds.Count, Threads, MeanFinalTrainLoss);

    internal JsonObject ToJson() => new()
    {
        ["optimizee"] = Optimizee,
        ["steps"] = Steps,
        ["seeds"] = new JsonArray([.. Seeds.Select(s => (JsonNode)s)]),
        ["threads"] = Threads,
        ["meanFinalTrainLoss"] = MeanFinalTrainLoss,
        ["relativeTolerance"] = RelativeTolerance,
    };

    internal static TeacherCheck FromJson(JsonNode n) => new(
        n["optimizee"]!.GetValue<string>(), n["steps"]!.GetValue<int>(),
        [.. n["seeds"]!.AsArray().Select(s => s!.GetValue<long>())], n["threads"]!.GetValue<int>(),
        n["meanFinalTrainLoss"]!.GetValue<double>(), n["relativeTolerance"]!.GetValue<double>());
}

/// <summary>
/// Where a published teacher's weights came from: the training directory, the command that trains it (rebuilt from
/// its <c>config.json</c>), which weights were selected and at which epoch.
/// </summary>
/// <param name="Source">The training directory the weights were published from.</param>
/// <param name="Training">The <c>teacher train</c> command equivalent to the run's stored settings.</param>
/// <param name="Weights"><c>best</c> (the curriculum's validation-selected weights) or <c>last</c>.</param>
/// <param name="Epoch">The epoch whose weights were selected.</param>
/// <param name="EpochsTrained">Epochs the run had done when published.</param>
/// <param name="Selection">How the weights were chosen, in words (e.g. the validation cost that selected them).</param>
public sealed record TeacherProvenance(string Source, string Training, string Weights, int Epoch, int EpochsTrained, string Selection)
{
    internal JsonObject ToJson() => new()
    {
        ["source"] = Source, ["training"] = Training, ["weights"] = Weights,
        ["epoch"] = Epoch, ["epochsTrained"] = EpochsTrained, ["selection"] = Selection, ["recipe"] = TeacherManifest.RecipeFile,
    };

    internal static TeacherProvenance FromJson(JsonNode n) => new(
        n["source"]!.GetValue<string>(), n["training"]!.GetValue<string>(), n["weights"]!.GetValue<string>(),
        n["epoch"]!.GetValue<int>(), n["epochsTrained"]!.GetValue<int>(), n["selection"]!.GetValue<string>());
}

/// <summary>
/// <c>teacher.json</c>, the manifest of a published teacher folder (<c>config.json</c>, <c>weights.bin</c>,
/// <c>teacher.json</c>, <c>recipe.sh</c>, <c>evaluation.md</c>): name, version, a one-line description, provenance,
/// the SHA-256 of <c>weights.bin</c> and the short evaluation that guards the format.
/// </summary>
/// <param name="Origin">Where the weights came from, field by field (<see cref="Provenance"/> says it in one line).</param>
public sealed record TeacherManifest(string Name, int Version, string Description, TeacherProvenance Origin, string WeightsSha256, TeacherCheck Check)
{
    /// <summary>File names inside a published teacher folder.</summary>
    public const string ManifestFile = "teacher.json", WeightsFile = "weights.bin", RecipeFile = "recipe.sh", EvaluationFile = "evaluation.md";

    private const int FormatVersion = 1;

    /// <summary>The folder name a zoo ships it under: <c>NAME-vVERSION</c>.</summary>
    public string FolderName => $"{Name}-v{Version.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Provenance in one line, for reports: how the weights were selected, which epoch, and the training command.</summary>
    public string Provenance =>
        $"{Origin.Selection}: {Origin.Weights} weights of epoch {Origin.Epoch} (of {Origin.EpochsTrained}) from `{Origin.Training}`";

    /// <summary>The manifest of a published teacher folder; null for a folder without <c>teacher.json</c> (a training directory).</summary>
    public static TeacherManifest? TryRead(string dir)
    {
        var path = Path.Combine(dir, ManifestFile);
        if (!File.Exists(path)) return null;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            int format = o["format"]!.GetValue<int>();
            if (format != FormatVersion) throw new InvalidDataException($"{path}: teacher format {format} is not supported (expected {FormatVersion})");
            return new TeacherManifest(o["name"]!.GetValue<string>(), o["version"]!.GetValue<int>(), o["description"]!.GetValue<string>(),
                TeacherProvenance.FromJson(o["provenance"]!), o["weights"]!["sha256"]!.GetValue<string>(), TeacherCheck.FromJson(o["check"]!));
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a teacher manifest ({e.Message})", e);
        }
    }

    /// <summary>Writes <c>teacher.json</c> into <paramref name="dir"/>.</summary>
    public void Write(string dir)
    {
        var json = new JsonObject
        {
            ["format"] = FormatVersion,
            ["name"] = Name,
            ["version"] = Version,
            ["description"] = Description,
            ["provenance"] = Origin.ToJson(),
            ["weights"] = new JsonObject { ["file"] = WeightsFile, ["sha256"] = WeightsSha256 },
            ["check"] = Check.ToJson(),
        };
        File.WriteAllText(Path.Combine(dir, ManifestFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>Throws naming <c>weights.bin</c> when it is missing or its hash differs from the recorded one.</summary>
    public void VerifyWeights(string dir)
    {
        var path = Path.Combine(dir, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing (the published teacher {FolderName} ships its weights there)", path);
        var actual = Sha256(path);
        if (!string.Equals(actual, WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: SHA-256 {actual} does not match {WeightsSha256} recorded in {ManifestFile} (corrupt or replaced weights)");
    }
}
