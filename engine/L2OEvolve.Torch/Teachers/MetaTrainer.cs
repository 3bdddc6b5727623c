using System.Diagnostics;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Optimizees;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>Where meta-training time went, in seconds: optimizee loss and gradient, teacher forward, meta-backward, meta-optimizer.</summary>
public readonly record struct MetaTimings(double Optimizee, double Teacher, double MetaBackward, double MetaOptimizer, int Unrolls)
{
    /// <summary>A one-line breakdown per unroll.</summary>
    public override string ToString()
    {
        double total = Optimizee + Teacher + MetaBackward + MetaOptimizer, n = Math.Max(1, Unrolls);
        string P(double x) => total > 0 ? $"{x / n:F4} s ({100 * x / total:F0}%)" : "0";
        return $"per unroll {total / n:F4} s = optimizee fwd+grad {P(Optimizee)} + teacher fwd {P(Teacher)} + meta-backward {P(MetaBackward)} + meta-Adam {P(MetaOptimizer)} over {Unrolls} meta-training unrolls";
    }
}

/// <summary>What one epoch did: its kind, mean loss per meta-update window and wall time per unroll.</summary>
public readonly record struct EpochRecord(int Epoch, string Kind, int Steps, double MetaLoss, double SecondsPerUnroll, double? EvalCost);

/// <summary>
/// Meta-trains a teacher by truncated backpropagation through unrolled optimisation (docs/symbolic-l2o.md,
/// 'Meta-training'), with optional imitation of Adam, curriculum and random scaling; checkpoints after every epoch so an
/// interrupted run resumes to the same weights it would have reached.
/// </summary>
/// <remarks>
/// <code>
/// for epoch e (randomness: Rng(seed).Fork(e)):
///   imitation if e &lt; warm-up or with probability p, else:
///   θ₁ ← init of a fresh optimizee (new seed); g₁ ← ∇f(θ₁; batch 1); state ← 0
///   for each window of U steps:
///     L ← 0
///     for k in window: u, state ← net(detach(g_k), state); θ_{k+1} ← θ_k + 0.01·u
///                      ℓ_{k+1} ← f(θ_{k+1}; batch k+1); L += ℓ_{k+1}; g_{k+1} ← detach(∇ℓ_{k+1})
///     ∂L/∂weights; Adam step; detach θ and state (truncation)
/// </code>
/// The meta-loss sums the losses at θ_{k+1}, after each update, so every update of the window is scored (the
/// torch code's extra term at θ_k leaves the last update unscored: docs/symbolic-l2o.md, 'Where the reference code goes wrong', item 1; this matches TF's sum up to
/// its constant x₀ term). ℓ_{k+1} doubles as the loss whose gradient drives the next step, so each step costs one
/// optimizee forward and backward, as in the paper. Gradients fed to the network are detached: no second-order terms.
/// </remarks>
public sealed class MetaTrainer : IDisposable
{
    private readonly IOptimizeeFamily _family;
    private readonly Device _device;
    private readonly MetaAdam _meta, _imitation;
    private readonly ActivationPool _activations = new();
    private long _activationRows = -1;
    private TrainingProgress _progress;

    /// <summary>The network being trained.</summary>
    public TeacherNet Net { get; }

    /// <summary>Training settings.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Where checkpoints go (null: no checkpoints).</summary>
    public string? Directory { get; }

    /// <summary>Time split of the meta-training (not imitation) unrolls run by this instance.</summary>
    public MetaTimings Timings { get; private set; }

    /// <summary>Progress so far (epochs done, curriculum state, history).</summary>
    public TrainingProgress Progress => _progress;

    private MetaTrainer(TeacherNet net, TrainingOptions options, IOptimizeeFamily family, Device device, string? directory, TrainingProgress progress)
    {
        Net = net; Options = options; _family = family; _device = device; Directory = directory; _progress = progress;
        NativeHeap.KeepFreedMemory();
        // Every window allocates the same step tensors: the first window's memory serves all later ones.
        net.Activations = _activations;
        _meta = new MetaAdam(net.Weights(), options.MetaLr);
        _imitation = new MetaAdam(net.Weights(), options.MetaLr);
    }

    /// <summary>A new training run (weights drawn from the seed). With a directory, its configuration is written at once.</summary>
    public static MetaTrainer Start(TeacherConfig config, TrainingOptions options, IOptimizeeFamily family, Device device, string? directory)
    {
        options.Validate();
        var rng = new Rng(options.Seed).Fork(0);
        var net = new TeacherNet(config, ref rng);
        net.to(device);
        var trainer = new MetaTrainer(net, options, family, device, directory, TrainingProgress.Initial);
        if (directory is not null) TeacherStore.WriteConfig(directory, config, options);
        return trainer;
    }

