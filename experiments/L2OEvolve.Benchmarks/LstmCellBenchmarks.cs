using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Teachers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace L2OEvolve.Benchmarks;

/// <summary>
/// One coordinate-wise LSTM cell step on the meta-training benchmark's shape (15,910 coordinates of mlp-mnist-dm,
/// input and hidden width 20), the fused cell beside libtorch's <c>LSTMCell</c> (the baseline), one libtorch thread:
/// forward with autograd recording, forward and backward, and the forward alone as evaluation runs it.
/// <c>./run.sh bench --filter '*LstmCell*'</c>
/// </summary>
/// <remarks>
/// In process: BenchmarkDotNet's generated child project would lack the build's native libtorch fix
/// (build/torchsharp-fix.sh), and a cell step is milliseconds long, so the in-process harness costs nothing.
/// </remarks>
[Config(typeof(InProcessShortRun))]
[MemoryDiagnoser(displayGenColumns: false)]
public class LstmCellBenchmarks
{
    private const long Rows = 15_910;
    private LSTMCell _cell = null!;
    private Tensor _x = null!, _h = null!, _c = null!;

    [Params(LstmKernel.Fused, LstmKernel.LibTorch)]
    public LstmKernel Kernel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchSetup.PrepareNativeRuntime();
        TorchSetup.SetThreads(1);
        manual_seed(1);
        _cell = nn.LSTMCell(20, 20);
        _x = randn(Rows, 20).requires_grad_(true);
        _h = randn(Rows, 20);
        _c = randn(Rows, 20);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cell.Dispose(); _x.Dispose(); _h.Dispose(); _c.Dispose();
    }

    private (Tensor H, Tensor C) Step() =>
        Kernel == LstmKernel.Fused ? FusedLstmCell.Step(_cell, _x, _h, _c) : _cell.call(_x, (_h, _c));

    [Benchmark(Description = "forward (recording)")]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        Step();
    }

    [Benchmark(Description = "forward + backward")]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        var (h, c) = Step();
        (h.sum() + c.sum()).backward();
    }

    [Benchmark(Description = "forward (no grad)")]
    public void Evaluate()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Step();
    }
}

/// <summary>BenchmarkDotNet's short run, in the benchmark's own process.</summary>
public sealed class InProcessShortRun : ManualConfig
{
    public InProcessShortRun() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
}
