using System.Collections.Immutable;
using L2OEvolve.Engine.Random;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace L2OEvolve.Torch.Teachers;

/// <summary>The recurrent state of every LSTM layer, each [N, hidden]; immutable.</summary>
public sealed record LstmState(ImmutableArray<Tensor> H, ImmutableArray<Tensor> C)
{
    /// <summary>Every tensor the state holds.</summary>
    public IEnumerable<Tensor> Tensors() => H.Concat(C);
}

/// <summary>A teacher's complete per-coordinate state: feature EMAs and LSTM (h, c).</summary>
public sealed record TeacherState(FeatureState Features, LstmState Lstm)
{
    /// <summary>Every tensor the state holds.</summary>
    public IEnumerable<Tensor> Tensors() => Features.Tensors().Concat(Lstm.Tensors());

    /// <summary>The same values cut from the autograd graph (truncation at a window boundary).</summary>
    public TeacherState Detach() => new(
        Features.Detach(),
        new LstmState([.. Lstm.H.Select(t => t.detach())], [.. Lstm.C.Select(t => t.detach())]));

    /// <summary>Moves every tensor out of the current dispose scope (so it outlives the step that made it).</summary>
    public TeacherState MoveToOuterScope()
    {
        foreach (var t in Tensors()) t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Detaches every tensor from all dispose scopes: the owner disposes it explicitly.</summary>
    public TeacherState DetachFromScopes()
    {
        foreach (var t in Tensors()) t.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors()) t.Dispose();
    }
}

/// <summary>
/// A coordinate-wise LSTM optimizer (DM, RNNprop, RP_s, RP_si): weights shared across coordinates, every
/// coordinate a row of the batch. Input features → Linear+ELU layers → stacked LSTM cells → Linear(h, 1)
/// → tanh (RNNprop family) → raw output u; the update is <see cref="TeacherConfig.OutputScale"/>·u (docs/symbolic-l2o.md, 'How a learned optimizer is applied').
/// </summary>
public sealed class TeacherNet : Module
{
    private readonly ModuleList<Linear> pre;
    private readonly ModuleList<LSTMCell> cells;
    private readonly Linear head;
    private readonly FeatureComputer _features;
    private readonly FusedTeacherStep.Layout _layout;

    /// <summary>The architecture.</summary>
    public TeacherConfig Config { get; }

    /// <summary>
    /// The kernel new networks start with: a process-wide execution setting, like libtorch's thread count
    /// (<c>--lstm-kernel</c> on the <c>teacher</c> verbs).
    /// </summary>
    public static LstmKernel DefaultKernel { get; set; } = LstmKernel.Auto;

    /// <summary>
    /// Which implementation runs the network step (preprocessing, cells and head). An execution setting, not part of
    /// the configuration: both compute the same function up to float rounding, and checkpoints from either load in
    /// the other.
    /// </summary>
    public LstmKernel Kernel { get; set; } = DefaultKernel;

    /// <summary>
    /// Where the fused step puts its outputs and saved gates (null: libtorch's allocator). An execution setting of
    /// whoever runs many windows of steps, like <see cref="Kernel"/>: the values do not depend on it.
    /// </summary>
    internal ActivationPool? Activations { get; set; }

    /// <summary>Builds the network for <paramref name="config"/> with weights drawn from <paramref name="rng"/>.</summary>
    public TeacherNet(TeacherConfig config, ref Rng rng) : base("TeacherNet")
    {
        config.Validate();
        Config = config;
        _features = new FeatureComputer(config.Features, config.Beta1, config.Beta2);
        pre = new ModuleList<Linear>();
        long width = config.InputWidth;
        foreach (var p in config.Preprocess) { pre.Add(Linear(width, p)); width = p; }
        cells = new ModuleList<LSTMCell>();
        foreach (var h in config.Hidden) { cells.Add(LSTMCell(width, h)); width = h; }
        head = Linear(width, 1);
        _layout = new FusedTeacherStep.Layout(config.InputWidth, [.. config.Preprocess], [.. config.Hidden], config.Tanh);
        RegisterComponents();
        Initialize(ref rng);
    }

