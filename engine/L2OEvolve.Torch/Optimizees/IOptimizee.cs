using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// One seeded training problem in functional form. Parameters are plain tensors, not module fields, so an
/// optimizer's updates can be differentiated through (meta-training, meta-tuning) and P copies can be stacked
/// along a leading dimension (population rollouts).
/// </summary>
/// <remarks>
/// Everything random (problem data such as W and y, initial parameters, minibatch order) is a function of the
/// seed given to <see cref="IOptimizeeFamily.Create"/> and the step index, so two runs with one seed agree.
/// </remarks>
public interface IOptimizee : IDisposable
{
    /// <summary>The family name, e.g. <c>quadratic</c> or <c>mlp-fashion</c>.</summary>
    string Name { get; }

    /// <summary>Shapes of the parameter tensors, in order.</summary>
    IReadOnlyList<long[]> ParameterShapes { get; }

    /// <summary>Fresh initial parameters (leaf tensors, no grad), drawn from this instance's seed.</summary>
    IReadOnlyList<Tensor> InitialParameters();

    /// <summary>Training loss (a scalar) at <paramref name="parameters"/> on the minibatch of step <paramref name="step"/>.</summary>
    Tensor Loss(IReadOnlyList<Tensor> parameters, int step);

    /// <summary>
    /// Training losses of P stacked parameter sets (each tensor has a leading dimension P) on the same minibatch of
    /// step <paramref name="step"/>; returns a [P] tensor. Implemented with batched kernels (bmm), not a loop.
    /// </summary>
    Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step);

    /// <summary>Held-out evaluation: loss on the evaluation split and accuracy where it applies (NaN otherwise).</summary>
    OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters);
}

/// <summary>The result of evaluating parameters on an optimizee's held-out data.</summary>
public readonly record struct OptimizeeEvaluation(double Loss, double Accuracy);

/// <summary>A named family of optimizees: each seed gives one problem instance.</summary>
public interface IOptimizeeFamily
{
    /// <summary>Registry name, e.g. <c>quadratic</c>.</summary>
    string Name { get; }

    /// <summary>Builds the instance for <paramref name="seed"/> on <paramref name="device"/>.</summary>
    IOptimizee Create(long seed, Device device);
}
