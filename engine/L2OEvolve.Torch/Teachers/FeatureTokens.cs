using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The feature tokens a teacher reads and a recording writes: names of feature-catalogue entries
/// (<see cref="RuleFeatures"/>, docs/symbolic-l2o.md, 'Features'), so a recorded column means what the same name means
/// in a rule. The tokens are <c>g</c>, <c>mt</c>, <c>gt</c>, <c>m</c>, <c>mhat</c> (m̂, torch's AdamUp_Norm), <c>v</c>,
/// <c>vs</c> (√v̂+ε, AdamDn_Norm), <c>mom5</c>, <c>mom9</c>, <c>mom99</c>, <c>t</c> and the "magic" p-norm features
/// <c>mp2</c>, <c>mp2h</c> (p = 2.5), <c>mp3</c>, <c>mp4</c> (<c>magic0</c> = mp2+mp2h+mp3, <c>magic1</c> = mp2+mp3+mp4).
/// </summary>
/// <remarks>
/// Choices (docs/symbolic-l2o.md, 'Where the reference code goes wrong', items 4 and 5): tokens are put in this canonical order whatever order they were written in
/// (so two spellings of a configuration are the same configuration, as in the torch code); the catalogue's magic
/// features divide the non-bias-corrected m as the torch code does (the trained teachers of the paper used it); √v̂
/// gets torch's ε = 1e-12 (the catalogue's default epsilon).
/// </remarks>
public static class FeatureTokens
{
    /// <summary>Every token, in the canonical order used for network inputs and recorded columns.</summary>
    public static ImmutableArray<string> Canonical { get; } =
        ["mt", "gt", "m", "mhat", "v", "vs", "g", "mom5", "mom9", "mom99", "t", "mp2", "mp2h", "mp3", "mp4"];

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

    /// <summary>Number of EMA floats per coordinate the tokens need (m, v, momenta, p-norm accumulators): the state
    /// of their compiled catalogue definitions, where features share their moving averages (with <paramref name="beta1"/>
    /// = 0.9, <c>m</c> and <c>mom9</c> are one).</summary>
    public static int StateFloats(IReadOnlyCollection<string> tokens, double beta1, double beta2) =>
        new FeatureComputer(tokens, beta1, beta2).Program.StateSlots;

    /// <summary>Splits a lag-row column name like <c>mom53</c> or <c>g_12</c> into base token and lag (longest known base wins).</summary>
    /// <remarks>The dataset convention's parser (<see cref="LagNames"/>) over these tokens, so
    /// recorded columns and rule features split names alike; a bare token is not a lagged column.</remarks>
    public static bool TryParseLagged(string column, out string token, out int lag) =>
        LagNames.TryParse(column, Canonical, out token, out lag) && token != column;
}

/// <summary>
/// The per-coordinate moving averages behind the features: <c>[slots, N]</c>, slot s of coordinate i at
/// <c>Slots[s, i]</c> (the layout of a compiled program's state, <see cref="RuleProgram.StateSlots"/> slots). The
/// record is immutable: <see cref="FeatureComputer.Step"/> returns a new state.
/// </summary>
public sealed record FeatureState(Tensor Slots)
{
    /// <summary>Every tensor the state holds.</summary>
    public IEnumerable<Tensor> Tensors() => [Slots];

    /// <summary>The same values cut from the autograd graph.</summary>
    public FeatureState Detach() => new(Slots.detach());
}

/// <summary>
/// Computes the chosen feature tokens from a detached gradient, advancing their moving averages: the tokens' catalogue
/// definitions (<see cref="RuleFeatures"/>) compiled into one program with one output per token
/// (<see cref="RuleProgram.CompileOutputs"/>), so shared parts (<c>v</c> under <c>mt</c>, <c>gt</c>, <c>vs</c>) are
/// computed once. Float32 CPU tensors run it as one fused pass (<see cref="FusedKernel.Evaluate"/>); other devices and
/// types as the TorchSharp operator chain (<see cref="OpChainKernel"/>). Features never carry gradients (the
/// teacher's input is a detached gradient), so the fused pass loses nothing.
/// </summary>
public sealed class FeatureComputer
{
    private readonly ImmutableArray<string> _tokens;

    /// <summary>A computer for <paramref name="tokens"/> (any order; output columns follow the given order).</summary>
    public FeatureComputer(IEnumerable<string> tokens, double beta1, double beta2)
    {
        _tokens = [.. tokens];
        foreach (var t in _tokens) FeatureTokens.Check(t);
        if (_tokens.Length == 0) throw new ArgumentException("no feature tokens");
        var settings = FeatureSettings.Default with { Beta1 = beta1, Beta2 = beta2 };
        Program = RuleProgram.CompileOutputs([.. _tokens.Select(t => (Expr)new Expr.Var(t))], settings);
    }

    /// <summary>The tokens, in output column order.</summary>
    public ImmutableArray<string> Tokens => _tokens;

    /// <summary>The compiled catalogue definitions: one output per token, in <see cref="Tokens"/> order.</summary>
    public RuleProgram Program { get; }

    /// <summary>Zero state for <paramref name="n"/> coordinates.</summary>
    public FeatureState Initial(long n, Device device) => new(zeros(Program.StateSlots, n, device: device));

    /// <summary>
    /// One step: <paramref name="g"/> is the detached gradient [N], <paramref name="step"/> counts from 1.
    /// Returns the features [N, tokens] and the next state. No graph is built.
    /// </summary>
    public (Tensor Features, FeatureState Next) Step(Tensor g, FeatureState s, int step)
    {
        using var _ = no_grad();
        g = g.detach();
        // A plan per call: one computer may serve several threads (a teacher evaluated by parallel workers).
        var plan = Program.NewPlan();
        Program.Fill(plan, step);
        return Fused(g, s) ? StepFused(g, s, plan) : StepOpChain(g, s, plan);
    }

    private static bool Fused(Tensor g, FeatureState s) =>
        g.device_type == DeviceType.CPU && g.dtype == ScalarType.Float32
        && s.Slots.device_type == DeviceType.CPU && s.Slots.dtype == ScalarType.Float32;

    private unsafe (Tensor, FeatureState) StepFused(Tensor g, FeatureState s, StepPlan plan)
    {
        long n = g.numel();
        g = g.contiguous();
        // The kernel advances the state in place, so it runs on a copy: the given state stays as it was.
        var next = s.Slots.clone();
        var features = empty(n, _tokens.Length);
        var ws = ArrayPool<float>.Shared.Rent(FusedKernel.WorkspaceFloats(Program));
        try
        {
            fixed (float* gp = MemoryMarshal.Cast<byte, float>(g.bytes))
            fixed (float* sp = MemoryMarshal.Cast<byte, float>(next.bytes))
            fixed (float* fp = MemoryMarshal.Cast<byte, float>(features.bytes))
            {
                FusedKernel.Evaluate(Program, plan, gp, sp, n, fp, ws);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ws);
        }
        return (features, new FeatureState(next));
    }

    private (Tensor, FeatureState) StepOpChain(Tensor g, FeatureState s, StepPlan plan)
    {
        var slots = Enumerable.Range(0, Program.StateSlots).Select(i => s.Slots[i]).ToArray();
        var outputs = new Tensor[_tokens.Length];
        var (_, next) = OpChainKernel.Evaluate(Program, plan, g, slots, outputs: outputs);
        var state = next.Length == 0 ? s.Slots.clone() : stack(next);
        return (stack(outputs, dim: 1), new FeatureState(state));
    }
}
