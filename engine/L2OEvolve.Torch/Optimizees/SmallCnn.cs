using L2OEvolve.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// A small convolutional classifier on MNIST-format images, after the paper's small CNN (docs/symbolic-l2o.md, 'Optimizees and data'):
/// conv(1→6, 3×3) ReLU maxpool 2 → conv(6→12, 3×3) ReLU maxpool 2 → linear(→classes). Parameters: the two conv
/// kernels and biases, then W [features, classes] and b.
/// </summary>
/// <remarks>
/// PopulationLoss runs the P copies as grouped convolutions (groups = P: the input repeated P times along the channel
/// axis, the P kernels concatenated), so each layer is one kernel call rather than a loop over copies.
/// </remarks>
public sealed class SmallCnnFamily(string name, OptimizeeOptions options) : IOptimizeeFamily
{
    private readonly Lazy<MnistData> _data = new(() => MnistData.Load(options.DataDir));

    public string Name => name;

    /// <summary>The data set, loaded on first use and shared by every instance of this family.</summary>
    public MnistData Data => _data.Value;

    public IOptimizee Create(long seed, Device device)
    {
        // oneDNN's convolution input gradient is wrong for these channel counts on some CPUs (see the method).
        TorchSetup.UseAtenConvolutions();
        return new SmallCnn(name, Data, options, seed, device);
    }
}

internal sealed class SmallCnn : ImageClassifier
{
    private const int C1 = 6, C2 = 12, K = 3;
    private readonly long _features;

    internal SmallCnn(string name, MnistData data, OptimizeeOptions options, long seed, Device device)
        : base(name, data, options, seed, device)
    {
        long h = ((data.Rows - K + 1) / 2 - K + 1) / 2, w = ((data.Columns - K + 1) / 2 - K + 1) / 2;
        if (h < 1 || w < 1) throw new ArgumentException($"{name}: images of {data.Rows}×{data.Columns} are too small for two 3×3 conv + pool layers");
        _features = C2 * h * w;
        ParameterShapes =
        [
            [C1, 1, K, K], [C1],
            [C2, C1, K, K], [C2],
            [_features, data.Classes], [data.Classes],
        ];
        FanIns = [K * K, K * K, C1 * K * K, C1 * K * K, _features, _features];
    }

    public override IReadOnlyList<long[]> ParameterShapes { get; }

    protected override IReadOnlyList<long> FanIns { get; }

    protected override Tensor Logits(IReadOnlyList<Tensor> p, Tensor x)
    {
        var img = x.view(-1, 1, Data.Rows, Data.Columns);
        var h1 = nn.functional.max_pool2d(nn.functional.conv2d(img, p[0], p[1]).relu_(), 2);
        var h2 = nn.functional.max_pool2d(nn.functional.conv2d(h1, p[2], p[3]).relu_(), 2);
        return h2.flatten(1).matmul(p[4]).PlusInPlace(p[5]);
    }

    protected override Tensor PopulationLogits(IReadOnlyList<Tensor> s, Tensor x)
    {
        long pop = s[0].shape[0];
        long b = x.shape[0];
        var img = x.view(-1, 1, Data.Rows, Data.Columns).expand(-1, pop, -1, -1);
        var h1 = nn.functional.max_pool2d(
            nn.functional.conv2d(img, s[0].reshape(pop * C1, 1, K, K), s[1].reshape(pop * C1), groups: pop).relu_(), 2);
        var h2 = nn.functional.max_pool2d(
            nn.functional.conv2d(h1, s[2].reshape(pop * C2, C1, K, K), s[3].reshape(pop * C2), groups: pop).relu_(), 2);
        // [B, P·C2, h, w] -> [P, B, features], matching the per-copy flatten order (channel, row, column).
        var features = h2.reshape(b, pop, _features).transpose(0, 1);
        return features.bmm(s[4]).PlusInPlace(s[5].unsqueeze(1));
    }
}
