using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizers;

/// <summary>
/// An optimizer driving one optimizee run: given the current parameters and their gradients, it updates the
/// parameters in place. Implemented by the built-in baselines, by symbolic rules (the rule executor) and by the
/// LSTM teachers, so the evaluation harness treats them alike.
/// </summary>
public interface IParameterOptimizer : IDisposable
{
    /// <summary>Display name, e.g. <c>adam(lr=0.001)</c> or a rule's name.</summary>
    string Name { get; }

    /// <summary>Optimizer state, in floats per optimizee parameter (Adam: 2).</summary>
    double StateFloatsPerParameter { get; }

    /// <summary>
    /// Applies one update. <paramref name="step"/> counts from 1. Parameters are updated in place under no_grad;
    /// gradients are read only. State the optimizer keeps must outlive the caller's dispose scope.
    /// </summary>
    void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step);
}

/// <summary>Creates a fresh optimizer (with fresh state) for the given parameter shapes.</summary>
public delegate IParameterOptimizer ParameterOptimizerFactory(IReadOnlyList<long[]> parameterShapes, Device device);
