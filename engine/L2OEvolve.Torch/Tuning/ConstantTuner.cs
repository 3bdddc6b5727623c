using System.Collections.Immutable;
using System.Diagnostics;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Optimizees;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tuning;

/// <summary>What one tuning epoch did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="OptimizeeSeed">The optimizee instance trained this epoch.</param>
/// <param name="MetaLoss">Mean over the epoch's finite windows of the window meta-loss (sum of U losses); NaN when none was finite.</param>
/// <param name="Windows">Windows run (fewer than planned when the optimizee diverged).</param>
/// <param name="Skipped">Windows whose meta-loss or meta-gradient was not finite: no update was made for them.</param>
/// <param name="Seconds">Wall time of the epoch.</param>
/// <param name="Constants">The constants after the epoch.</param>
public sealed record TuneEpoch(int Epoch, long OptimizeeSeed, double MetaLoss, int Windows, int Skipped, double Seconds, ImmutableArray<double> Constants);

/// <summary>A tuning run's position: epochs done, current constants, meta-optimizer state and history.</summary>
public sealed record TuneProgress(int Epoch, ImmutableArray<double> Constants, MetaOptimizerState Meta, ImmutableArray<TuneEpoch> History)
{
    /// <summary>The start of a run from <paramref name="rule"/>'s constants.</summary>
    public static TuneProgress Initial(TunableRule rule, MetaOptimizerKind kind) =>
        new(0, rule.InitialConstants, MetaOptimizerState.Initial(kind, rule.Count), []);
}

/// <summary>A window-level progress report (for progress lines with an ETA).</summary>
public readonly record struct TuneTick(int Epoch, int Window, int Windows, double WindowLoss);

/// <summary>The meta-loss of fixed constants on some optimizee instances, with the first and last training loss.</summary>
/// <param name="MetaLoss">Mean window meta-loss (sum of U post-update losses), +inf when a run diverged.</param>
/// <param name="InitialLoss">Mean loss at the initial parameters.</param>
/// <param name="FinalLoss">Mean loss after the last step (+inf when a run diverged).</param>
public readonly record struct TuneEvaluation(double MetaLoss, double InitialLoss, double FinalLoss);

/// <summary>
/// Meta-tunes a rule's constants by truncated backpropagation through unrolled training (docs/symbolic-l2o.md, 'Meta-tuning the constants').
/// </summary>
/// <remarks>
/// <code>
/// for epoch e (optimizee seed from Rng(seed).Fork(e)):
///   θ₁ ← fresh init; g₁ ← ∇f(θ₁; batch 1); rule state ← 0
///   for each window of U steps:
///     L ← 0
///     for k in window: θ_{k+1} ← θ_k + rule(g_k, state; c)          (the sign is the rule's own)
///                      ℓ ← f(θ_{k+1}; batch k+1); L += ℓ; g_{k+1} ← detach(∇_θ ℓ)
///     if L and ∂L/∂c are finite: c ← project(meta-step(c, ∂L/∂c))   else skip (and stop the epoch if θ diverged)
///     detach θ and state (truncation)
/// </code>
/// The meta-loss sums the losses at the post-update parameters θ_{k+1}, so every update of the window is scored
/// (the torch code's extra term at θ_k leaves the last one unscored: docs/symbolic-l2o.md, 'Where the reference code goes wrong', item 1; the teachers use this form
/// too). Gradients fed to the rule are detached: no second-order terms, as in the paper. Each epoch is a pure
/// function of (settings, constants, meta-optimizer state, epoch number), so resuming from a checkpoint after
/// any epoch reproduces an uninterrupted run.
/// </remarks>
public static class ConstantTuner
{
    /// <summary>The optimizee seed of 0-based epoch <paramref name="epoch"/>.</summary>
    public static long OptimizeeSeed(TuneSettings settings, int epoch) =>
        (long)(new Rng((ulong)settings.Seed).Fork(1000 + (ulong)epoch).NextUInt64() >> 1);