    /// <summary>
    /// PyTorch's default initialisation, drawn from our generator so a seed fixes the weights without touching
    /// libtorch's global RNG: U(−1/√fan, 1/√fan), fan = input width for Linear and hidden width for LSTM cells.
    /// </summary>
    private void Initialize(ref Rng rng)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            double fan = name.StartsWith("cells", StringComparison.Ordinal)
                ? p.shape[0] / 4.0
                : name.EndsWith("weight", StringComparison.Ordinal) ? p.shape[1] : LinearFanIn(name);
            double bound = 1.0 / Math.Sqrt(fan);
            var values = new float[p.numel()];
            for (int i = 0; i < values.Length; i++) values[i] = (float)((2 * rng.NextDouble() - 1) * bound);
            using var t = tensor(values, p.shape);
            p.copy_(t);
        }
    }

    private long LinearFanIn(string biasName)
    {
        var weightName = biasName[..^"bias".Length] + "weight";
        foreach (var (n, p) in named_parameters()) if (n == weightName) return p.shape[1];
        throw new InvalidOperationException($"no weight beside {biasName}");
    }

    /// <summary>Zero state for <paramref name="n"/> coordinates.</summary>
    public TeacherState InitialState(long n, Device device) => new(
        _features.Initial(n, device),
        new LstmState([.. Config.Hidden.Select(h => zeros(n, h, device: device))], [.. Config.Hidden.Select(h => zeros(n, h, device: device))]));

    /// <summary>
    /// One step on all coordinates: <paramref name="gradient"/> [N] (detached), <paramref name="step"/> from 1.
    /// Returns the raw output u [N] (update = OutputScale·u) and the next state. The output carries the autograd
    /// graph back to the weights through the LSTM state (meta-training); wrap in no_grad to evaluate.
    /// </summary>
    public (Tensor Raw, TeacherState Next) Step(Tensor gradient, TeacherState state, int step)
    {
        var (features, nextFeatures) = _features.Step(gradient, state.Features, step);
        var x = Config.LogAndSign ? LogAndSign(gradient.detach()) : features;
        if (UsesFusedCells(x))
        {
            var (raw, h, c) = FusedTeacherStep.Step(_layout, x, state.Lstm.H, state.Lstm.C, FusedWeights(), Activations);
            return (raw, new TeacherState(nextFeatures, new LstmState([.. h], [.. c])));
        }
        foreach (var l in pre) x = l.call(x).elu(TorchScalars.One, TorchScalars.One, TorchScalars.One);
        var hs = new Tensor[cells.Count];
        var cs = new Tensor[cells.Count];
        for (int i = 0; i < cells.Count; i++)
        {
            (hs[i], cs[i]) = cells[i].call(x, (state.Lstm.H[i], state.Lstm.C[i]));
            x = hs[i];
        }
        var u = head.call(x).squeeze(-1);
        if (Config.Tanh) u = u.tanh();
        return (u, new TeacherState(nextFeatures, new LstmState([.. hs], [.. cs])));
    }

    // The weights in the order FusedTeacherStep reads them.
    private Tensor[] FusedWeights()
    {
        Tensor Must(Tensor? t, string what) => t ?? throw new InvalidOperationException($"the fused teacher step needs {what}");
        var list = new List<Tensor>(_layout.WeightCount);
        foreach (var l in pre) { list.Add(l.weight!); list.Add(Must(l.bias, "biases")); }
        foreach (var cell in cells)
        {
            list.Add(Must(cell.weight_ih, "LSTM input weights")); list.Add(Must(cell.weight_hh, "LSTM hidden weights"));
            list.Add(Must(cell.bias_ih, "LSTM biases")); list.Add(Must(cell.bias_hh, "LSTM biases"));
        }
        list.Add(head.weight!); list.Add(Must(head.bias, "biases"));
        return [.. list];
    }

    private bool UsesFusedCells(Tensor x) => Kernel switch
    {
        LstmKernel.LibTorch => false,
        LstmKernel.Fused => FusedLstmCell.Supports(x)
            ? true
            : throw new InvalidOperationException($"the fused LSTM kernel runs on float32 CPU tensors, not {x.dtype} on {x.device}"),
        _ => FusedLstmCell.Supports(x),
    };

    // TF's LogAndSign with k = 5 (docs/symbolic-l2o.md, 'Teachers'): [max(log(|g|+ε)/5, −1), clip(g·e⁵, −1, 1)], ε = float32 machine epsilon.
    private static Tensor LogAndSign(Tensor g)
    {
        using var _ = no_grad();
        using Scalar five = 5.0.ToScalar(), minusOne = (-1.0).ToScalar(), one = 1.0.ToScalar();
        var log = g.abs().PlusInPlace(1.1920929e-7f).log().div(five).clamp_min(minusOne);
        var sign = g.Times(Math.Exp(5.0)).clamp(minusOne, one);
        return stack([log, sign], dim: 1);
    }

    /// <summary>The weights in registration order.</summary>
    public IReadOnlyList<Parameter> Weights() => [.. parameters()];
}
