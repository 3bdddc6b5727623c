using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// Logistic regression on seeded synthetic data: d features x ~ N(0, I) (d = 20 by default), a true weight vector
/// w* ~ N(0, I) and labels y ~ Bernoulli(σ(x·w*)), so the problem is learnable but not separable. 1000 training and
/// 1000 evaluation examples per seed; minibatches are drawn from the training half each step.
/// </summary>
public sealed class LogisticRegressionFamily(OptimizeeOptions options) : IOptimizeeFamily
{
    /// <summary>Examples in each half.</summary>
    public const int ExamplesPerHalf = 1000;

    public string Name => "logreg";

    public IOptimizee Create(long seed, Device device) =>
        new LogisticRegression(options.Dimension ?? 20, options.BatchSize, options.EffectiveInit, seed, device);
}

internal sealed class LogisticRegression : IOptimizee
{
    private readonly Tensor _trainX, _trainY, _evalX, _evalY;
    private readonly int _d, _batch;
    private readonly ParameterInit _init;
    private readonly long _seed;
    private readonly Device _device;

    internal LogisticRegression(int d, int batch, ParameterInit init, long seed, Device device)
    {
        (_d, _batch, _init, _seed, _device) = (d, batch, init, seed, device);
        var rng = OptimizeeTensors.Stream(seed, OptimizeeTensors.DataStream);
        var wStar = OptimizeeTensors.Gaussian(ref rng, d);
        int n = 2 * LogisticRegressionFamily.ExamplesPerHalf;
        var x = OptimizeeTensors.Gaussian(ref rng, n * d);
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            double z = 0;
            for (int j = 0; j < d; j++) z += x[i * d + j] * wStar[j];
            y[i] = rng.NextDouble() < 1 / (1 + Math.Exp(-z)) ? 1f : 0f;
        }
        int h = LogisticRegressionFamily.ExamplesPerHalf;
        _trainX = OptimizeeTensors.Constant(x[..(h * d)], [h, d], device);
        _evalX = OptimizeeTensors.Constant(x[(h * d)..], [h, d], device);
        _trainY = OptimizeeTensors.Constant(y[..h], [h], device);
        _evalY = OptimizeeTensors.Constant(y[h..], [h], device);
        ParameterShapes = [new long[] { d }, new long[] { 1 }];
    }

    public string Name => "logreg";

    public IReadOnlyList<long[]> ParameterShapes { get; }

    public IReadOnlyList<Tensor> InitialParameters() => OptimizeeTensors.Initial(ParameterShapes, [_d, _d], _init, _seed, _device);

    public Tensor Loss(IReadOnlyList<Tensor> parameters, int step)
    {
        var (x, y) = Batch(step);
        var logits = x.matmul(parameters[0]).PlusInPlace(parameters[1]);
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y);
    }

    public Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step)
    {
        OptimizeeTensors.CheckStacked(stackedParameters, ParameterShapes, Name);
        var (x, y) = Batch(step);
        // [B, d] x [d, P] -> [B, P]: all P weight vectors in one matmul.
        var logits = x.matmul(stackedParameters[0].t()).PlusInPlace(stackedParameters[1].t());
        var target = y.unsqueeze(1).expand_as(logits);
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.None).mean([0L]);
    }

    private (Tensor X, Tensor Y) Batch(int step)
    {
        var idx = OptimizeeTensors.BatchIndices(_seed, step, (int)_trainY.shape[0], _batch);
        var index = torch.tensor(idx, device: _device);
        return (_trainX.index_select(0, index), _trainY.index_select(0, index));
    }

    public OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var logits = _evalX.matmul(parameters[0]).PlusInPlace(parameters[1]);
        double loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, _evalY).item<float>();
        double accuracy = logits.gt(TorchScalars.Zero).to_type(ScalarType.Float32).eq(_evalY).to_type(ScalarType.Float32).mean().item<float>();
        return new(loss, accuracy);
    }

    public void Dispose()
    {
        _trainX.Dispose();
        _trainY.Dispose();
        _evalX.Dispose();
        _evalY.Dispose();
    }
}
