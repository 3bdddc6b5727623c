using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Grammars;

/// <summary>
/// Reads grammar files (<c>grammars/*.json</c>, format in <c>grammars/README.md</c>) into <see cref="Grammar"/>
/// values, and computes their <see cref="Grammar.ContentHash"/>.
/// </summary>
/// <remarks>
/// Syntax errors carry the line and column System.Text.Json reports; semantic errors carry the JSON path of the
/// offending value (<c>$.operators.expp</c>). Unknown keys are errors, so a misspelt setting never passes silently.
/// Comments and trailing commas are allowed.
/// </remarks>
public static partial class GrammarJson
{
    /// <summary>
    /// Largest size, depth, complexity or lag a grammar may ask for: rules that large are not interpretable, and the
    /// search's per-candidate state (and the depth every printer and compiler walks) grows with them.
    /// </summary>
    public const int MaxLimit = 1000;

    /// <summary>Most features a grammar may list (after expanding ranges).</summary>
    public const int MaxFeatures = 100_000;

    /// <summary>The <c>features</c> value that binds a grammar's features to the dataset's columns at run time.</summary>
    public const string FromData = "from-data";

    /// <summary>Loads and validates a grammar file; throws <see cref="InputException"/> naming the file, place and fault.</summary>
    public static Grammar Load(string path)
    {
        return Parse(InputFiles.ReadText(path, InputFiles.JsonBytes, "grammar file"), path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses grammar JSON text; <paramref name="file"/> names it in errors, <paramref name="defaultName"/>
    /// is used when the JSON has no <c>name</c>.</summary>
    public static Grammar Parse(string json, string? file = null, string defaultName = "grammar")
    {
        using var doc = JsonInput.Parse(json, file);
        try
        {
            return Read(doc.RootElement, defaultName);
        }
        catch (GrammarFault f)
        {
            throw new InputException(f.Message, file, f.Path);
        }
    }

    /// <summary>SHA-256 (lowercase hex) of the grammar's canonical JSON form, which omits the name: two grammars with
    /// the same hash admit the same rules at the same costs and sampling weights.</summary>
    public static string ComputeHash(Grammar g)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteBoolean("featuresFromData", g.FeaturesFromData);
            w.WriteStartArray("features");
            foreach (var f in g.Features) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteStartArray("operators");
            foreach (var o in g.Ops)
            {
                w.WriteStartArray();
                // A defined operator hashes with its definition: the same name over another body is another grammar.
                w.WriteStringValue(o.Op is CompositeOp composite ? $"{composite.Signature} = {composite.Body}" : o.Op.Symbol);
                w.WriteNumberValue(o.Complexity);
                w.WriteStringValue(R(o.Weight));
                w.WriteEndArray();
            }
            w.WriteEndArray();
            var c = g.Constants;
            w.WriteString("constants", $"{R(c.Min)} {R(c.Max)} {c.Complexity} {R(c.Probability)}");
            var s = g.Stateful;
            w.WriteString("stateful", $"{s.Ema} {R(s.EmaBetaMin)} {R(s.EmaBetaMax)} {s.EmaBiasCorrection} {s.Lag} {s.MaxLag} {s.Complexity}");
            w.WriteNumber("maxsize", g.MaxSize);
            w.WriteNumber("maxdepth", g.MaxDepth);
            w.WriteStartArray("nesting");
            foreach (var n in g.Nesting) w.WriteStringValue($"{n.Outer} {n.Inner} {n.MaxCount}");
            w.WriteEndArray();
            w.WriteString("parsimony", R(g.Parsimony));
            w.WriteEndObject();
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    private static string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private static Grammar Read(JsonElement root, string defaultName)
    {
        Expect(root, JsonValueKind.Object, "$", "a JSON object");
        CheckKeys(root, "$", "name", "description", "define", "features", "operators", "constants", "stateful", "maxsize", "maxdepth", "nesting", "parsimony");

        string name = root.TryGetProperty("name", out var n) ? String(n, "$.name") : defaultName;
        if (root.TryGetProperty("description", out var d)) String(d, "$.description");

        if (!root.TryGetProperty("features", out var featuresJson)) throw new GrammarFault("$", "missing 'features' (a list of names, or \"from-data\")");
        var (features, fromData) = ReadFeatures(featuresJson);

        if (root.TryGetProperty("define", out var defineJson)) ReadDefines(defineJson, "$.define");
        if (!root.TryGetProperty("operators", out var opsJson)) throw new GrammarFault("$", "missing 'operators'");
        var ops = ReadOperators(opsJson);

        var constants = root.TryGetProperty("constants", out var cj) ? ReadConstants(cj) : new ConstantSpec();
        var stateful = root.TryGetProperty("stateful", out var sj) ? ReadStateful(sj) : StatefulSpec.None;

        int maxSize = root.TryGetProperty("maxsize", out var ms) ? Int(ms, "$.maxsize", 1, MaxLimit) : 20;
        int maxDepth = root.TryGetProperty("maxdepth", out var md) ? Int(md, "$.maxdepth", 1, MaxLimit) : maxSize; // PySR's default
        var nesting = root.TryGetProperty("nesting", out var nj) ? ReadNesting(nj, ops, stateful) : ImmutableArray<NestingRule>.Empty;
        double parsimony = root.TryGetProperty("parsimony", out var pj) ? Number(pj, "$.parsimony", 0, double.MaxValue) : 0.0;

        var grammar = new Grammar(name, features, ops, constants, stateful, maxSize, maxDepth, nesting, parsimony, "")
        {
            FeaturesFromData = fromData,
        };
        return grammar with { ContentHash = ComputeHash(grammar) };
    }

    private static (ImmutableArray<string>, bool) ReadFeatures(JsonElement json)
    {
        if (json.ValueKind == JsonValueKind.String)
        {
            if (json.GetString() == FromData) return (ImmutableArray<string>.Empty, true);
            throw new GrammarFault("$.features", $"expected a list of feature names or \"{FromData}\", got \"{json.GetString()}\"");
        }
        Expect(json, JsonValueKind.Array, "$.features", $"a list of feature names or \"{FromData}\"");
        var names = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (var item in json.EnumerateArray())
        {
            string path = $"$.features[{i++}]";
            string text = String(item, path);
            foreach (string f in ExpandFeature(text, path))
            {
                if (!seen.Add(f)) throw new GrammarFault(path, $"duplicate feature '{f}'");
                if (seen.Count > MaxFeatures) throw new GrammarFault(path, $"more than {MaxFeatures} features");
                names.Add(f);
            }
        }
        if (names.Count == 0) throw new GrammarFault("$.features", "no features: a grammar needs at least one input");
        return (names.ToImmutable(), false);
    }

    /// <summary>Expands feature specs as a grammar's <c>features</c> list does (for <c>--features g[0..19],t</c>);
    /// throws <see cref="InputException"/> naming a malformed spec.</summary>
    public static ImmutableArray<string> ExpandFeatures(IEnumerable<string> specs)
    {
        try
        {
            return specs.SelectMany(s => ExpandFeature(s.Trim(), s)).ToImmutableArray();
        }
        catch (GrammarFault f)
        {
            throw new InputException(f.Message, location: $"feature '{f.Path}'");
        }
    }

    /// <summary><c>g[0..19]</c> → g0 … g19; <c>g_[0..2]</c> → g_0, g_1, g_2; a plain name stands for itself.</summary>
    internal static IEnumerable<string> ExpandFeature(string text, string path)
    {
        var m = FeatureRange().Match(text);
        if (m.Success)
        {
            if (!int.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out int lo)
                || !int.TryParse(m.Groups[3].Value, CultureInfo.InvariantCulture, out int hi))
                throw new GrammarFault(path, $"range in '{text}' is too long");
            if (lo > hi) throw new GrammarFault(path, $"bad range in '{text}': {lo} > {hi}");
            if (hi - lo >= 10_000) throw new GrammarFault(path, $"range in '{text}' is too long");
            return Enumerable.Range(lo, hi - lo + 1).Select(k => m.Groups[1].Value + k.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        if (!Identifier().IsMatch(text))
            throw new GrammarFault(path, $"bad feature '{text}': expected a name (letters, digits, _) or a lag range like \"g[0..19]\"");
        if (Infix.NameFault(text) is { } fault) throw new GrammarFault(path, $"bad feature: {fault}");
        return [text];
    }

    /// <summary>
    /// Reads a <c>"define"</c> object (<c>{"softsign2(x)": "x / (1 + abs(x))"}</c>) and registers its composite
    /// operators; throws <see cref="InputException"/> naming <paramref name="file"/>, the operator and the fault.
    /// Rule files and grammar files share this reader.
    /// </summary>
    public static IReadOnlyList<Op> ReadDefines(JsonElement json, string? file, string path)
    {
        try
        {
            return ReadDefines(json, path);
        }
        catch (GrammarFault f)
        {
            throw new InputException(f.Message, file, f.Path);
        }
    }

    private static IReadOnlyList<Op> ReadDefines(JsonElement json, string path)
    {
        Expect(json, JsonValueKind.Object, path, "an object mapping \"name(x)\" or \"name(x, y)\" to an infix body");
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var p in json.EnumerateObject()) pairs.Add(new(p.Name, String(p.Value, $"{path}.{p.Name}")));
        try
        {
            return CompositeOp.DefineAll(pairs);
        }
        catch (FormatException e)
        {
            throw new GrammarFault(path, e.Message);
        }
    }

    private static ImmutableArray<OpSpec> ReadOperators(JsonElement json)
    {
        var specs = ImmutableArray.CreateBuilder<OpSpec>();
        var seen = new HashSet<Op>();
        void Add(string opName, JsonElement? detail, string path)
        {
            if (!Ops.TryParse(opName, out var op))
                throw new GrammarFault(path, $"unknown operator '{opName}'; known: {string.Join(", ", Ops.All.Select(o => o.Symbol))} (an operator from a plug-in needs --plugin FILE.dll; a composite one, a \"define\")");
            if (!seen.Add(op)) throw new GrammarFault(path, $"operator '{opName}' is listed twice");
            int complexity = op.DefaultComplexity;
            double weight = 1.0;
            if (detail is { } dj)
            {
                if (dj.ValueKind == JsonValueKind.Number) complexity = Int(dj, path, 1);
                else
                {
                    Expect(dj, JsonValueKind.Object, path, "a complexity number or {\"complexity\": n, \"weight\": w}");
                    CheckKeys(dj, path, "op", "complexity", "weight");
                    if (dj.TryGetProperty("complexity", out var c)) complexity = Int(c, path + ".complexity", 1);
                    if (dj.TryGetProperty("weight", out var w)) weight = Number(w, path + ".weight", double.Epsilon, double.MaxValue);
                }
            }
            specs.Add(new OpSpec(op, complexity, weight));
        }

        if (json.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in json.EnumerateObject()) Add(p.Name, p.Value, $"$.operators.{p.Name}");
        }
        else if (json.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in json.EnumerateArray())
            {
                string path = $"$.operators[{i++}]";
                if (item.ValueKind == JsonValueKind.String) Add(item.GetString()!, null, path);
                else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("op", out var opName))
                    Add(String(opName, path + ".op"), item, path);
                else throw new GrammarFault(path, "expected an operator name or {\"op\": name, \"complexity\": n, \"weight\": w}");
            }
        }
        else throw new GrammarFault("$.operators", "expected an object {\"name\": complexity, ...} or a list of names");
        if (specs.Count == 0) throw new GrammarFault("$.operators", "no operators");
        return specs.ToImmutable();
    }

    private static ConstantSpec ReadConstants(JsonElement json)
    {
        Expect(json, JsonValueKind.Object, "$.constants", "an object");
        CheckKeys(json, "$.constants", "range", "complexity", "probability");
        var spec = new ConstantSpec();
        if (json.TryGetProperty("range", out var r))
        {
            var (lo, hi) = Range(r, "$.constants.range", double.MinValue, double.MaxValue);
            spec = spec with { Min = lo, Max = hi };
        }
        if (json.TryGetProperty("complexity", out var c)) spec = spec with { Complexity = Int(c, "$.constants.complexity", 1) };
        if (json.TryGetProperty("probability", out var p)) spec = spec with { Probability = Number(p, "$.constants.probability", 0, 1) };
        return spec;
    }

    private static StatefulSpec ReadStateful(JsonElement json)
    {
        Expect(json, JsonValueKind.Object, "$.stateful", "an object");
        CheckKeys(json, "$.stateful", "ema", "lag", "complexity");
        var spec = StatefulSpec.None;
        if (json.TryGetProperty("ema", out var ema))
        {
            Expect(ema, JsonValueKind.Object, "$.stateful.ema", "an object {\"beta\": [lo, hi], \"biasCorrection\": bool}");
            CheckKeys(ema, "$.stateful.ema", "beta", "biasCorrection");
            spec = spec with { Ema = true };
            if (ema.TryGetProperty("beta", out var b))
            {
                var (lo, hi) = Range(b, "$.stateful.ema.beta", 0, 1);
                if (lo <= 0 || hi >= 1) throw new GrammarFault("$.stateful.ema.beta", $"bad range [{R(lo)}, {R(hi)}]: beta must lie strictly between 0 and 1");
                spec = spec with { EmaBetaMin = lo, EmaBetaMax = hi };
            }
            if (ema.TryGetProperty("biasCorrection", out var bc)) spec = spec with { EmaBiasCorrection = Bool(bc, "$.stateful.ema.biasCorrection") };
        }
        if (json.TryGetProperty("lag", out var lag))
        {
            Expect(lag, JsonValueKind.Object, "$.stateful.lag", "an object {\"max\": k}");
            CheckKeys(lag, "$.stateful.lag", "max");
            if (!lag.TryGetProperty("max", out var max)) throw new GrammarFault("$.stateful.lag", "missing 'max' (largest lag k)");
            spec = spec with { Lag = true, MaxLag = Int(max, "$.stateful.lag.max", 1) };
        }
        if (json.TryGetProperty("complexity", out var c)) spec = spec with { Complexity = Int(c, "$.stateful.complexity", 1) };
        return spec;
    }

    private static ImmutableArray<NestingRule> ReadNesting(JsonElement json, ImmutableArray<OpSpec> ops, StatefulSpec stateful)
    {
        Expect(json, JsonValueKind.Object, "$.nesting", "an object {\"outer\": {\"inner\": maxCount}}");
        var rules = ImmutableArray.CreateBuilder<NestingRule>();
        foreach (var outer in json.EnumerateObject())
        {
            string path = $"$.nesting.{outer.Name}";
            string outerName = NestingName(outer.Name, path, ops, stateful);
            Expect(outer.Value, JsonValueKind.Object, path, "an object {\"inner\": maxCount}");
            foreach (var inner in outer.Value.EnumerateObject())
            {
                string innerPath = $"{path}.{inner.Name}";
                rules.Add(new NestingRule(outerName, NestingName(inner.Name, innerPath, ops, stateful), Int(inner.Value, innerPath, 0)));
            }
        }
        return rules.ToImmutable();
    }

    /// <summary>The canonical name for a nesting rule side: the operator's symbol, or <c>ema</c>/<c>lag</c>.</summary>
    private static string NestingName(string name, string path, ImmutableArray<OpSpec> ops, StatefulSpec stateful)
    {
        if (name is "ema" or "lag")
        {
            if (name == "ema" ? !stateful.Ema : !stateful.Lag)
                throw new GrammarFault(path, $"'{name}' is not enabled in 'stateful'");
            return name;
        }
        if (!Ops.TryParse(name, out var op)) throw new GrammarFault(path, $"unknown operator '{name}'");
        if (!ops.Any(o => o.Op == op)) throw new GrammarFault(path, $"operator '{name}' is not in 'operators'");
        return op.Symbol;
    }

    private static void CheckKeys(JsonElement obj, string path, params string[] allowed)
    {
        foreach (var p in obj.EnumerateObject())
            if (Array.IndexOf(allowed, p.Name) < 0)
                throw new GrammarFault($"{path}.{p.Name}", $"unknown key '{p.Name}'; expected one of {string.Join(", ", allowed)}");
    }

    private static void Expect(JsonElement e, JsonValueKind kind, string path, string what)
    {
        if (e.ValueKind != kind) throw new GrammarFault(path, $"expected {what}, got {Describe(e)}");
    }

    private static string String(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.String, path, "a string");
        return e.GetString()!;
    }

    private static bool Bool(JsonElement e, string path) =>
        e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new GrammarFault(path, $"expected true or false, got {Describe(e)}"),
        };

    private static double Number(JsonElement e, string path, double min, double max)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || !double.IsFinite(v))
            throw new GrammarFault(path, $"expected a number, got {Describe(e)}");
        if (v < min || v > max) throw new GrammarFault(path, $"{R(v)} is out of range [{R(min)}, {R(max)}]");
        return v;
    }

    private static int Int(JsonElement e, string path, int min, int max = MaxLimit)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v))
            throw new GrammarFault(path, $"expected an integer, got {Describe(e)}");
        if (v < min) throw new GrammarFault(path, $"{v} is too small (minimum {min})");
        if (v > max) throw new GrammarFault(path, $"{v} is too large (maximum {max})");
        return v;
    }

    private static (double, double) Range(JsonElement e, string path, double min, double max)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2)
            throw new GrammarFault(path, $"expected a range [lo, hi], got {Describe(e)}");
        double lo = Number(e[0], path + "[0]", min, max);
        double hi = Number(e[1], path + "[1]", min, max);
        if (lo > hi) throw new GrammarFault(path, $"bad range [{R(lo)}, {R(hi)}]: lo > hi");
        return (lo, hi);
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"\"{e.GetString()}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => e.GetRawText(),
    };

    private sealed class GrammarFault(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;
    }

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+)\.\.([0-9]+)\]$")]
    private static partial Regex FeatureRange();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
