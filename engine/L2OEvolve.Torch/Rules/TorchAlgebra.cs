using L2OEvolve.Engine.Expressions;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rules;

/// <summary>The tensor primitives on TorchSharp tensors: how every operator's tensor mapping runs (any device, differentiable).</summary>
public sealed class TorchAlgebra : ITensorAlgebra<Tensor>
{
    /// <summary>The one instance.</summary>
    public static readonly TorchAlgebra Instance = new();

    /// <inheritdoc/>
    public Tensor Constant(Tensor like, double value) => TorchScalars.FullLike(like, value);
    /// <inheritdoc/>
    public Tensor AddScalar(Tensor x, double c) => x.Plus(c);
    /// <inheritdoc/>
    public Tensor MulScalar(Tensor x, double c) => x.Times(c);
    /// <inheritdoc/>
    public Tensor Neg(Tensor x) => x.neg();
    /// <inheritdoc/>
    public Tensor Abs(Tensor x) => x.abs();
    /// <inheritdoc/>
    public Tensor Sign(Tensor x) => x.sign();
    /// <inheritdoc/>
    public Tensor Sqrt(Tensor x) => x.sqrt();
    /// <inheritdoc/>
    public Tensor Log(Tensor x) => x.log();
    /// <inheritdoc/>
    public Tensor Exp(Tensor x) => x.exp();
    /// <inheritdoc/>
    public Tensor Tanh(Tensor x) => x.tanh();
    /// <inheritdoc/>
    public Tensor Sinh(Tensor x) => x.sinh();
    /// <inheritdoc/>
    public Tensor Asinh(Tensor x) => x.asinh();
    /// <inheritdoc/>
    public Tensor Erfc(Tensor x) => x.erfc();
    /// <inheritdoc/>
    public Tensor Sin(Tensor x) => x.sin();
    /// <inheritdoc/>
    public Tensor Cos(Tensor x) => x.cos();
    /// <inheritdoc/>
    public Tensor Relu(Tensor x) => x.relu();
    /// <inheritdoc/>
    public Tensor Add(Tensor x, Tensor y) => x.Plus(y);
    /// <inheritdoc/>
    public Tensor Sub(Tensor x, Tensor y) => x.sub(y);
    /// <inheritdoc/>
    public Tensor Mul(Tensor x, Tensor y) => x.mul(y);
    /// <inheritdoc/>
    public Tensor Div(Tensor x, Tensor y) => x.div(y);
    /// <inheritdoc/>
    public Tensor Pow(Tensor x, Tensor y) => x.pow(y);
    /// <inheritdoc/>
    public Tensor Minimum(Tensor x, Tensor y) => minimum(x, y);
    /// <inheritdoc/>
    public Tensor Maximum(Tensor x, Tensor y) => maximum(x, y);
    /// <inheritdoc/>
    /// <remarks>A 0-dim operand does not decide the type (as in arithmetic promotion): float64 constants keep float32 parameters float32.</remarks>
    public Tensor Greater(Tensor x, Tensor y) => x.gt(y).to(x.dim() == 0 && y.dim() != 0 ? y.dtype : x.dtype);
    /// <inheritdoc/>
    public Tensor IsZero(Tensor x)
    {
        using var zero = 0.0.ToScalar();
        return x.eq(zero);
    }
    /// <inheritdoc/>
    public Tensor Where(Tensor mask, Tensor a, Tensor b) => where(mask, a, b);
    /// <inheritdoc/>
    public Tensor OnesLike(Tensor x) => ones_like(x);
}
