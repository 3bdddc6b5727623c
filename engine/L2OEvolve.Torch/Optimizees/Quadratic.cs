using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// The classic L2O task f(θ) = ‖Wθ − y‖² with W [d×d] and y [d] drawn from N(0, 1) per seed (d = 10 by default).
/// Deterministic: there is no minibatch, so every step sees the same objective, and evaluation is the same loss.
/// </summary>
public sealed class QuadraticFamily(OptimizeeOptions options) : IOptimizeeFamily
{
    /// <summary>Default dimension (Andrychowicz et al. 2016).</summary>
    public const int DefaultDimension = 10;

    public string Name => "quadratic";

    public IOptimizee Create(long seed, Device device) => new Quadratic(options.Dimension ?? DefaultDimension, options.EffectiveInit, seed, device);
}

internal sealed class Quadratic : IOptimizee
{
    private readonly Tensor _w, _y;
    private readonly ParameterInit _init;
    private readonly long _seed;
    private readonly Device _device;
    private readonly int _d;

    internal Quadratic(int d, ParameterInit init, long seed, Device device)
    {
        (_d, _init, _seed, _device) = (d, init, seed, device);
        var rng = OptimizeeTensors.Stream(seed, OptimizeeTensors.DataStream);
        _w = OptimizeeTensors.Constant(OptimizeeTensors.Gaussian(ref rng, d * d), [d, d], device);
        _y = OptimizeeTensors.Constant(OptimizeeTensors.Gaussian(ref rng, d), [d], device);
        ParameterShapes = [new long[] { d }];
    }

    public string Name => "quadratic";

    public IReadOnlyList<long[]> ParameterShapes { get; }

    public IReadOnlyList<Tensor> InitialParameters() => OptimizeeTensors.Initial(ParameterShapes, [_d], _init, _seed, _device);

    public Tensor Loss(IReadOnlyList<Tensor> parameters, int step)
    {
        using var r = _w.matmul(parameters[0]).sub_(_y);
        return r.Squared().sum();
    }

    public Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step)
    {
        OptimizeeTensors.CheckStacked(stackedParameters, ParameterShapes, Name);
        // θ is [P, d]: θ Wᵀ gives the P residuals in one matmul.
        using var r = stackedParameters[0].matmul(_w.t()).sub_(_y);
        return r.Squared().sum(1);
    }

    public OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return new(Loss(parameters, 0).item<float>(), double.NaN);
    }

    public void Dispose()
    {
        _w.Dispose();
        _y.Dispose();
    }
}
