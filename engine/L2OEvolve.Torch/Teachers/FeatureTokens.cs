using System.Collections.Immutable;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The per-coordinate gradient features (docs/symbolic-l2o.md, 'Features') and the EMA state they need. Token names follow the lag-row
/// convention of the recorded lag rows (<c>g</c>, <c>mt</c>, <c>gt</c>, <c>m</c>, <c>v</c>, <c>mom5</c>, <c>mom9</c>,
/// <c>mom99</c>, <c>t</c>); the extra tokens are <c>mhat</c> (m̂, torch's AdamUp_Norm), <c>vs</c> (√v̂+ε,
/// AdamDn_Norm) and the "magic" p-norm features <c>mp2</c>, <c>mp2h</c> (p = 2.5), <c>mp3</c>, <c>mp4</c>
/// (<c>magic0</c> = mp2+mp2h+mp3, <c>magic1</c> = mp2+mp3+mp4).
/// </summary>
/// <remarks>
/// Choices (docs/symbolic-l2o.md, 'Where the reference code goes wrong', items 4 and 5): tokens are put in this canonical order whatever order they were written in
/// (so two spellings of a configuration are the same configuration, as in the torch code); the magic features
/// divide the non-bias-corrected m as the torch code does (the trained teachers of the paper used it); √v̂ gets
/// torch's ε = 1e-12.
/// </remarks>
public static class FeatureTokens
{
    /// <summary>Every token, in the canonical order used for network inputs and recorded columns.</summary>
    public static ImmutableArray<string> Canonical { get; } =
        ["mt", "gt", "m", "mhat", "v", "vs", "g", "mom5", "mom9", "mom99", "t", "mp2", "mp2h", "mp3", "mp4"];

    private static readonly Dictionary<string, double> MagicP = new() { ["mp2"] = 2.0, ["mp2h"] = 2.5, ["mp3"] = 3.0, ["mp4"] = 4.0 };

    /// <summary>Splits a '+'-joined list (<c>mt+gt+mom5</c>), expanding <c>magic0</c>/<c>magic1</c>.</summary>
    public static IReadOnlyList<string> Parse(string spec)
    {
        var list = new List<string>();
        foreach (var raw in spec.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (raw)
            {
                case "magic0": list.AddRange(["mp2", "mp2h", "mp3"]); break;
                case "magic1": list.AddRange(["mp2", "mp3", "mp4"]); break;
                default: Check(raw); list.Add(raw); break;
            }
        }
        if (list.Count == 0) throw new ArgumentException($"feature list '{spec}' names no feature");
        return list;
    }

    /// <summary>Throws naming the token when it is not a known feature.</summary>
    public static void Check(string token)
    {
        if (!Canonical.Contains(token))
            throw new ArgumentException($"unknown feature '{token}': expected one of {string.Join(", ", Canonical)}, magic0, magic1");
    }

    /// <summary>Distinct tokens in canonical order.</summary>
    public static ImmutableArray<string> Canonicalize(IEnumerable<string> tokens)
    {
        var set = tokens.ToHashSet();
        foreach (var t in set) Check(t);
        return [.. Canonical.Where(set.Contains)];
    }

    /// <summary>Number of EMA floats per coordinate the tokens need (m, v, momenta, p-norm accumulators).</summary>
    public static int StateFloats(IReadOnlyCollection<string> tokens)
    {
        var need = Needs.Of(tokens);
        return (need.M ? 1 : 0) + (need.V ? 1 : 0) + (need.Mom5 ? 1 : 0) + (need.Mom9 ? 1 : 0) + (need.Mom99 ? 1 : 0) + need.P.Length;
    }

    /// <summary>Splits a lag-row column name like <c>mom53</c> or <c>g_12</c> into base token and lag (longest known base wins).</summary>
    /// <remarks>The dataset convention's parser (<see cref="L2OEvolve.Engine.Expressions.LagNames"/>) over these tokens, so
    /// recorded columns and rule features split names alike; a bare token is not a lagged column.</remarks>
    public static bool TryParseLagged(string column, out string token, out int lag) =>
        L2OEvolve.Engine.Expressions.LagNames.TryParse(column, Canonical, out token, out lag) && token != column;

    internal readonly record struct Needs(bool M, bool V, bool Mom5, bool Mom9, bool Mom99, ImmutableArray<double> P)
    {
        public static Needs Of(IEnumerable<string> tokens)
        {
            var s = tokens.ToHashSet();
            bool magic = s.Overlaps(MagicP.Keys);
            bool v = s.Overlaps(["mt", "gt", "v", "vs"]);
            bool m = magic || s.Overlaps(["mt", "m", "mhat"]);
            return new(m, v, s.Contains("mom5"), s.Contains("mom9"), s.Contains("mom99"),
                [.. MagicP.Where(kv => s.Contains(kv.Key)).Select(kv => kv.Value)]);
        }
    }