    /// <summary>Continues the run checkpointed in <paramref name="directory"/>.</summary>
    public static MetaTrainer Resume(string directory, IOptimizeeFamily family, Device device)
    {
        // A published folder has config.json but no checkpoint: "resuming" it would train from scratch over it.
        if (TeacherStore.IsPublished(directory))
            throw new ArgumentException($"{directory}: a published teacher, not a training run; train into another directory (its recipe.sh rebuilds it)");
        var (config, options) = TeacherStore.ReadConfig(directory);
        var rng = new Rng(options.Seed).Fork(0);
        var net = new TeacherNet(config, ref rng);
        net.to(device);
        var progress = TeacherStore.ReadProgress(directory);
        var trainer = new MetaTrainer(net, options, family, device, directory, progress);
        if (progress.Epoch > 0) TeacherStore.LoadCheckpoint(directory, progress, net, trainer._meta, trainer._imitation);
        return trainer;
    }

    /// <summary>
    /// Trains until all epochs are done, the curriculum stops, <paramref name="maxEpochs"/> more epochs ran or
    /// <paramref name="ct"/> fires (between epochs). Progress lines go to <paramref name="log"/>.
    /// </summary>
    public TrainingProgress Run(TextWriter? log = null, int? maxEpochs = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        int ran = 0;
        int startEpoch = _progress.Epoch;
        if (Options.UsesCurriculum && _progress.Epoch == 0 && double.IsPositiveInfinity(_progress.Curriculum.Best))
        {
            // Baseline of the first stage before any training (the reference curriculum evaluates before its first epoch).
            var (baseline, _) = _progress.Curriculum.After(EvaluationCost(0), Options.CurriculumPatience, Options.Curriculum.Length);
            _progress = _progress with { Curriculum = baseline, BestWeights = TeacherStore.Snapshot(Net) };
        }
        while (_progress.Epoch < Options.Epochs && !_progress.Curriculum.Stopped && (maxEpochs is null || ran < maxEpochs) && !ct.IsCancellationRequested)
        {
            int epoch = _progress.Epoch;
            var rng = new Rng(Options.Seed).Fork(1000 + (ulong)epoch);
            // The draw is made even in the warm-up so later epochs see the same randomness with or without it.
            bool imitate = rng.NextBool(Options.Imitation) | epoch < Options.ImitationWarmup;
            long optimizeeSeed = (long)(rng.NextUInt64() >> 1);
            int steps = Options.UsesCurriculum ? Options.Curriculum[_progress.Curriculum.Stage] : Options.Steps;
            var epochClock = Stopwatch.StartNew();
            double loss;
            using (var optimizee = _family.Create(optimizeeSeed, _device))
            {
                // A mixture's optimizees differ in size: the step tensors of the last size would only sit idle.
                long rows = new FlatParameters(optimizee.ParameterShapes).Count;
                if (rows != _activationRows) { _activations.ReleaseFree(); _activationRows = rows; }
                loss = imitate ? ImitationEpoch(optimizee, steps) : MetaEpoch(optimizee, steps, ref rng);
            }
            double perUnroll = epochClock.Elapsed.TotalSeconds / (steps / Options.Unroll);
            var curriculum = _progress.Curriculum;
            double? evalCost = null;
            if (Options.UsesCurriculum && (epoch + 1) % Options.CurriculumEvalEvery == 0)
                (curriculum, evalCost) = CurriculumStep(curriculum);
            var record = new EpochRecord(epoch + 1, imitate ? "imitation" : "meta", steps, loss, perUnroll, evalCost);
            _progress = _progress with { Epoch = epoch + 1, Curriculum = curriculum, History = _progress.History.Add(record) };
            if (Directory is not null) TeacherStore.WriteCheckpoint(Directory, _progress, Net, _meta, _imitation);
            ran++;
            log?.WriteLine(ProgressLine(record, clock.Elapsed, ran, Options.Epochs - startEpoch));
        }
        return _progress;
    }

