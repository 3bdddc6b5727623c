using BenchmarkDotNet.Attributes;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;

namespace L2OEvolve.Benchmarks;

/// <summary>
/// One RNNprop 2×20 network step on the meta-training benchmark's shape (15,910 coordinates of mlp-mnist-dm), as
/// meta-training runs it: features, Linear+ELU, two LSTM cells, head and tanh, recorded and backpropagated from
/// Σ u + Σ h' + Σ c'. The fused kernel (one node for the whole step) beside libtorch's modules (the baseline),
/// one libtorch thread. <c>./run.sh bench --filter '*TeacherStep*'</c>
/// </summary>
[Config(typeof(InProcessShortRun))]
[MemoryDiagnoser(displayGenColumns: false)]
public class TeacherStepBenchmarks
{
    private const long Rows = 15_910;
    private TeacherNet _net = null!;
    private TeacherState _state = null!;
    private Tensor _g = null!;

    [Params(LstmKernel.Fused, LstmKernel.LibTorch)]
    public LstmKernel Kernel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchSetup.PrepareNativeRuntime();
        TorchSetup.SetThreads(1);
        var rng = new Rng(1);
        _net = new TeacherNet(TeacherConfig.Preset("rnnprop"), ref rng) { Kernel = Kernel };
        manual_seed(1);
        _g = randn(Rows) * 0.01;
        var s = _net.InitialState(Rows, CPU);
        // States that require gradients, as inside a meta-training window.
        _state = new TeacherState(s.Features, new LstmState([.. s.Lstm.H.Select(h => (randn_like(h) * 0.1).requires_grad_(true))],
            [.. s.Lstm.C.Select(c => (randn_like(c) * 0.1).requires_grad_(true))]));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _net.Dispose(); _state.Dispose(); _g.Dispose();
    }

    [Benchmark(Description = "step forward + backward")]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        var (u, next) = _net.Step(_g, _state, 3);
        var loss = u.sum();
        foreach (var t in next.Lstm.Tensors()) loss = loss + t.sum();
        loss.backward();
    }

    [Benchmark(Description = "step forward (no grad)")]
    public void Evaluate()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _net.Step(_g, _state, 3);
    }
}
