using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Adam over a fixed list of weights with its state in plain view (moments and step count), so a checkpoint can
/// store and restore it bit for bit. Used as the meta-optimizer (and, separately, for imitation epochs).
/// </summary>
public sealed class MetaAdam : IDisposable
{
    private readonly IReadOnlyList<Tensor> _weights;
    private readonly Tensor[] _m, _v;
    private readonly double _b1, _b2, _eps;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>Updates applied so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Adam(β1, β2, ε) on <paramref name="weights"/>.</summary>
    public MetaAdam(IReadOnlyList<Tensor> weights, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _weights = weights;
        (LearningRate, _b1, _b2, _eps) = (lr, beta1, beta2, eps);
        _m = [.. weights.Select(w => zeros_like(w).DetachFromDisposeScope())];
        _v = [.. weights.Select(w => zeros_like(w).DetachFromDisposeScope())];
    }

    /// <summary>Clears the weights' gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var w in _weights) w.grad?.zero_();
    }

    /// <summary>True when every weight gradient is finite (a diverged unroll must not poison the weights).</summary>
    public bool GradientsFinite()
    {
        using var scope = NewDisposeScope();
        foreach (var w in _weights)
            if (w.grad is { } g && !g.isfinite().all().item<bool>()) return false;
        return true;
    }

    /// <summary>One Adam update from the weights' current gradients.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Steps++;
        double c1 = 1 - Math.Pow(_b1, Steps), c2 = 1 - Math.Pow(_b2, Steps);
        using Scalar b1 = _b1.ToScalar(), oneMinusB1 = (1 - _b1).ToScalar(), b2 = _b2.ToScalar(), oneMinusB2 = (1 - _b2).ToScalar(),
            correction2 = c2.ToScalar(), epsilon = _eps.ToScalar(), minusStep = (-LearningRate / c1).ToScalar();
        for (int i = 0; i < _weights.Count; i++)
        {
            var g = _weights[i].grad;
            if (g is null) continue;
            _m[i].mul_(b1).add_(g, oneMinusB1);
            _v[i].mul_(b2).addcmul_(g, g, oneMinusB2);
            var denom = _v[i].div(correction2).sqrt_().add_(epsilon, TorchScalars.One);
            _weights[i].addcdiv_(_m[i], denom, minusStep);
        }
    }

    /// <summary>Writes the step count and moments.</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(Steps);
        w.Write(_m.Length);
        foreach (var t in _m.Concat(_v)) WriteTensor(w, t);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; <paramref name="source"/> names the file in errors.</summary>
    public void Load(BinaryReader r, string source)
    {
        Steps = r.ReadInt64();
        int n = r.ReadInt32();
        if (n != _m.Length) throw new InvalidDataException($"{source}: optimizer state for {n} weights, the teacher has {_m.Length}");
        foreach (var t in _m.Concat(_v)) ReadTensor(r, t, source);
    }

    internal static void WriteTensor(BinaryWriter w, Tensor t)
    {
        var data = t.cpu().data<float>().ToArray();
        w.Write(data.Length);
        foreach (var x in data) w.Write(x);
    }

    internal static void ReadTensor(BinaryReader r, Tensor into, string source)
    {
        int len = r.ReadInt32();
        if (len != into.numel()) throw new InvalidDataException($"{source}: tensor of {len} values where {into.numel()} were expected");
        var data = new float[len];
        for (int i = 0; i < len; i++) data[i] = r.ReadSingle();
        using var _ = no_grad();
        using var t = tensor(data, into.shape);
        into.copy_(t);
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
