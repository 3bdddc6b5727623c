using System.Runtime.InteropServices;
using L2OEvolve.Torch.Optimizees;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Optimizees;

/// <summary>
/// Instances of <paramref name="inner"/> whose loss throws, as libtorch does when it fails inside a call, for the first
/// <paramref name="faults"/> calls over all of them; then the inner loss.
/// </summary>
internal sealed class FaultyFamily(IOptimizeeFamily inner, int faults) : IOptimizeeFamily
{
    private int _left = faults;

    public string Name => inner.Name;

    public IOptimizee Create(long seed, Device device) => new Faulty(inner.Create(seed, device), this);

    private sealed class Faulty(IOptimizee problem, FaultyFamily family) : IOptimizee
    {
        public string Name => problem.Name;
        public IReadOnlyList<long[]> ParameterShapes => problem.ParameterShapes;
        public IReadOnlyList<Tensor> InitialParameters() => problem.InitialParameters();
        public Tensor Loss(IReadOnlyList<Tensor> parameters, int step) =>
            Interlocked.Decrement(ref family._left) >= 0 ? throw new ExternalException("injected: Expected false to be true") : problem.Loss(parameters, step);
        public Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step) => problem.PopulationLoss(stackedParameters, step);
        public OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters) => problem.Evaluate(parameters);
        public void Dispose() => problem.Dispose();
    }
}
