using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.Tuning;

/// <summary>A tuning run as stored in its folder: the rule it started from, its settings and its progress.</summary>
public sealed record TuneCheckpoint(RuleDefinition Rule, TuneSettings Settings, TuneProgress Progress);

/// <summary>
/// The files of a tuning run folder: <c>checkpoint.json</c> (written atomically after every epoch; doubles
/// round-trip exactly, so a resumed run continues bit for bit), <c>constants.csv</c> (the constants after every
/// epoch, epoch 0 = the initial ones) and <c>tuned.rule.json</c> (the rule with the latest constants, a rule file
/// like any other).
/// </summary>
public static class TuneStore
{
    /// <summary>The checkpoint file name.</summary>
    public const string CheckpointFile = "checkpoint.json";

    /// <summary>The per-epoch constants table.</summary>
    public const string ConstantsFile = "constants.csv";

    /// <summary>The tuned rule.</summary>
    public const string TunedRuleFile = "tuned" + RuleFile.Extension;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Stored(int Version, string Rule, TuneSettings Settings, TuneProgress Progress);

    /// <summary>Writes all three files for <paramref name="checkpoint"/>; <paramref name="tuned"/> is the rule at the current constants.</summary>
    public static void Write(string directory, TuneCheckpoint checkpoint, RuleDefinition tuned)
    {
        Directory.CreateDirectory(directory);
        var stored = new Stored(1, RuleFile.Format(checkpoint.Rule), checkpoint.Settings, checkpoint.Progress);
        WriteAtomically(Path.Combine(directory, CheckpointFile), JsonSerializer.Serialize(stored, Json) + "\n");
        WriteAtomically(Path.Combine(directory, ConstantsFile), ConstantsCsv(checkpoint));
        WriteAtomically(Path.Combine(directory, TunedRuleFile), RuleFile.Format(tuned));
    }

    /// <summary>The checkpoint in <paramref name="directory"/>, or null when there is none; a damaged one fails naming the file.</summary>
    public static TuneCheckpoint? TryRead(string directory)
    {
        var path = Path.Combine(directory, CheckpointFile);
        if (!File.Exists(path)) return null;
        Stored? stored;
        try { stored = JsonSerializer.Deserialize<Stored>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InputException($"damaged tuning checkpoint: {e.Message}", path, inner: e); }
        if (stored is null || stored.Version != 1 || stored.Settings is null || stored.Progress is null)
            throw new InputException("not a tuning checkpoint of this version", path);
        var rule = RuleFile.Parse(stored.Rule, path + " ($.rule)");
        if (stored.Progress.Constants.Length != rule.Rule.Constants(stored.Settings.TuneBetas).Length)
            throw new InputException($"the checkpoint holds {stored.Progress.Constants.Length} constants but its rule has a different number", path);
        return new TuneCheckpoint(rule, stored.Settings, stored.Progress);
    }

    /// <summary>True when two definitions describe the same starting rule (same tree, same feature settings).</summary>
    public static bool SameRule(RuleDefinition a, RuleDefinition b) => a.Rule == b.Rule && a.Features == b.Features;

    private static string ConstantsCsv(TuneCheckpoint cp)
    {
        var inv = CultureInfo.InvariantCulture;
        int n = cp.Progress.Constants.Length;
        var sb = new StringBuilder("epoch,optimizee_seed,meta_loss,windows,skipped,seconds");
        for (int i = 0; i < n; i++) sb.Append(",c").Append(i);
        sb.Append('\n');
        var initial = cp.Rule.Rule.Constants(cp.Settings.TuneBetas);
        sb.Append("0,,,,,");
        foreach (var c in initial) sb.Append(',').Append(c.ToString("R", inv));
        sb.Append('\n');
        foreach (var e in cp.Progress.History)
        {
            sb.Append(e.Epoch).Append(',').Append(e.OptimizeeSeed).Append(',').Append(e.MetaLoss.ToString("R", inv)).Append(',')
              .Append(e.Windows).Append(',').Append(e.Skipped).Append(',').Append(e.Seconds.ToString("F3", inv));
            foreach (var c in e.Constants) sb.Append(',').Append(c.ToString("R", inv));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
