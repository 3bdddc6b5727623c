using L2OEvolve.Engine.Compilation;
using System.Globalization;
using System.Text.Json;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rules;

/// <summary>
/// A named update rule as stored in a <c>*.rule.json</c> file:
/// <c>{"name": "adam", "rule": "-0.001 * ema_bc(0.9, g) / ...", "description": "...", "features": {"beta1": 0.95}}</c>.
/// </summary>
/// <param name="Name">Display name.</param>
/// <param name="Rule">The update, added to the parameters (the sign is part of the rule).</param>
/// <param name="Description">Free text (where the rule comes from, its defaults).</param>
/// <param name="Features">Settings of the paper's features the rule reads (m, v, mt, gt, t).</param>
/// <param name="Lr">The step size: a multiplier of the update, as every optimizer has one (1 = the rule as written).
/// It is kept apart from <paramref name="Rule"/> so that it can be tuned like any baseline's lr and exported as an
/// <c>lr</c> argument.</param>
public sealed record RuleDefinition(string Name, Expr Rule, string Description, FeatureSettings Features, double Lr = 1.0)
{
    /// <summary>The update actually applied: <c>Lr · Rule</c> (the rule itself when Lr is 1).</summary>
    public Expr Update => Lr == 1.0 ? Rule : new Expr.Binary(Op.Mul, new Expr.Const(Lr), Rule);

    /// <summary>This rule with its step size folded into the expression (Lr = 1), for tools that edit constants.</summary>
    public RuleDefinition Folded() => Lr == 1.0 ? this : this with { Rule = Update, Lr = 1.0 };

    /// <summary>
    /// The inverse of <see cref="Folded"/>: a rule written <c>c · rest</c> with c &gt; 0 becomes <c>rest</c> with its
    /// lr multiplied by c (a meta-tuned step size reads as an lr again); any other rule is returned as it is.
    /// </summary>
    public RuleDefinition Unfolded() => Rule is Expr.Binary { Left: Expr.Const { Value: > 0 and var c }, Right: var rest } scaled && scaled.Op == Op.Mul && double.IsFinite(c)
        ? this with { Rule = rest, Lr = Lr * c }
        : this;

    /// <summary>This rule with step size <paramref name="lr"/> (must be finite and positive).</summary>
    public RuleDefinition WithLr(double lr) => double.IsFinite(lr) && lr > 0
        ? this with { Lr = lr }
        : throw new ArgumentException($"rule '{Name}': lr must be a finite positive number, got {lr}");

    /// <summary>Compiles the update <c>Lr · Rule</c> (fails naming an unknown feature).</summary>
    public RuleProgram Compile() => RuleProgram.Compile(Update, Features);

    /// <summary>A factory of fresh <see cref="RuleOptimizer"/>s for this rule.</summary>
    public ParameterOptimizerFactory Factory(RuleBackend backend = RuleBackend.Auto)
    {
        var program = Compile();
        return (shapes, device) => new RuleOptimizer(Name, program, shapes, device, backend);
    }
}

/// <summary>Reads and writes <c>*.rule.json</c> files, and resolves optimizer names that are paths to them.</summary>
public static class RuleFile
{
    /// <summary>The file name suffix of rule files.</summary>
    public const string Extension = ".rule.json";

