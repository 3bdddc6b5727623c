using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Concatenates an optimizee's parameter tensors into one flat vector and back: a coordinate-wise teacher treats
/// every coordinate alike, so meta-training keeps θ as one [N] tensor and hands the optimizee shaped views of it.
/// </summary>
public sealed class FlatParameters
{
    private readonly long[][] _shapes;
    private readonly long[] _sizes;

    /// <summary>Layout for <paramref name="shapes"/>.</summary>
    public FlatParameters(IReadOnlyList<long[]> shapes)
    {
        if (shapes.Count == 0) throw new ArgumentException("an optimizee with no parameters");
        _shapes = [.. shapes.Select(s => s.ToArray())];
        _sizes = [.. _shapes.Select(s => s.Aggregate(1L, (a, b) => a * b))];
        Count = _sizes.Sum();
    }

    /// <summary>Total number of coordinates N.</summary>
    public long Count { get; }

    /// <summary>Number of coordinates of each tensor.</summary>
    public IReadOnlyList<long> Sizes => _sizes;

    /// <summary>Shaped views of <paramref name="flat"/> (they share its memory and autograd graph).</summary>
    public IReadOnlyList<Tensor> Views(Tensor flat)
    {
        var parts = flat.split(_sizes);
        return [.. parts.Select((p, i) => p.view(_shapes[i]))];
    }

    /// <summary>One flat [N] tensor holding <paramref name="tensors"/> in order.</summary>
    public static Tensor Flatten(IEnumerable<Tensor> tensors) => cat([.. tensors.Select(t => t.reshape(-1))], 0);
}
