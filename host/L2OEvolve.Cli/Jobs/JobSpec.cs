using L2OEvolve.Engine;
using L2OEvolve.Engine.Regression;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace L2OEvolve.Cli.Jobs;

/// <summary>What to stop at; a job with no budget runs until it converges or is stopped.</summary>
/// <param name="Generations">Stop after this many generations.</param>
/// <param name="Seconds">Stop after this much running time, summed over daemon sessions.</param>
/// <param name="Evaluations">Stop after this many fitness evaluations.</param>
/// <param name="TargetLoss">Stop once the best loss is at or below this.</param>
/// <param name="TargetR2">Stop once the best R² is at or above this (the job kind knows the data's variance).</param>
public sealed record JobBudget(long? Generations, double? Seconds, long? Evaluations, double? TargetLoss = null, double? TargetR2 = null)
{
    /// <summary>True when any limit is set (so an ETA can be given).</summary>
    public bool Any => Generations is not null || Seconds is not null || Evaluations is not null;
}

/// <summary>
/// A submitted job, as stored in <c>HOME/jobs/NAME/job.json</c>: the same data, grammar, budget and seed options as
/// <c>sr</c>, plus kind-specific <see cref="Settings"/> passed through to the search.
/// </summary>
public sealed record JobSpec(
    string Name,
    string Kind,
    DateTimeOffset Submitted,
    string Data,
    string? Target,
    ImmutableArray<string> Features,
    string Grammar,
    JobBudget Budget,
    ulong Seed,
    int Threads,
    ImmutableSortedDictionary<string, string> Settings,
    ImmutableArray<string> WarmStart = default,
    bool DropNonFinite = false)
{
    /// <summary>Equations seeding the populations (infix or PySR notation), as <c>sr --warm-start</c>.</summary>
    public ImmutableArray<string> WarmStart { get; init; } = WarmStart.IsDefault ? [] : WarmStart;

    /// <summary>The version of the job-file layout this build writes.</summary>
    public const int FileSchema = 1;

    private static readonly Regex NamePattern = new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);

    /// <summary>Checks a job name: letters, digits, <c>_ . -</c>, at most 64 characters, so it is a safe directory name.</summary>
    public static string? NameFault(string name) =>
        NamePattern.IsMatch(name) ? null : $"'{name}' is not a valid job name (letters, digits, '_', '.', '-'; 1-64 characters)";

    /// <summary>Field-level checks that do not depend on the job kind; <paramref name="file"/> names the source in messages.</summary>
    public IReadOnlyList<JobFault> Validate(string file)
    {
        var faults = new List<JobFault>();
        if (NameFault(Name) is { } nf) faults.Add(new(file, "name", nf));
        if (!File.Exists(Data)) faults.Add(new(file, "data", $"file not found: {Data}"));
        if (!File.Exists(Grammar)) faults.Add(new(file, "grammar", $"file not found: {Grammar}"));
        if (Budget.Generations is <= 0) faults.Add(new(file, "generations", $"must be positive (got {Budget.Generations})"));
        if (Budget.Seconds is { } s && !(s > 0 && s <= SearchLimits.MaxSeconds))
            faults.Add(new(file, "timeSeconds", $"must be a positive number of seconds at most {SearchLimits.MaxSeconds:0e0} (got {s})"));
        if (Budget.Evaluations is <= 0) faults.Add(new(file, "evaluations", $"must be positive (got {Budget.Evaluations})"));
        if (Budget.TargetLoss is { } tl && double.IsNaN(tl)) faults.Add(new(file, "targetLoss", "must be a number"));
        if (Budget.TargetR2 is { } r2 && !(r2 <= 1)) faults.Add(new(file, "targetR2", $"must be a number at most 1 (got {r2})"));
        foreach (var e in WarmStart)
            if (string.IsNullOrWhiteSpace(e)) faults.Add(new(file, "warmStart", "contains an empty equation"));
        if (Threads is < 1 or > SearchLimits.MaxThreads) faults.Add(new(file, "threads", $"must be between 1 and {SearchLimits.MaxThreads} (got {Threads})"));
        foreach (var f in Features)
            if (string.IsNullOrWhiteSpace(f)) faults.Add(new(file, "features", "contains an empty name"));
        return faults;
    }

    /// <summary>Writes the spec as indented JSON.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", FileSchema);
            w.WriteString("name", Name);
            w.WriteString("kind", Kind);
            w.WriteString("submitted", Submitted);
            w.WriteString("data", Data);
            if (Target is null) w.WriteNull("target"); else w.WriteString("target", Target);
            w.WriteStartArray("features");
            foreach (var f in Features) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteString("grammar", Grammar);
            WriteOptional(w, "generations", Budget.Generations);
            if (Budget.Seconds is { } s) w.WriteNumber("timeSeconds", s); else w.WriteNull("timeSeconds");
            WriteOptional(w, "evaluations", Budget.Evaluations);
            if (Budget.TargetLoss is { } tl) w.WriteNumber("targetLoss", tl); else w.WriteNull("targetLoss");
            if (Budget.TargetR2 is { } r2) w.WriteNumber("targetR2", r2);
            w.WriteNumber("seed", Seed);
            w.WriteNumber("threads", Threads);
            w.WriteStartArray("warmStart");
            foreach (var e in WarmStart) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteBoolean("dropNonFinite", DropNonFinite);
            w.WriteStartObject("settings");
            foreach (var (k, v) in Settings) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    /// <summary>
    /// Parses a job file. On failure returns every fault found (file, field, fault) rather than the first, so one
    /// edit fixes them all.
    /// </summary>
    /// <param name="json">The file's text.</param>
    /// <param name="file">The file's path, for messages.</param>
    /// <param name="expectedName">The job's directory name, which the <c>name</c> field must equal.</param>
    public static (JobSpec? Spec, IReadOnlyList<JobFault> Faults) Parse(string json, string file, string? expectedName = null)
    {
        JsonDocument doc;
        try { doc = JsonInput.Parse(json, file); }
        catch (InputException e)
        {
            string where = e.Location is null ? "" : $" at {e.Location}";
            return (null, [new(file, "(document)", $"not valid JSON{where}: {e.Fault.Replace("malformed JSON: ", "", StringComparison.Ordinal)}")]);
        }
        using (doc)
        {
            var faults = new List<JobFault>();
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, [new(file, "(document)", $"expected a JSON object, found {root.ValueKind}")]);
            var known = new HashSet<string>(StringComparer.Ordinal)
                { "schema", "name", "kind", "submitted", "data", "target", "features", "grammar", "generations", "timeSeconds", "evaluations", "targetLoss", "targetR2", "seed", "threads", "settings", "warmStart", "dropNonFinite" };
            foreach (var p in root.EnumerateObject())
                if (!known.Contains(p.Name)) faults.Add(new(file, p.Name, "unknown field"));

            var r = new FieldReader(root, file, faults);
            long? schema = r.Long("schema", required: true);
            if (schema is { } sv && sv != FileSchema) faults.Add(new(file, "schema", $"version {sv} is not supported (this build reads {FileSchema})"));
            string? name = r.String("name", required: true);
            if (name is not null && expectedName is not null && name != expectedName)
                faults.Add(new(file, "name", $"'{name}' differs from the job's directory name '{expectedName}'"));
            string kind = r.String("kind", required: false) ?? "sr";
            var submitted = r.Time("submitted") ?? DateTimeOffset.UnixEpoch;
            string? data = r.String("data", required: true);
            string? target = r.String("target", required: false);
            var features = r.StringArray("features");
            string? grammar = r.String("grammar", required: true);
            long? generations = r.Long("generations", required: false);
            double? seconds = r.Double("timeSeconds");
            long? evaluations = r.Long("evaluations", required: false);
            double? targetLoss = r.Double("targetLoss");
            double? targetR2 = r.Double("targetR2");
            var warmStart = r.StringArray("warmStart");
            bool dropNonFinite = r.Bool("dropNonFinite") ?? false;
            ulong seed = r.ULong("seed") ?? 0;
            long threads = r.Long("threads", required: false) ?? 1;
            var settings = r.StringMap("settings");
            if (threads is > int.MaxValue or < int.MinValue) { faults.Add(new(file, "threads", "out of range")); threads = 1; }

            var spec = new JobSpec(name ?? "", kind, submitted, data ?? "", target, features, grammar ?? "",
                new JobBudget(generations, seconds, evaluations, targetLoss, targetR2), seed, (int)threads, settings, warmStart, dropNonFinite);
            // Value checks too, except on fields already reported, so one pass names every fault.
            var reported = faults.Select(f => f.Field).ToHashSet(StringComparer.Ordinal);
            faults.AddRange(spec.Validate(file).Where(f => !reported.Contains(f.Field)));
            return (faults.Count == 0 ? spec : null, faults);
        }
    }

    /// <summary>Reads typed fields from a JSON object, recording a fault for each missing or mistyped one.</summary>
    private sealed class FieldReader(JsonElement root, string file, List<JobFault> faults)
    {
        private JsonElement? Get(string name, bool required)
        {
            if (root.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null) return e;
            if (required) faults.Add(new(file, name, "missing (required)"));
            return null;
        }

        private void Wrong(string name, string expected, JsonElement e) =>
            faults.Add(new(file, name, $"expected {expected}, found {Describe(e)}"));

        private static string Describe(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{e.GetString()}\"",
            JsonValueKind.Number => $"the number {e.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => e.ValueKind.ToString(),
        };

        public string? String(string name, bool required)
        {
            if (Get(name, required) is not { } e) return null;
            if (e.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(e.GetString())) return e.GetString();
            Wrong(name, "a non-empty string", e);
            return null;
        }

        public long? Long(string name, bool required)
        {
            if (Get(name, required) is not { } e) return null;
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v)) return v;
            Wrong(name, "an integer", e);
            return null;
        }

        public ulong? ULong(string name)
        {
            if (Get(name, false) is not { } e) return null;
            if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var v)) return v;
            Wrong(name, "a non-negative integer", e);
            return null;
        }

        public double? Double(string name)
        {
            if (Get(name, false) is not { } e) return null;
            if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var v)) return v;
            Wrong(name, "a number", e);
            return null;
        }

        public bool? Bool(string name)
        {
            if (Get(name, false) is not { } e) return null;
            if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) return e.GetBoolean();
            Wrong(name, "true or false", e);
            return null;
        }

        public DateTimeOffset? Time(string name)
        {
            if (Get(name, false) is not { } e) return null;
            if (e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)) return t;
            Wrong(name, "an ISO-8601 time", e);
            return null;
        }

        public ImmutableArray<string> StringArray(string name)
        {
            if (Get(name, false) is not { } e) return [];
            if (e.ValueKind != JsonValueKind.Array) { Wrong(name, "an array of strings", e); return []; }
            var list = ImmutableArray.CreateBuilder<string>();
            foreach (var item in e.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String) list.Add(item.GetString()!);
                else { Wrong(name, "an array of strings", item); return []; }
            }
            return list.ToImmutable();
        }

        public ImmutableSortedDictionary<string, string> StringMap(string name)
        {
            var map = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            if (Get(name, false) is not { } e) return map.ToImmutable();
            if (e.ValueKind != JsonValueKind.Object) { Wrong(name, "an object of setting names to values", e); return map.ToImmutable(); }
            foreach (var p in e.EnumerateObject())
            {
                string? value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                    _ => null,
                };
                if (value is null) faults.Add(new(file, $"{name}.{p.Name}", $"expected a string, number or boolean, found {Describe(p.Value)}"));
                else map[p.Name] = value;
            }
            return map.ToImmutable();
        }
    }
}
