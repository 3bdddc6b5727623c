using System.Diagnostics;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>An optimizer to compare: its label in tables and plots, its factory, and an optional note (e.g. the tuned lr).</summary>
public sealed record OptimizerEntry(string Label, ParameterOptimizerFactory Factory, string? Note = null);

/// <summary>What to run: steps per run and the optimizee seeds (each seed is one problem instance and one initialisation).</summary>
/// <param name="Steps">Training steps per run.</param>
/// <param name="Seeds">Problem instances.</param>
/// <param name="EvaluateAt">Earlier steps after which the held-out evaluation also runs (a run of T steps then
/// answers for every shorter horizon too: the optimizers compared here have no schedule that depends on T).</param>
/// <param name="Workers">Runs trained at once, each on its own thread (1: one after another). Every run is independent
/// of the others and of the order, so results are the same for any number of workers.</param>
/// <param name="HeldOut">Evaluate on the held-out half at the end (lr tuning, which scores training loss only, skips it).</param>
public sealed record EvalSettings(int Steps, IReadOnlyList<long> Seeds, IReadOnlyList<int>? EvaluateAt = null, int Workers = 1, bool HeldOut = true)
{
    /// <summary>Seeds 0 … count−1 shifted by <paramref name="first"/>.</summary>
    public static IReadOnlyList<long> Range(int count, long first = 0) => Enumerable.Range(0, count).Select(i => first + i).ToArray();
}

/// <summary>
/// One optimizer on one seed. <see cref="TrainLoss"/>[t−1] is the minibatch loss at step t, measured before update t;
/// after a divergence the remaining entries are NaN. <see cref="WallSeconds"/> covers the whole run including the
/// held-out evaluation, <see cref="TrainSeconds"/> only the training steps, <see cref="OptimizerSeconds"/> only the updates.
/// </summary>
public sealed record RunResult(
    string Optimizer, long Seed, float[] TrainLoss, int? DivergedAtStep, OptimizeeEvaluation Evaluation,
    double WallSeconds, double TrainSeconds, double OptimizerSeconds, int StepsRun, double StateFloatsPerParameter,
    IReadOnlyDictionary<int, OptimizeeEvaluation>? Intermediate = null)
{
    /// <summary>True when the run hit a NaN/Inf loss or ended with non-finite parameters.</summary>
    public bool Diverged => DivergedAtStep is not null;

    /// <summary>
    /// This run cut at <paramref name="steps"/> (≤ <see cref="TrainLoss"/>.Length): the losses of its first steps and the
    /// held-out evaluation taken there, diverged when it had diverged by then. Needs an evaluation at that step.
    /// </summary>
    public RunResult Prefix(int steps)
    {
        if (steps == TrainLoss.Length) return this;
        if (steps < 1 || steps > TrainLoss.Length) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"a run of {TrainLoss.Length} steps has no prefix of {steps}");
        int? diverged = DivergedAtStep is { } d && d <= steps ? d : null;
        OptimizeeEvaluation evaluation;
        if (diverged is not null) evaluation = new OptimizeeEvaluation(double.NaN, double.NaN);
        else if (Intermediate is not null && Intermediate.TryGetValue(steps, out var e)) evaluation = e;
        else throw new InvalidOperationException($"run of {Optimizer} on seed {Seed}: no held-out evaluation at step {steps}");
        // A run evaluated at a step whose parameters were not finite there counts as diverged at that step.
        if (diverged is null && !double.IsFinite(evaluation.Loss)) diverged = steps;
        double share = (double)steps / TrainLoss.Length;
        return this with
        {
            TrainLoss = TrainLoss[..steps], DivergedAtStep = diverged, Evaluation = evaluation, StepsRun = Math.Min(StepsRun, steps),
            WallSeconds = WallSeconds * share, TrainSeconds = TrainSeconds * share, OptimizerSeconds = OptimizerSeconds * share, Intermediate = null,
        };
    }
}

/// <summary>Progress of a long evaluation, for a progress line with an ETA.</summary>
public readonly record struct EvalProgress(string Phase, string Optimizer, long Seed, long StepsDone, long StepsTotal, TimeSpan Elapsed)
{
    /// <summary>Linear extrapolation of the remaining time (null before any step).</summary>
    public TimeSpan? Eta => StepsDone == 0 ? null : TimeSpan.FromTicks((long)(Elapsed.Ticks * (double)(StepsTotal - StepsDone) / StepsDone));
}