    /// <summary>The optimizee family the settings name.</summary>
    public static IOptimizeeFamily Family(TuneSettings settings) =>
        OptimizeeRegistry.Family(settings.Optimizee, new OptimizeeOptions(
            DataDir: settings.DataDir, BatchSize: settings.Batch, Init: settings.Init is null ? null : ParameterInit.Parse(settings.Init)));

    /// <summary>Runs the next epoch and returns the progress after it.</summary>
    public static TuneProgress RunEpoch(TunableRule rule, TuneSettings settings, IOptimizeeFamily family, Device device,
        TuneProgress progress, IProgress<TuneTick>? ticks = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        long seed = OptimizeeSeed(settings, progress.Epoch);
        var constants = progress.Constants.ToArray();
        var meta = progress.Meta;
        var scales = Scales(rule);
        double sum = 0;
        int finite = 0, windows = 0, skipped = 0;
        using (var optimizee = family.Create(seed, device))
        {
            Unroll(rule, constants, optimizee, settings.Steps, settings.Unroll, device, learn: true, (w, loss, grad) =>
            {
                ct.ThrowIfCancellationRequested();
                windows++;
                if (double.IsFinite(loss)) { sum += loss; finite++; }
                ticks?.Report(new TuneTick(progress.Epoch + 1, w + 1, settings.Windows, loss));
                if (!double.IsFinite(loss) || grad is null || grad.Any(x => !double.IsFinite(x)))
                {
                    skipped++;
                    return;
                }
                if (!settings.Relative)
                {
                    // In place: Unroll reads this array at the start of every window, so the next window runs
                    // with the constants just stepped to.
                    (meta, var next) = meta.Step(constants, grad, settings.MetaLr, settings.Momentum);
                    next.CopyTo(constants, 0);
                    rule.Project(constants);
                    return;
                }
                // c = s·φ with s = |c₀|: ∂L/∂φ = s·∂L/∂c; the meta-optimizer steps on φ.
                var phi = constants.Select((c, i) => c / scales[i]).ToArray();
                var gphi = grad.Select((g, i) => g * scales[i]).ToArray();
                (meta, phi) = meta.Step(phi, gphi, settings.MetaLr, settings.Momentum);
                for (int i = 0; i < constants.Length; i++) constants[i] = phi[i] * scales[i];
                rule.Project(constants);
            }, settings.Objective == MetaObjective.Log);
        }
        var record = new TuneEpoch(progress.Epoch + 1, seed, finite > 0 ? sum / finite : double.NaN, windows, skipped,
            clock.Elapsed.TotalSeconds, [.. constants]);
        return new TuneProgress(progress.Epoch + 1, [.. constants], meta, progress.History.Add(record));
    }

    /// <summary>The scale of each meta-parameter in relative mode: its initial magnitude (1 for a zero constant).</summary>
    public static double[] Scales(TunableRule rule) => [.. rule.InitialConstants.Select(c => c != 0 && double.IsFinite(c) ? Math.Abs(c) : 1.0)];

    /// <summary>
    /// The meta-loss of <paramref name="constants"/> (no tuning) over the optimizee instances <paramref name="seeds"/>,
    /// each trained <paramref name="steps"/> steps and scored in windows of <paramref name="unroll"/>.
    /// </summary>
    public static TuneEvaluation Evaluate(TunableRule rule, ReadOnlySpan<double> constants, IOptimizeeFamily family, Device device,
        IReadOnlyList<long> seeds, int steps, int unroll)
    {
        double meta = 0, first = 0, last = 0;
        var c = constants.ToArray();
        foreach (var seed in seeds)
        {
            using var optimizee = family.Create(seed, device);
            double sum = 0;
            int windows = 0;
            bool diverged = false;
            var (initial, final) = Unroll(rule, c, optimizee, steps, unroll, device, learn: false, (_, loss, _) =>
            {
                if (double.IsFinite(loss)) { sum += loss; windows++; }
                else diverged = true;
            });
            meta += diverged || windows == 0 ? double.PositiveInfinity : sum / windows;
            first += initial;
            last += diverged ? double.PositiveInfinity : final;
        }
        return new TuneEvaluation(meta / seeds.Count, first / seeds.Count, last / seeds.Count);
    }

