using System.Collections.Immutable;

namespace L2OEvolve.Torch.Tuning;

/// <summary>Which meta-optimizer updates the constants.</summary>
public enum MetaOptimizerKind
{
    /// <summary>Adam (β 0.9/0.999, ε 1e-8): scale-free, so constants of very different sizes move alike.</summary>
    Adam,
    /// <summary>SGD with momentum, as the paper's stage 3 (momentum 0.9; docs/symbolic-l2o.md, 'Meta-tuning the constants').</summary>
    Sgd,
}

/// <summary>
/// The meta-optimizer's state over a handful of constants, kept in double precision in plain view so a checkpoint
/// stores it exactly. Immutable: <see cref="Step"/> returns the next state and the new constants.
/// </summary>
/// <param name="Kind">Adam or SGD with momentum.</param>
/// <param name="Steps">Updates applied so far.</param>
/// <param name="First">Adam's first moment, or SGD's momentum buffer.</param>
/// <param name="Second">Adam's second moment (zeros for SGD).</param>
public sealed record MetaOptimizerState(MetaOptimizerKind Kind, long Steps, ImmutableArray<double> First, ImmutableArray<double> Second)
{
    /// <summary>Fresh state for <paramref name="count"/> constants.</summary>
    public static MetaOptimizerState Initial(MetaOptimizerKind kind, int count) =>
        new(kind, 0, [.. new double[count]], [.. new double[count]]);

    /// <summary>
    /// One update of <paramref name="constants"/> from <paramref name="gradient"/> with learning rate
    /// <paramref name="lr"/> (and <paramref name="momentum"/> for SGD, PyTorch's form: b ← μ b + g, c ← c − lr b).
    /// </summary>
    public (MetaOptimizerState State, double[] Constants) Step(ReadOnlySpan<double> constants, ReadOnlySpan<double> gradient, double lr, double momentum)
    {
        if (constants.Length != First.Length || gradient.Length != First.Length)
            throw new ArgumentException($"meta-optimizer holds {First.Length} constants, got {constants.Length} values and {gradient.Length} gradients");
        var c = constants.ToArray();
        var m = First.ToArray();
        var v = Second.ToArray();
        long t = Steps + 1;
        if (Kind == MetaOptimizerKind.Adam)
        {
            const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
            double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
            for (int i = 0; i < c.Length; i++)
            {
                m[i] = b1 * m[i] + (1 - b1) * gradient[i];
                v[i] = b2 * v[i] + (1 - b2) * gradient[i] * gradient[i];
                c[i] -= lr * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + eps);
            }
        }
        else
        {
            for (int i = 0; i < c.Length; i++)
            {
                m[i] = t == 1 ? gradient[i] : momentum * m[i] + gradient[i];
                c[i] -= lr * m[i];
            }
        }
        return (this with { Steps = t, First = [.. m], Second = [.. v] }, c);
    }
}