/// <summary>
/// Trains optimizees with optimizers and records what happened: the library form of the <c>eval</c> verb, also used
/// by learning-rate tuning and by other areas (teachers, rules) to score optimizers.
/// </summary>
/// <remarks>
/// <code>
/// for each seed: optimizee = family.Create(seed)
///   for each optimizer: θ = optimizee.InitialParameters(); state = factory(shapes)
///     for t = 1..T: ℓ = Loss(θ, t); g = ∂ℓ/∂θ; record ℓ; stop as diverged if ℓ is NaN/Inf; optimizer.Step(θ, g, t)
///     evaluate θ on the held-out half
/// </code>
/// Seeds run in the outer loop so each problem instance (and its data tensors) is built once for all optimizers.
/// A diverging run ends early and is recorded; it never stops the others. With several workers each takes whole
/// seeds (one libtorch thread each is the efficient setting: these models are too small for intra-op threads), and
/// results are written by index, so the output does not depend on the number of workers or on timing.
/// </remarks>
public static class Harness
{
    /// <summary>Runs every optimizer on every seed of <paramref name="family"/>; results ordered by seed, then optimizer.</summary>
    public static IReadOnlyList<RunResult> Run(
        IOptimizeeFamily family, Device device, IReadOnlyList<OptimizerEntry> optimizers, EvalSettings settings,
        IProgress<EvalProgress>? progress = null, CancellationToken ct = default, string phase = "eval")
    {
        if (settings.Steps < 1) throw new ArgumentException($"steps must be at least 1, got {settings.Steps}");
        if (settings.Seeds.Count == 0) throw new ArgumentException("at least one seed is needed");
        if (settings.Workers < 1) throw new ArgumentException($"workers must be at least 1, got {settings.Workers}");
        var evaluateAt = (settings.EvaluateAt ?? []).Where(s => s < settings.Steps).ToHashSet();
        if (evaluateAt.Any(s => s < 1)) throw new ArgumentException($"evaluation steps must lie in 1..{settings.Steps}");
        var results = new RunResult[settings.Seeds.Count * optimizers.Count];
        long total = (long)settings.Steps * results.Length, done = 0;
        var clock = Stopwatch.StartNew();
        void RunSeed(int s)
        {
            long seed = settings.Seeds[s];
            using var optimizee = family.Create(seed, device);
            for (int o = 0; o < optimizers.Count; o++)
            {
                var entry = optimizers[o];
                int last = 0;
                // A run is deterministic, so one that libtorch failed inside (a process fault, not the optimizer's
                // numbers, which never throw) is run again from the start and gives the figures an unfaulted run gives.
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        results[s * optimizers.Count + o] = RunOne(optimizee, entry, seed, device, settings.Steps, ct, step =>
                        {
                            long now = Interlocked.Add(ref done, step - last);
                            last = step;
                            progress?.Report(new EvalProgress(phase, entry.Label, seed, now, total, clock.Elapsed));
                        }, evaluateAt, settings.HeldOut);
                        break;
                    }
                    catch (System.Runtime.InteropServices.ExternalException ex) when (!ct.IsCancellationRequested)
                    {
                        Interlocked.Add(ref done, -last);
                        last = 0;
                        if (attempt == FaultAttempts)
                            throw new InvalidOperationException($"{entry.Label} on {family.Name} seed {seed}: libtorch failed on all {FaultAttempts} attempts: {ex.Message}", ex);
                    }
                }
                Interlocked.Add(ref done, settings.Steps - last);
            }
        }
        if (settings.Workers == 1 || settings.Seeds.Count == 1)
            for (int s = 0; s < settings.Seeds.Count; s++) RunSeed(s);
        else
            Parallel.For(0, settings.Seeds.Count, new ParallelOptions { MaxDegreeOfParallelism = settings.Workers, CancellationToken = ct }, RunSeed);
        return results;
    }

    /// <summary>Attempts at one optimizer's run on one seed when libtorch fails inside a call.</summary>
    internal const int FaultAttempts = 3;

    /// <summary>
    /// Trains <paramref name="optimizee"/> from its initial parameters for <paramref name="steps"/> steps, also
    /// evaluating on the held-out half after each step in <paramref name="evaluateAt"/>.
    /// </summary>
    public static RunResult RunOne(
        IOptimizee optimizee, OptimizerEntry entry, long seed, Device device, int steps,
        CancellationToken ct = default, Action<int>? onStep = null, IReadOnlySet<int>? evaluateAt = null, bool heldOut = true)
    {
        Dictionary<int, OptimizeeEvaluation>? intermediate = evaluateAt is { Count: > 0 } ? [] : null;
        var losses = new float[steps];
        Array.Fill(losses, float.NaN);
        int? divergedAt = null;
        int stepsRun = 0;
        var wall = Stopwatch.StartNew();
        var optimizerTime = new Stopwatch();
        var evalTime = TimeSpan.Zero;
        Tensor[] parameters;
        using (var init = torch.NewDisposeScope())
        {
            parameters = optimizee.InitialParameters()
                .Select(p => p.detach().requires_grad_(true).DetachFromDisposeScope())
                .ToArray();
        }
        try
        {
            using var optimizer = entry.Factory(optimizee.ParameterShapes, device);
            for (int t = 1; t <= steps; t++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var loss = optimizee.Loss(parameters, t);
                var grads = torch.autograd.grad([loss], parameters).ToArray();
                float value = loss.item<float>();
                losses[t - 1] = value;
                stepsRun = t;
                if (!float.IsFinite(value))
                {
                    divergedAt = t;
                    break;
                }
                optimizerTime.Start();
                optimizer.Step(parameters, grads, t);
                optimizerTime.Stop();
                if (intermediate is not null && evaluateAt!.Contains(t))
                {
                    var trainClock = wall.Elapsed;
                    intermediate[t] = parameters.All(p => p.isfinite().all().item<bool>())
                        ? optimizee.Evaluate(parameters)
                        : new OptimizeeEvaluation(double.NaN, double.NaN);
                    // Held-out evaluation is not training time.
                    evalTime += wall.Elapsed - trainClock;
                }
                onStep?.Invoke(t);
            }
            double trainSeconds = (wall.Elapsed - evalTime).TotalSeconds;
            var evaluation = new OptimizeeEvaluation(double.NaN, double.NaN);
            if (divergedAt is null)
            {
                using var scope = torch.NewDisposeScope();
                bool finite = parameters.All(p => p.isfinite().all().item<bool>());
                if (finite && heldOut) evaluation = optimizee.Evaluate(parameters);
                // The last update can blow up the parameters after the last recorded loss.
                if (!finite || (heldOut && !double.IsFinite(evaluation.Loss))) divergedAt = steps;
            }
            wall.Stop();
            return new RunResult(entry.Label, seed, losses, divergedAt, evaluation, wall.Elapsed.TotalSeconds, trainSeconds,
                optimizerTime.Elapsed.TotalSeconds, stepsRun, optimizer.StateFloatsPerParameter, intermediate);
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }
}
