using System.Globalization;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>Settings shared by the optimizee families; every field has the reference default (docs/symbolic-l2o.md, 'Optimizees and data').</summary>
/// <param name="DataDir">Folder with MNIST-format IDX files; null means Debian's Fashion-MNIST install.</param>
/// <param name="BatchSize">Minibatch size (128 as in the paper).</param>
/// <param name="Init">How every parameter tensor is initialised (default N(0, 0.01²), weights and biases alike).</param>
/// <param name="Dimension">Problem dimension for quadratic (10), rosenbrock (2) and logreg (20); null takes the family default.</param>
/// <param name="EvalExamples">Cap on held-out examples used by Evaluate (null: the whole evaluation half).</param>
/// <param name="Hidden">Hidden layer widths of an MLP family (null: the family's own), e.g. <c>hidden=64x32</c>.</param>
/// <param name="Activation">Hidden activation of an MLP family (null: the family's own), e.g. <c>act=tanh</c>.</param>
public sealed record OptimizeeOptions(
    string? DataDir = null,
    int BatchSize = 128,
    ParameterInit? Init = null,
    int? Dimension = null,
    int? EvalExamples = null,
    int[]? Hidden = null,
    Activation? Activation = null)
{
    /// <summary>The reference defaults.</summary>
    public static OptimizeeOptions Default { get; } = new();

    /// <summary>The initialisation in force (the reference N(0, 0.01²) unless set).</summary>
    public ParameterInit EffectiveInit => Init ?? ParameterInit.Spec;

    /// <summary>
    /// Applies <c>key=value</c> overrides from an optimizee spec such as <c>rosenbrock:dim=10,init=normal:0.1</c>
    /// (keys: dim, batch, init, eval, data: a folder of MNIST-format IDX files); an unknown key or a bad value fails naming it.
    /// </summary>
    public OptimizeeOptions With(IEnumerable<KeyValuePair<string, string>> overrides, string spec)
    {
        var o = this;
        foreach (var (key, value) in overrides)
        {
            int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
                ? v
                : throw new ArgumentException($"optimizee '{spec}': '{key}={value}' needs a positive integer");
            o = key switch
            {
                "dim" => o with { Dimension = Int() },
                "batch" => o with { BatchSize = Int() },
                "eval" => o with { EvalExamples = Int() },
                "init" => o with { Init = ParameterInit.Parse(value) },
                "hidden" => o with { Hidden = [.. value.Split('x').Select(w => int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 100_000
                    ? n : throw new ArgumentException($"optimizee '{spec}': 'hidden={value}' needs layer widths like 64 or 64x32 (each 1..100000)"))] },
                "act" => o with { Activation = Enum.TryParse<Activation>(value, ignoreCase: true, out var a) && Enum.IsDefined(a) && !char.IsAsciiDigit(value[0])
                    ? a : throw new ArgumentException($"optimizee '{spec}': 'act={value}' must be one of {string.Join(", ", Enum.GetNames<Activation>().Select(n => n.ToLowerInvariant()))}") },
                "data" => o with { DataDir = value },
                _ => throw new ArgumentException($"optimizee '{spec}': unknown setting '{key}' (known: dim, batch, eval, init, data, and for MLPs hidden, act)"),
            };
        }
        return o;
    }
}

/// <summary>How parameter tensors are initialised.</summary>
public enum InitKind
{
    /// <summary>Every value from N(0, Std²) (the reference initialisation, biases included; docs/symbolic-l2o.md, 'Optimizees and data').</summary>
    Normal,
    /// <summary>All zeros.</summary>
    Zeros,
    /// <summary>Uniform ±1/√fan_in for weights and biases, like PyTorch's default <c>nn.Linear</c>/<c>nn.Conv2d</c> init.</summary>
    FanIn,
}

/// <summary>A parameter initialisation scheme; draws come from an explicit <see cref="Rng"/>, so they are the same on every device.</summary>
public sealed record ParameterInit(InitKind Kind, double Std = 0.01)
{
    /// <summary>The reference default: N(0, 0.01²) for every tensor.</summary>
    public static ParameterInit Spec { get; } = new(InitKind.Normal, 0.01);

    /// <summary>Parses <c>normal</c>, <c>normal:STD</c>, <c>zeros</c> or <c>fan-in</c>.</summary>
    public static ParameterInit Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "zeros" || t == "zero") return new(InitKind.Zeros, 0);
        if (t == "fan-in" || t == "fanin") return new(InitKind.FanIn, 0);
        if (t == "normal") return Spec;
        if (t.StartsWith("normal:", StringComparison.Ordinal)
            && double.TryParse(t["normal:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var std) && std >= 0)
            return new(InitKind.Normal, std);
        throw new ArgumentException($"init '{text}': expected normal, normal:STD (e.g. normal:0.01), zeros or fan-in");
    }

    /// <summary>Draws <paramref name="count"/> values for a tensor whose fan-in is <paramref name="fanIn"/>.</summary>
    public float[] Draw(int count, long fanIn, ref Rng rng)
    {
        var values = new float[count];
        switch (Kind)
        {
            case InitKind.Normal:
                for (int i = 0; i < count; i++) values[i] = (float)(Std * rng.NextGaussian());
                break;
            case InitKind.FanIn:
                double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
                for (int i = 0; i < count; i++) values[i] = (float)((2 * rng.NextDouble() - 1) * bound);
                break;
            case InitKind.Zeros:
                break;
        }
        return values;
    }

    public override string ToString() => Kind switch
    {
        InitKind.Normal => $"normal:{Std.ToString(CultureInfo.InvariantCulture)}",
        InitKind.Zeros => "zeros",
        _ => "fan-in",
    };
}
