using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The architecture of a coordinate-wise LSTM teacher (docs/symbolic-l2o.md, 'Teachers'): which per-coordinate features it reads,
/// the Linear+ELU preprocessing widths, the stacked LSTM widths, and how the raw output becomes an update.
/// </summary>
/// <param name="Model">Preset it came from: <c>dm</c>, <c>rnnprop</c>, <c>rp-s</c>, <c>rp-si</c> (or <c>custom</c>).</param>
/// <param name="Features">Feature tokens in canonical order (<see cref="FeatureTokens.Canonical"/>).</param>
/// <param name="LogAndSign">DM's LogAndSign preprocessing (k = 5) of the raw gradient instead of <see cref="Features"/>.</param>
/// <param name="Preprocess">Widths of the Linear+ELU layers before the LSTM (empty for DM).</param>
/// <param name="Hidden">Widths of the stacked LSTM cells.</param>
/// <param name="Tanh">Squash the linear output with tanh (RNNprop family) or not (DM).</param>
/// <param name="OutputScale">Update = OutputScale · raw output (0.01 in the paper).</param>
/// <param name="Beta1">EMA rate of m (0.95 for RNNprop).</param>
/// <param name="Beta2">EMA rate of v (0.95 for RNNprop).</param>
public sealed record TeacherConfig(
    string Model,
    ImmutableArray<string> Features,
    bool LogAndSign,
    ImmutableArray<int> Preprocess,
    ImmutableArray<int> Hidden,
    bool Tanh,
    double OutputScale = 0.01,
    double Beta1 = 0.95,
    double Beta2 = 0.95)
{
    /// <summary>Width of the network input per coordinate.</summary>
    public int InputWidth => LogAndSign ? 2 : Features.Length;

    /// <summary>Floats of state per optimizee coordinate: feature EMAs plus (h, c) of every LSTM layer.</summary>
    public int StateFloatsPerCoordinate => FeatureTokens.StateFloats(Features, Beta1, Beta2) + 2 * Hidden.Sum();

    /// <summary>Short display name, e.g. <c>rnnprop[mt+gt|20|20,20]</c>.</summary>
    public string DisplayName =>
        $"{Model}[{(LogAndSign ? "logsign" : string.Join('+', Features))}|{string.Join(',', Preprocess)}|{string.Join(',', Hidden)}]";

    /// <summary>
    /// The named presets. DM: raw g, LSTM 20,20, linear, no tanh (the torch DM; <c>--log-and-sign</c> gives TF's).
    /// RNNprop: m̃, g̃ → Linear(2,20)+ELU → LSTM 20,20 → linear → tanh. RP_s: Linear(2,6)+ELU → LSTM 7.
    /// RP_si: the active torch config mt+g+mom5+mom9+mom99 → Linear(5,9)+ELU → LSTM 12.
    /// </summary>
    public static TeacherConfig Preset(string model) => model.Trim().ToLowerInvariant() switch
    {
        "dm" => new("dm", ["g"], false, [], [20, 20], false),
        "rnnprop" or "rp" => new("rnnprop", ["mt", "gt"], false, [20], [20, 20], true),
        "rp-s" or "rp_s" => new("rp-s", ["mt", "gt"], false, [6], [7], true),
        "rp-si" or "rp_si" => new("rp-si", FeatureTokens.Canonicalize(["mt", "g", "mom5", "mom9", "mom99"]), false, [9], [12], true),
        _ => throw new ArgumentException($"unknown teacher model '{model}': expected dm, rnnprop, rp-s or rp-si"),
    };

    /// <summary>
    /// A preset with optional overrides: <paramref name="features"/> (tokens joined by '+', e.g. <c>mt+gt+mom5</c> or
    /// <c>magic0</c>), layer sizes and DM's LogAndSign.
    /// </summary>
    public static TeacherConfig Create(string model, string? features = null, IReadOnlyList<int>? preprocess = null,
        IReadOnlyList<int>? hidden = null, bool? logAndSign = null)
    {
        var c = Preset(model);
        if (features is not null)
            c = c with { Features = FeatureTokens.Canonicalize(FeatureTokens.Parse(features)) };
        if (preprocess is not null) c = c with { Preprocess = [.. preprocess] };
        if (hidden is not null) c = c with { Hidden = [.. hidden] };
        if (logAndSign is not null)
        {
            if (logAndSign.Value && c.Model != "dm") throw new ArgumentException($"LogAndSign preprocessing applies to dm only, not {c.Model}");
            c = c with { LogAndSign = logAndSign.Value };
        }
        c.Validate();
        return c;
    }

    /// <summary>Throws a clear error on an inconsistent configuration.</summary>
    public void Validate()
    {
        if (Features.IsDefaultOrEmpty) throw new ArgumentException($"teacher {Model}: no input features");
        foreach (var f in Features) FeatureTokens.Check(f);
        if (Hidden.IsDefaultOrEmpty) throw new ArgumentException($"teacher {Model}: at least one LSTM layer is needed");
        if (Hidden.Any(h => h <= 0) || (!Preprocess.IsDefault && Preprocess.Any(p => p <= 0)))
            throw new ArgumentException($"teacher {Model}: layer sizes must be positive");
        if (LogAndSign && (Features.Length != 1 || Features[0] != "g"))
            throw new ArgumentException($"teacher {Model}: LogAndSign reads the raw gradient only (features must be 'g')");
        if (Beta1 is <= 0 or >= 1 || Beta2 is <= 0 or >= 1) throw new ArgumentException($"teacher {Model}: betas must lie in (0, 1)");
    }

    /// <summary>JSON form stored as <c>config.json</c> in a teacher directory.</summary>
    public JsonObject ToJson() => new()
    {
        ["model"] = Model,
        ["features"] = new JsonArray([.. Features.Select(f => (JsonNode)f)]),
        ["logAndSign"] = LogAndSign,
        ["preprocess"] = new JsonArray([.. Preprocess.Select(p => (JsonNode)p)]),
        ["hidden"] = new JsonArray([.. Hidden.Select(h => (JsonNode)h)]),
        ["tanh"] = Tanh,
        ["outputScale"] = OutputScale,
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
    };

    /// <summary>Reads the JSON form; <paramref name="source"/> names the file in errors.</summary>
    public static TeacherConfig FromJson(JsonNode node, string source)
    {
        try
        {
            var o = node.AsObject();
            var c = new TeacherConfig(
                o["model"]!.GetValue<string>(),
                [.. o["features"]!.AsArray().Select(x => x!.GetValue<string>())],
                o["logAndSign"]!.GetValue<bool>(),
                [.. o["preprocess"]!.AsArray().Select(x => x!.GetValue<int>())],
                [.. o["hidden"]!.AsArray().Select(x => x!.GetValue<int>())],
                o["tanh"]!.GetValue<bool>(),
                o["outputScale"]!.GetValue<double>(),
                o["beta1"]!.GetValue<double>(),
                o["beta2"]!.GetValue<double>());
            c.Validate();
            return c;
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or JsonException)
        {
            throw new InvalidDataException($"{source}: not a teacher configuration ({e.Message})", e);
        }
    }

    public bool Equals(TeacherConfig? other) =>
        other is not null && Model == other.Model && Features.SequenceEqual(other.Features) && LogAndSign == other.LogAndSign
        && Preprocess.SequenceEqual(other.Preprocess) && Hidden.SequenceEqual(other.Hidden) && Tanh == other.Tanh
        && OutputScale == other.OutputScale && Beta1 == other.Beta1 && Beta2 == other.Beta2;

    public override int GetHashCode() => HashCode.Combine(Model, string.Join('+', Features), LogAndSign, string.Join(',', Hidden), Tanh);
}
