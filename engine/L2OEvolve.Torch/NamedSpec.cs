namespace L2OEvolve.Torch;

/// <summary>
/// A name with optional settings, as written on the command line: <c>adam</c>, <c>adam:lr=0.01,beta1=0.8</c>,
/// <c>rosenbrock:dim=10</c>. Settings keep their order; keys are lower-cased, the name keeps its case (it may be a file path).
/// </summary>
public sealed record NamedSpec(string Name, IReadOnlyList<KeyValuePair<string, string>> Settings)
{
    /// <summary>Splits <paramref name="text"/> at the first ':' into a name and comma-separated <c>key=value</c> settings.</summary>
    public static NamedSpec Parse(string text)
    {
        var t = text.Trim();
        int colon = t.IndexOf(':');
        if (colon < 0) return new(t, []);
        var settings = new List<KeyValuePair<string, string>>();
        foreach (var part in t[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || eq == part.Length - 1)
                throw new ArgumentException($"'{text}': setting '{part}' is not of the form key=value");
            settings.Add(new(part[..eq].Trim().ToLowerInvariant(), part[(eq + 1)..].Trim()));
        }
        return new(t[..colon].Trim(), settings);
    }

    /// <summary>The name lower-cased, for matching against registered names.</summary>
    public string Key => Name.ToLowerInvariant();

    /// <summary>This spec with <paramref name="key"/> set to <paramref name="value"/> (replacing an earlier value).</summary>
    public NamedSpec With(string key, string value) =>
        this with { Settings = Settings.Where(kv => kv.Key != key).Append(new(key, value)).ToList() };

    public override string ToString() =>
        Settings.Count == 0 ? Name : $"{Name}:{string.Join(",", Settings.Select(kv => $"{kv.Key}={kv.Value}"))}";
}