    private string ProgressLine(EpochRecord r, TimeSpan elapsed, int ran, int total)
    {
        var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / ran * Math.Max(0, total - ran));
        var eval = r.EvalCost is { } c ? $" eval {c:G5}" : "";
        var stage = Options.UsesCurriculum ? $" stage {_progress.Curriculum.Stage}{(_progress.Curriculum.Stopped ? " (stopped)" : "")}" : "";
        return $"teacher: epoch {r.Epoch}/{Options.Epochs} {r.Kind,-9} steps {r.Steps} meta-loss {r.MetaLoss:G5} {r.SecondsPerUnroll:F3} s/unroll{eval}{stage} elapsed {elapsed:hh\\:mm\\:ss} eta {eta:hh\\:mm\\:ss}";
    }

    /// <summary>One truncated-BPTT epoch; returns the mean meta-loss per window (sum over its U steps), NaN if it diverged.</summary>
    private double MetaEpoch(IOptimizee optimizee, int steps, ref Rng rng)
    {
        var layout = new FlatParameters(optimizee.ParameterShapes);
        Tensor? scale = null;
        Tensor theta, g; TeacherState state;
        using (NewDisposeScope())
        {
            var init = FlatParameters.Flatten(optimizee.InitialParameters()).to(_device).detach();
            if (Options.RandomScale > 0)
            {
                // Random scaling (TF --if_scale): θ = φ·r with r = exp(U(−b, b)) per coordinate; the teacher optimises φ.
                var r = new float[layout.Count];
                for (int i = 0; i < r.Length; i++) r[i] = (float)Math.Exp((2 * rng.NextDouble() - 1) * Options.RandomScale);
                scale = tensor(r, device: _device).DetachFromDisposeScope();
                init = init / scale;
            }
            theta = init.DetachFromDisposeScope();
            state = Net.InitialState(layout.Count, _device).DetachFromScopes();
            g = Gradient(optimizee, layout, theta, scale, 1).DetachFromDisposeScope();
        }
        double total = 0; int windows = 0;
        try
        {
            for (int w = 0; w < steps / Options.Unroll; w++)
            {
                using var window = NewDisposeScope();
                Tensor th = theta, gk = g; var st = state;
                Tensor metaLoss = zeros(1, device: _device);
                double tTeacher = 0, tOptimizee = 0;
                for (int j = 0; j < Options.Unroll; j++)
                {
                    int k = w * Options.Unroll + j + 1;
                    // Intermediates die with the step: the autograd graph keeps what the meta-backward needs, and
                    // freeing the rest at once lets the allocator reuse memory (keeping a window's worth alive made
                    // every step fault in fresh pages).
                    using var stepScope = NewDisposeScope();
                    long a = Stopwatch.GetTimestamp();
                    var (u, next) = Net.Step(gk, st, k);
                    var thNext = th.Plus(u.Times(Net.Config.OutputScale));
                    long b = Stopwatch.GetTimestamp();
                    var loss = optimizee.Loss(layout.Views(scale is null ? thNext : thNext * scale), k + 1);
                    var metaNext = metaLoss.Plus(loss);
                    var gNext = autograd.grad([loss], [thNext], retain_graph: true)[0].detach();
                    tTeacher += Stopwatch.GetElapsedTime(a, b).TotalSeconds;
                    tOptimizee += Stopwatch.GetElapsedTime(b).TotalSeconds;
                    thNext.MoveToOuterDisposeScope(); metaNext.MoveToOuterDisposeScope(); gNext.MoveToOuterDisposeScope();
                    next.MoveToOuterScope();
                    if (j > 0) { th.Dispose(); gk.Dispose(); st.Dispose(); }
                    metaLoss.Dispose();
                    (th, gk, st, metaLoss) = (thNext, gNext, next, metaNext);
                }
                double value = metaLoss.item<float>();
                if (!double.IsFinite(value)) return double.NaN;
                _meta.ZeroGrad();
                long c = Stopwatch.GetTimestamp();
                metaLoss.backward();
                double tBackward = Stopwatch.GetElapsedTime(c).TotalSeconds;
                c = Stopwatch.GetTimestamp();
                if (!_meta.GradientsFinite()) return double.NaN;
                _meta.Step();
                var tm = Timings;
                Timings = new MetaTimings(tm.Optimizee + tOptimizee, tm.Teacher + tTeacher, tm.MetaBackward + tBackward,
                    tm.MetaOptimizer + Stopwatch.GetElapsedTime(c).TotalSeconds, tm.Unrolls + 1);
                total += value; windows++;
                theta.Dispose(); g.Dispose(); state.Dispose();
                theta = th.detach().DetachFromDisposeScope();
                g = gk.DetachFromDisposeScope();
                state = st.Detach().DetachFromScopes();
            }
        }
        finally
        {
            theta.Dispose(); g.Dispose(); state.Dispose(); scale?.Dispose();
        }
        return total / windows;
    }

    /// <summary>
    /// One imitation epoch (docs/symbolic-l2o.md, 'Meta-training'): Adam(lr, 0.9, 0.999) trains a fresh optimizee; the teacher, fed Adam's
    /// gradients (teacher forcing), regresses its update onto Adam's step with loss 0.5·Σ(Δ−δ)²/N per step, summed
    /// over each window, minimised by a separate Adam. Returns the mean window loss.
    /// </summary>
    private double ImitationEpoch(IOptimizee optimizee, int steps)
    {
        var layout = new FlatParameters(optimizee.ParameterShapes);
        const double b1 = 0.9, b2 = 0.999;
        Tensor theta, m, v; TeacherState state;
        using (NewDisposeScope())
        {
            theta = FlatParameters.Flatten(optimizee.InitialParameters()).to(_device).detach().DetachFromDisposeScope();
            m = zeros(layout.Count, device: _device).DetachFromDisposeScope();
            v = zeros(layout.Count, device: _device).DetachFromDisposeScope();
            state = Net.InitialState(layout.Count, _device).DetachFromScopes();
        }
        double total = 0; int windows = 0;
        try
        {
            for (int w = 0; w < steps / Options.Unroll; w++)
            {
                using var window = NewDisposeScope();
                var st = state;
                Tensor loss = zeros(1, device: _device);
                for (int j = 0; j < Options.Unroll; j++)
                {
                    int k = w * Options.Unroll + j + 1;
                    using var stepScope = NewDisposeScope();
                    var g = Gradient(optimizee, layout, theta, null, k);
                    Tensor delta;
                    using (no_grad())
                    {
                        using var oneMinusB2 = (1 - b2).ToScalar();
                        m.TimesInPlace(b1).AddScaledInPlace(g, 1 - b1);
                        v.TimesInPlace(b2).addcmul_(g, g, oneMinusB2);
                        delta = m.DividedBy(1 - Math.Pow(b1, k)).Times(-Options.ImitationTeacherLr)
                            .div(v.DividedBy(1 - Math.Pow(b2, k)).sqrt().Plus(1e-8));
                        theta.PlusInPlace(delta);
                    }
                    var (u, next) = Net.Step(g, st, k);
                    var lossNext = loss.Plus(delta.sub(u.Times(Net.Config.OutputScale)).Squared().sum().Times(0.5).DividedBy(layout.Count));
                    lossNext.MoveToOuterDisposeScope();
                    next.MoveToOuterScope();
                    if (j > 0) st.Dispose();
                    loss.Dispose();
                    (st, loss) = (next, lossNext);
                }
                double value = loss.item<float>();
                if (!double.IsFinite(value)) return double.NaN;
                _imitation.ZeroGrad();
                loss.backward();
                if (!_imitation.GradientsFinite()) return double.NaN;
                _imitation.Step();
                total += value; windows++;
                state.Dispose();
                state = st.Detach().DetachFromScopes();
            }
        }
        finally
        {
            theta.Dispose(); m.Dispose(); v.Dispose(); state.Dispose();
        }
        return total / windows;
    }

    private Tensor Gradient(IOptimizee optimizee, FlatParameters layout, Tensor theta, Tensor? scale, int step)
    {
        using var scope = NewDisposeScope();
        var leaf = theta.detach().requires_grad_(true);
        var loss = optimizee.Loss(layout.Views(scale is null ? leaf : leaf * scale), step);
        return autograd.grad([loss], [leaf])[0].detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Evaluates at the next stage's horizon and applies the curriculum rule. On advancing, the stage's best
    /// weights are restored and a new baseline is evaluated at the new horizon (docs/symbolic-l2o.md, 'Meta-training').
    /// </summary>
    private (CurriculumState, double) CurriculumStep(CurriculumState s)
    {
        double cost = EvaluationCost(s.Stage);
        var (next, decision) = s.After(cost, Options.CurriculumPatience, Options.Curriculum.Length);
        switch (decision)
        {
            case CurriculumState.Decision.SavedBest:
                _progress = _progress with { BestWeights = TeacherStore.Snapshot(Net) };
                break;
            case CurriculumState.Decision.Advance:
                if (_progress.BestWeights is { } best) TeacherStore.Restore(Net, best);
                (next, _) = next.After(EvaluationCost(next.Stage), Options.CurriculumPatience, Options.Curriculum.Length);
                _progress = _progress with { BestWeights = TeacherStore.Snapshot(Net) };
                break;
            case CurriculumState.Decision.Stop:
                if (_progress.BestWeights is { } b) TeacherStore.Restore(Net, b);
                break;
        }
        return (next, cost);
    }

    /// <summary>Mean over fixed evaluation seeds of the summed training loss over the next stage's horizon (+∞ if any run diverges).</summary>
    public double EvaluationCost(int stage)
    {
        int horizon = Options.Curriculum[Math.Min(stage + 1, Options.Curriculum.Length - 1)];
        var evalRng = new Rng(Options.Seed).Fork(7);
        double sum = 0;
        for (int i = 0; i < Options.CurriculumEvalRuns; i++)
        {
            long seed = (long)(evalRng.Fork((ulong)i).NextUInt64() >> 1);
            using var optimizee = _family.Create(seed, _device);
            sum += Rollout.Losses(Net, optimizee, horizon, _device).Sum();
        }
        return double.IsFinite(sum) ? sum / Options.CurriculumEvalRuns : double.PositiveInfinity;
    }

    public void Dispose()
    {
        _meta.Dispose(); _imitation.Dispose();
        Net.Activations = null;
        Net.Dispose();
        _activations.Dispose();
    }
}