    // Relaxed escaping keeps rules readable in the file ("a + b", not "a \u002B b"); the text is never embedded in HTML.
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Loads a rule file; any fault raises an <see cref="InputException"/> naming the file and the place.</summary>
    public static RuleDefinition Load(string path)
    {
        string text = InputFiles.ReadText(path, InputFiles.JsonBytes, "rule file");
        return Parse(text, path, Path.GetFileName(path).Replace(Extension, "", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Parses rule-file text; <paramref name="source"/> names it in errors, <paramref name="defaultName"/> is used when "name" is absent.</summary>
    public static RuleDefinition Parse(string json, string source, string defaultName = "rule")
    {
        using (var doc = JsonInput.Parse(json, source))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InputException("expected a JSON object", source, "$");
            string name = defaultName, description = "", ruleText = "";
            double lr = 1.0;
            var features = FeatureSettings.Default;
            foreach (var prop in root.EnumerateObject())
            {
                switch (prop.Name)
                {
                    case "name": name = String(prop, source); break;
                    case "description": description = String(prop, source); break;
                    case "rule": ruleText = String(prop, source); break;
                    case "features": features = Features(prop.Value, source); break;
                    case "lr": lr = PositiveNumber(prop, source); break;
                    case "define": GrammarJson.ReadDefines(prop.Value, source, "$.define"); break;
                    default:
                        throw new InputException($"unknown key '{prop.Name}' (known: name, rule, lr, description, features, define)", source, $"$.{prop.Name}");
                }
            }
            if (ruleText.Length == 0) throw new InputException("missing \"rule\" (the update as an infix expression)", source, "$.rule");
            // The name is written into comments and docstrings of exported source, where a quote or a line break
            // would end the comment and turn the rest of the name into code.
            if (name.Length == 0 || name.Length > 200 || name.Any(c => char.IsControl(c) || c is '\'' or '"' or '\\' or '`'))
                throw new InputException("a rule name is 1 to 200 characters without quotes, backslashes or control characters", source, "$.name");
            Expr rule;
            try { rule = Infix.Parse(ruleText); }
            catch (InputException e)
            {
                throw new InputException(e.Fault, source, "$.rule" + (e.Location is null ? "" : $", {e.Location}"), e);
            }
            var def = new RuleDefinition(name, rule, description, features, lr);
            try { def.Compile(); }
            catch (ArgumentException e) { throw new InputException(e.Message, source, "$.rule", e); }
            return def;
        }
    }

    /// <summary>Writes <paramref name="rule"/> as rule-file JSON (features listed in full, so the file says what it means).</summary>
    public static string Format(RuleDefinition rule)
    {
        // Operators the rule defines travel with it (dependencies first), so the file reads back in a process that
        // never saw them; the key is left out when there are none, so plain rule files are unchanged.
        var defined = CompositeOp.UsedBy(rule.Rule);
        var obj = new Dictionary<string, object> { ["name"] = rule.Name };
        if (defined.Count > 0) obj["define"] = defined.ToDictionary(c => c.Signature, c => Infix.Print(c.Body));
        obj["rule"] = Infix.Print(rule.Rule);
        obj["lr"] = rule.Lr;
        obj["description"] = rule.Description;
        obj["features"] = new Dictionary<string, double>
        {
            ["beta1"] = rule.Features.Beta1,
            ["beta2"] = rule.Features.Beta2,
            ["epsilon"] = rule.Features.Epsilon,
            ["t_scale"] = rule.Features.TScale,
        };
        return JsonSerializer.Serialize(obj, WriteOptions) + "\n";
    }

    /// <summary>
    /// Resolves an optimizer name that is a path to a rule file, optionally followed by <c>:lr=X</c> (the step size,
    /// replacing the file's) and <c>backend=fused|opchain|auto</c>, e.g. <c>lion.rule.json:lr=3e-4,backend=fused</c>;
    /// null when <paramref name="name"/> is not a rule-file path (so other resolvers may try it). A path that ends in
    /// <c>.rule.json</c> but cannot be loaded fails with the loader's error; an unknown option with an ArgumentException.
    /// </summary>
    public static ParameterOptimizerFactory? TryResolve(string name, Device device)
    {
        var (path, options) = SplitOptions(name);
        if (!path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)) return null;
        var backend = RuleBackend.Auto;
        double? lr = null;
        foreach (var (key, value) in options)
        {
            // ArgumentException (not InputException): the name, not the file, is at fault; lr tuning probes with it.
            if (key == "lr" && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) && x > 0) lr = x;
            else if (key != "backend" || !Enum.TryParse(value, ignoreCase: true, out backend))
                throw new ArgumentException($"optimizer '{name}': bad rule option '{key}={value}' (known: lr=X with X > 0, backend=auto|fused|opchain)");
        }
        var rule = Load(path);
        return (lr is { } l ? rule.WithLr(l) : rule).Factory(backend);
    }