    internal static double POf(string token) => MagicP[token];
}

/// <summary>
/// Per-coordinate EMA state behind the features (absent entries are not tracked). Tensors are [N]; the record is
/// immutable: <see cref="FeatureComputer.Step"/> returns a new state.
/// </summary>
public sealed record FeatureState(Tensor? M, Tensor? V, Tensor? Mom5, Tensor? Mom9, Tensor? Mom99, ImmutableArray<Tensor> Vp)
{
    /// <summary>Every tensor the state holds.</summary>
    public IEnumerable<Tensor> Tensors() => new[] { M, V, Mom5, Mom9, Mom99 }.OfType<Tensor>().Concat(Vp);
}

/// <summary>Computes the chosen feature tokens from a detached gradient, advancing the EMA state.</summary>
public sealed class FeatureComputer
{
    private readonly ImmutableArray<string> _tokens;
    private readonly FeatureTokens.Needs _needs;
    private readonly double _b1, _b2;

    /// <summary>A computer for <paramref name="tokens"/> (any order; output columns follow the given order).</summary>
    public FeatureComputer(IEnumerable<string> tokens, double beta1, double beta2)
    {
        _tokens = [.. tokens];
        foreach (var t in _tokens) FeatureTokens.Check(t);
        _needs = FeatureTokens.Needs.Of(_tokens);
        (_b1, _b2) = (beta1, beta2);
    }

    /// <summary>The tokens, in output column order.</summary>
    public ImmutableArray<string> Tokens => _tokens;

    /// <summary>Zero state for <paramref name="n"/> coordinates.</summary>
    public FeatureState Initial(long n, Device device)
    {
        Tensor? Z(bool need) => need ? zeros(n, device: device) : null;
        return new(Z(_needs.M), Z(_needs.V), Z(_needs.Mom5), Z(_needs.Mom9), Z(_needs.Mom99),
            [.. _needs.P.Select(_ => zeros(n, device: device))]);
    }

    /// <summary>
    /// One step: <paramref name="g"/> is the detached gradient [N], <paramref name="step"/> counts from 1.
    /// Returns the features [N, tokens] and the next state. No graph is built.
    /// </summary>
    public (Tensor Features, FeatureState Next) Step(Tensor g, FeatureState s, int step)
    {
        using var _ = no_grad();
        g = g.detach();
        var m = s.M is null ? null : s.M * _b1 + g * (1 - _b1);
        var v = s.V is null ? null : s.V * _b2 + g.square() * (1 - _b2);
        var mom5 = s.Mom5 is null ? null : s.Mom5 * 0.5 + g * 0.5;
        var mom9 = s.Mom9 is null ? null : s.Mom9 * 0.9 + g * 0.1;
        var mom99 = s.Mom99 is null ? null : s.Mom99 * 0.99 + g * 0.01;
        var vp = s.Vp.Select((acc, i) => acc * _b2 + g.abs().pow(_needs.P[i]) * (1 - _b2)).ToImmutableArray();
        double c1 = 1 - Math.Pow(_b1, step), c2 = 1 - Math.Pow(_b2, step);
        Tensor? vs = v is null ? null : (v / c2).sqrt() + 1e-12;
        var cols = new Tensor[_tokens.Length];
        for (int i = 0; i < _tokens.Length; i++)
        {
            cols[i] = _tokens[i] switch
            {
                "mt" => m! / c1 / vs!,
                "gt" => g / vs!,
                "m" => m!.alias(),
                "mhat" => m! / c1,
                "v" => v!.alias(),
                "vs" => vs!.alias(),
                "g" => g.alias(),
                "mom5" => mom5!.alias(),
                "mom9" => mom9!.alias(),
                "mom99" => mom99!.alias(),
                "t" => full_like(g, step / 1000.0),
                var p => MagicFeature(m!, vp[_needs.P.IndexOf(FeatureTokens.POf(p))], FeatureTokens.POf(p), c2),
            };
        }
        var features = stack(cols, dim: 1);
        return (features, new FeatureState(m, v, mom5, mom9, mom99, vp));
    }

    // Numerator is the raw (not bias-corrected) m, as in the reference code (docs/symbolic-l2o.md, 'Features').
    private static Tensor MagicFeature(Tensor m, Tensor vp, double p, double c2) => m / ((vp / c2).pow(1.0 / p) + 1e-8);
}
