using L2OEvolve.Engine.Compilation;
using System.Runtime.InteropServices;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rules;

/// <summary>How a rule is executed.</summary>
public enum RuleBackend
{
    /// <summary>The fused kernel on the CPU, the operator chain elsewhere.</summary>
    Auto,
    /// <summary>One fused pass over the tensors' memory (CPU, float32, contiguous only).</summary>
    Fused,
    /// <summary>A chain of TorchSharp operators (any device).</summary>
    OpChain,
}

/// <summary>
/// Runs a symbolic rule as a coordinate-wise optimizer: <c>θ ← θ + rule(features)</c>, keeping exactly the state
/// the rule needs. A step whose updated parameters are not finite marks the run <see cref="Diverged"/> (the
/// update is still applied, so the optimizee's loss shows it too); nothing throws.
/// </summary>
public sealed class RuleOptimizer : IParameterOptimizer
{
    private readonly StepPlan _plan;
    private readonly float[][] _fusedState = [];
    private readonly float[] _workspace = [];
    private readonly Tensor[][] _tensorState = [];
    private int _lastStep;

    /// <summary>Creates the optimizer for parameters of <paramref name="shapes"/> on <paramref name="device"/>.</summary>
    public RuleOptimizer(string name, RuleProgram program, IReadOnlyList<long[]> shapes, Device device, RuleBackend backend = RuleBackend.Auto)
    {
        Name = name;
        Program = program;
        Backend = backend == RuleBackend.Auto ? (device.type == DeviceType.CPU ? RuleBackend.Fused : RuleBackend.OpChain) : backend;
        if (Backend == RuleBackend.Fused && device.type != DeviceType.CPU)
            throw new ArgumentException($"rule '{name}': the fused backend runs on the CPU only, not on {device}");
        _plan = program.NewPlan();
        if (Backend == RuleBackend.Fused)
        {
            _fusedState = shapes.Select(s => new float[checked((int)(Numel(s) * program.StateSlots))]).ToArray();
            _workspace = new float[FusedKernel.WorkspaceFloats(program)];
        }
        else
        {
            _tensorState = shapes.Select(s => Enumerable.Range(0, program.StateSlots)
                .Select(_ => zeros(s, ScalarType.Float32, device).DetachFromDisposeScope()).ToArray()).ToArray();
        }
    }

    /// <summary>A factory compiling <paramref name="rule"/> once and giving each run fresh state.</summary>
    public static ParameterOptimizerFactory Factory(string name, Expr rule, FeatureSettings? settings = null, RuleBackend backend = RuleBackend.Auto)
    {
        var program = RuleProgram.Compile(rule, settings);
        return (shapes, device) => new RuleOptimizer(name, program, shapes, device, backend);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The compiled rule.</summary>
    public RuleProgram Program { get; }

    /// <summary>The backend in use (never <see cref="RuleBackend.Auto"/>).</summary>
    public RuleBackend Backend { get; }

    /// <inheritdoc/>
    public double StateFloatsPerParameter => Program.StateSlots;

    /// <summary>True once a step produced a non-finite parameter.</summary>
    public bool Diverged => DivergedAtStep is not null;

    /// <summary>The first step whose update gave a non-finite parameter.</summary>
    public int? DivergedAtStep { get; private set; }

    /// <inheritdoc/>
    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        if (parameters.Count != gradients.Count)
            throw new ArgumentException($"{parameters.Count} parameters but {gradients.Count} gradients");
        if (step != _lastStep + 1)
            throw new ArgumentException($"rule '{Name}': steps must be consecutive from 1 (got {step} after {_lastStep}); lags and bias corrections count them");
        _lastStep = step;
        Program.Fill(_plan, step);
        bool finite = Backend == RuleBackend.Fused ? StepFused(parameters, gradients) : StepOpChain(parameters, gradients);
        if (!finite && DivergedAtStep is null) DivergedAtStep = step;
    }

    private unsafe bool StepFused(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients)
    {
        using var scope = NewDisposeScope();
        bool finite = true;
        for (int k = 0; k < parameters.Count; k++)
        {
            var p = parameters[k];
            if (p.dtype != ScalarType.Float32 || !p.is_contiguous() || p.device_type != DeviceType.CPU)
                throw new ArgumentException($"rule '{Name}': the fused backend needs contiguous float32 CPU parameters (parameter {k} is {p.dtype} on {p.device})");
            // A parameter the loss does not reach has no gradient: it sees zeros (its state still advances).
            var g = gradients[k] ?? zeros_like(p);
            if (g.dtype != ScalarType.Float32 || !g.is_contiguous()) g = g.to(ScalarType.Float32).contiguous();
            if (g.numel() != p.numel() || p.numel() * Program.StateSlots != _fusedState[k].Length)
                throw new ArgumentException($"rule '{Name}': parameter {k} has {p.numel()} elements, expected {_fusedState[k].Length / Math.Max(1, Program.StateSlots)}");
            fixed (float* pp = MemoryMarshal.Cast<byte, float>(p.bytes))
            fixed (float* gp = MemoryMarshal.Cast<byte, float>(g.bytes))
            fixed (float* sp = _fusedState[k])
            {
                finite &= FusedKernel.Apply(Program, _plan, pp, gp, sp, p.numel(), _workspace);
            }
        }
        return finite;
    }

    private bool StepOpChain(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sums = new List<Tensor>(parameters.Count);
        for (int k = 0; k < parameters.Count; k++)
        {
            var old = _tensorState[k];
            var (update, next) = OpChainKernel.Evaluate(Program, _plan, gradients[k] ?? zeros_like(parameters[k]), old, parameters[k]);
            parameters[k].PlusInPlace(update);
            // A sum is finite only when every term is (or it overflowed: parameters near 1e38 count as diverged too).
            sums.Add(parameters[k].sum());
            for (int i = 0; i < next.Length; i++)
            {
                if (ReferenceEquals(next[i], old[i])) continue;
                next[i].DetachFromDisposeScope();
                old[i].Dispose();
            }
            _tensorState[k] = next;
        }
        return sums.Count == 0 || stack(sums).sum().isfinite().item<bool>();
    }

    private static long Numel(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var slots in _tensorState)
            foreach (var t in slots) t.Dispose();
    }
}