    /// <summary>
    /// Trains <paramref name="optimizee"/> with the rule at <paramref name="constants"/>, calling
    /// <paramref name="window"/>(index, meta-loss, ∂meta-loss/∂constants or null) after each window; stops early when
    /// the meta-loss is not finite. <paramref name="constants"/> is read at the start of every window, so the callback
    /// may update it in place. Returns the initial loss and the last loss seen.
    /// </summary>
    private static (double Initial, double Final) Unroll(TunableRule rule, double[] constants, IOptimizee optimizee, int steps, int unroll,
        Device device, bool learn, Action<int, double, double[]?> window, bool logObjective = false)
    {
        var shapes = optimizee.ParameterShapes;
        Tensor[] theta, grads;
        Tensor[][] state;
        double initial;
        using (NewDisposeScope())
        {
            theta = [.. optimizee.InitialParameters().Select(p => p.to(device).detach().DetachFromDisposeScope())];
            state = [.. shapes.Select(s => rule.InitialState(s, device).Select(t => t.DetachFromDisposeScope()).ToArray())];
            foreach (var p in theta) p.requires_grad_(true);
            var loss0 = optimizee.Loss(theta, 1);
            initial = loss0.item<float>();
            grads = [.. autograd.grad([loss0], theta).Select(g => g.detach().DetachFromDisposeScope())];
        }
        double last = initial;
        try
        {
            for (int w = 0; w < steps / unroll; w++)
            {
                using var scope = NewDisposeScope();
                var c = tensor(constants, ScalarType.Float64, device).requires_grad_(learn);
                foreach (var p in theta) p.requires_grad_(true);
                var th = theta.ToArray();
                var g = grads.ToArray();
                var st = state.Select(s => s.ToArray()).ToArray();
                Tensor metaLoss = zeros(1, ScalarType.Float32, device);
                Tensor? lastLoss = null;
                for (int j = 0; j < unroll; j++)
                {
                    int k = w * unroll + j + 1;
                    for (int i = 0; i < th.Length; i++)
                    {
                        var (update, next) = rule.Step(g[i], th[i], st[i], k, c);
                        th[i] = th[i].Plus(update);
                        st[i] = next;
                    }
                    var loss = optimizee.Loss(th, k + 1);
                    metaLoss = metaLoss.Plus(loss);
                    lastLoss = loss;
                    g = [.. autograd.grad([loss], th, retain_graph: learn, allow_unused: true)
                        .Select((x, i) => x is null || x.IsInvalid ? zeros_like(th[i]) : x.detach())];
                }
                double value = metaLoss.item<float>();
                if (!double.IsFinite(value))
                {
                    window(w, value, null);
                    return (initial, double.PositiveInfinity);
                }
                double[]? gradient = null;
                if (learn)
                {
                    (logObjective ? metaLoss.log() : metaLoss).backward();
                    gradient = c.grad is { } cg ? cg.cpu().data<double>().ToArray() : new double[constants.Length];
                }
                last = lastLoss!.item<float>();
                window(w, value, gradient);
                // Truncation: carry detached copies into the next window and free the previous window's tensors.
                Carry(ref theta, th);
                Carry(ref grads, g);
                for (int i = 0; i < state.Length; i++) Carry(ref state[i], st[i]);
            }
        }
        finally
        {
            foreach (var t in theta.Concat(grads).Concat(state.SelectMany(s => s))) t.Dispose();
        }
        return (initial, last);
    }

    private static void Carry(ref Tensor[] carried, Tensor[] next)
    {
        var kept = next.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
        foreach (var t in carried) t.Dispose();
        carried = kept;
    }
}
