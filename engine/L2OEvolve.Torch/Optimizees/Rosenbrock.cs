using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// The Rosenbrock function Σᵢ 100(θᵢ₊₁ − θᵢ²)² + (1 − θᵢ)² in d ≥ 2 dimensions (2 by default; <c>rosenbrock:dim=N</c>
/// for the high-dimensional chained form). Minimum 0 at θ = 1. The seed only sets the starting point.
/// </summary>
public sealed class RosenbrockFamily(OptimizeeOptions options) : IOptimizeeFamily
{
    public string Name => "rosenbrock";

    public IOptimizee Create(long seed, Device device)
    {
        int d = options.Dimension ?? 2;
        if (d < 2) throw new ArgumentException($"rosenbrock: dimension {d} is below 2");
        return new Rosenbrock(d, options.EffectiveInit, seed, device);
    }
}

internal sealed class Rosenbrock(int d, ParameterInit init, long seed, Device device) : IOptimizee
{
    public string Name => "rosenbrock";

    public IReadOnlyList<long[]> ParameterShapes { get; } = [new long[] { d }];

    public IReadOnlyList<Tensor> InitialParameters() => OptimizeeTensors.Initial(ParameterShapes, [d], init, seed, device);

    public Tensor Loss(IReadOnlyList<Tensor> parameters, int step) => Terms(parameters[0].unsqueeze(0)).squeeze(0);

    public Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step)
    {
        OptimizeeTensors.CheckStacked(stackedParameters, ParameterShapes, Name);
        return Terms(stackedParameters[0]);
    }

    private static Tensor Terms(Tensor theta)
    {
        // theta: [P, d] -> [P]
        var head = theta[.., ..^1];
        var tail = theta[.., 1..];
        var valley = tail.sub(head.Squared()).Squared().TimesInPlace(100);
        var offset = head.SubtractedFrom(1).Squared();
        return valley.PlusInPlace(offset).sum(1);
    }

    public OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return new(Loss(parameters, 0).item<float>(), double.NaN);
    }

    public void Dispose() { }
}
