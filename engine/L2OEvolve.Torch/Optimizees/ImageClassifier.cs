using L2OEvolve.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// Shared machinery of the MNIST-format optimizees: the two halves as uint8 tensors on the device (pixels are scaled
/// to x/255 − 0.5 per minibatch; docs/symbolic-l2o.md, 'Optimizees and data'), a fresh seeded minibatch every step, cross-entropy loss, and held-out
/// evaluation. A subclass supplies only the network: logits for one parameter set and for P stacked sets.
/// </summary>
internal abstract class ImageClassifier : IOptimizee
{
    private const int EvalChunk = 4096;
    private readonly Tensor _trainX, _trainY, _evalX, _evalY;
    private readonly ParameterInit _init;
    private readonly long _seed;
    private readonly int _batch;
    protected readonly Device Device;
    protected readonly MnistData Data;

    protected ImageClassifier(string name, MnistData data, OptimizeeOptions options, long seed, Device device)
    {
        (Name, Data, _init, _seed, _batch, Device) = (name, data, options.EffectiveInit, seed, options.BatchSize, device);
        int nEval = Math.Min(data.EvalCount, options.EvalExamples ?? int.MaxValue);
        _trainX = Bytes(data.TrainImages, [data.TrainCount, data.Pixels], device);
        _trainY = Bytes(data.TrainLabels, [data.TrainCount], device);
        _evalX = Bytes(data.EvalImages[..(nEval * data.Pixels)], [nEval, data.Pixels], device);
        _evalY = Bytes(data.EvalLabels[..nEval], [nEval], device);
    }

    private static Tensor Bytes(byte[] values, long[] shape, Device device) =>
        OptimizeeTensors.OnDevice(torch.tensor(values, shape), device).DetachFromDisposeScope();

    public string Name { get; }

    public abstract IReadOnlyList<long[]> ParameterShapes { get; }

    /// <summary>Fan-in of each parameter tensor (for fan-in initialisation).</summary>
    protected abstract IReadOnlyList<long> FanIns { get; }

    /// <summary>Logits [B, classes] for pixels x [B, rows·columns].</summary>
    protected abstract Tensor Logits(IReadOnlyList<Tensor> parameters, Tensor x);

    /// <summary>Logits [P, B, classes] for P stacked parameter sets on the shared pixels x [B, rows·columns].</summary>
    protected abstract Tensor PopulationLogits(IReadOnlyList<Tensor> stacked, Tensor x);

    public IReadOnlyList<Tensor> InitialParameters() => OptimizeeTensors.Initial(ParameterShapes, FanIns, _init, _seed, Device);

    public Tensor Loss(IReadOnlyList<Tensor> parameters, int step)
    {
        var (x, y) = Batch(step);
        return nn.functional.cross_entropy(Logits(parameters, x), y);
    }

    public Tensor PopulationLoss(IReadOnlyList<Tensor> stackedParameters, int step)
    {
        OptimizeeTensors.CheckStacked(stackedParameters, ParameterShapes, Name);
        var (x, y) = Batch(step);
        var logits = PopulationLogits(stackedParameters, x);
        long p = logits.shape[0], b = logits.shape[1];
        var perExample = nn.functional.cross_entropy(logits.reshape(p * b, -1), y.repeat(p), reduction: nn.Reduction.None);
        return perExample.view(p, b).mean([1L]);
    }

    public OptimizeeEvaluation Evaluate(IReadOnlyList<Tensor> parameters)
    {
        using var _ = torch.no_grad();
        double lossSum = 0, correct = 0;
        long n = _evalY.shape[0];
        for (long start = 0; start < n; start += EvalChunk)
        {
            using var scope = torch.NewDisposeScope();
            long len = Math.Min(EvalChunk, n - start);
            var x = Scale(_evalX.narrow(0, start, len));
            var y = _evalY.narrow(0, start, len).to_type(ScalarType.Int64);
            var logits = Logits(parameters, x);
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).item<double>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        return new(lossSum / n, correct / n);
    }

    private (Tensor X, Tensor Y) Batch(int step)
    {
        var idx = OptimizeeTensors.BatchIndices(_seed, step, (int)_trainY.shape[0], _batch);
        var index = torch.tensor(idx, device: Device);
        return (Scale(_trainX.index_select(0, index)), _trainY.index_select(0, index).to_type(ScalarType.Int64));
    }

    private static Tensor Scale(Tensor pixels) => pixels.to_type(ScalarType.Float32).DivideInPlace(255f).PlusInPlace(-0.5f);

    public void Dispose()
    {
        _trainX.Dispose();
        _trainY.Dispose();
        _evalX.Dispose();
        _evalY.Dispose();
    }
}