    /// <summary>The folder of the shipped optimizers (<c>grammars/optimizers</c>, copied beside the program at build).</summary>
    public static string ShippedDirectory => Path.Combine(AppContext.BaseDirectory, "optimizers");

    /// <summary>The names of the shipped rule files (sgd, momentum, ..., lion), sorted.</summary>
    public static IReadOnlyList<string> ShippedNames =>
        System.IO.Directory.Exists(ShippedDirectory)
            ? [.. System.IO.Directory.EnumerateFiles(ShippedDirectory, "*" + Extension).Select(f => Path.GetFileName(f)[..^Extension.Length]).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// Resolves a shipped optimizer by name with the options of <see cref="TryResolve"/> (<c>lion</c>,
    /// <c>rmsprop:lr=0.003</c>); null when the name is not shipped.
    /// </summary>
    public static ParameterOptimizerFactory? TryResolveShipped(string spec, Device device)
    {
        int colon = spec.IndexOf(':');
        string key = (colon < 0 ? spec : spec[..colon]).Trim();
        if (key.Length == 0 || key.IndexOfAny(['/', '\\', '.']) >= 0) return null;
        var path = Path.Combine(ShippedDirectory, key + Extension);
        return File.Exists(path) ? TryResolve(path + (colon < 0 ? "" : spec[colon..]), device) : null;
    }

    private static (string Path, List<(string Key, string Value)> Options) SplitOptions(string name)
    {
        // Options follow the ".rule.json" suffix, so drive letters and odd folder names stay part of the path.
        int end = name.LastIndexOf(Extension, StringComparison.OrdinalIgnoreCase);
        if (end < 0) return (name, []);
        end += Extension.Length;
        var path = name[..end];
        var rest = name[end..];
        if (rest.Length == 0) return (path, []);
        if (rest[0] != ':') return (name, []);
        var opts = rest[1..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(kv => kv.Split('=', 2)).Select(kv => (kv[0].ToLowerInvariant(), kv.Length > 1 ? kv[1] : "")).ToList();
        return (path, opts);
    }

    private static string String(JsonProperty prop, string source) => prop.Value.ValueKind == JsonValueKind.String
        ? prop.Value.GetString()!
        : throw new InputException($"\"{prop.Name}\" must be a string, not {prop.Value.ValueKind}", source, $"$.{prop.Name}");

    private static double PositiveNumber(JsonProperty prop, string source) =>
        prop.Value.ValueKind == JsonValueKind.Number && prop.Value.GetDouble() is var v && double.IsFinite(v) && v > 0
            ? v
            : throw new InputException($"\"{prop.Name}\" must be a finite number above 0, not {prop.Value}", source, $"$.{prop.Name}");

    private static FeatureSettings Features(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InputException("\"features\" must be an object", source, "$.features");
        var f = FeatureSettings.Default;
        foreach (var prop in e.EnumerateObject())
        {
            if (prop.Value.ValueKind != JsonValueKind.Number)
                throw new InputException($"must be a number, not {prop.Value.ValueKind}", source, $"$.features.{prop.Name}");
            double v = prop.Value.GetDouble();
            f = prop.Name switch
            {
                "beta1" when v is >= 0 and < 1 => f with { Beta1 = v },
                "beta2" when v is >= 0 and < 1 => f with { Beta2 = v },
                "beta1" or "beta2" => throw new InputException($"a beta must lie in [0, 1), got {v}", source, $"$.features.{prop.Name}"),
                "epsilon" => f with { Epsilon = v },
                "t_scale" => f with { TScale = v },
                _ => throw new InputException($"unknown feature setting '{prop.Name}' (known: beta1, beta2, epsilon, t_scale)", source, $"$.features.{prop.Name}"),
            };
        }
        return f;
    }
}
