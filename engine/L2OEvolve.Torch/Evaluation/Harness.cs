using System.Diagnostics;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Evaluation;

/// <summary>An optimizer to compare: its label in tables and plots, its factory, and an optional note (e.g. the tuned lr).</summary>
public sealed record OptimizerEntry(string Label, ParameterOptimizerFactory Factory, string? Note = null);

/// <summary>What to run: steps per run and the optimizee seeds (each seed is one problem instance and one initialisation).</summary>
public sealed record EvalSettings(int Steps, IReadOnlyList<long> Seeds)
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
    double WallSeconds, double TrainSeconds, double OptimizerSeconds, int StepsRun, double StateFloatsPerParameter)
{
    /// <summary>True when the run hit a NaN/Inf loss or ended with non-finite parameters.</summary>
    public bool Diverged => DivergedAtStep is not null;
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
/// A diverging run ends early and is recorded; it never stops the others.
/// </remarks>
public static class Harness
{
    /// <summary>Runs every optimizer on every seed of <paramref name="family"/>.</summary>
    public static IReadOnlyList<RunResult> Run(
        IOptimizeeFamily family, Device device, IReadOnlyList<OptimizerEntry> optimizers, EvalSettings settings,
        IProgress<EvalProgress>? progress = null, CancellationToken ct = default, string phase = "eval")
    {
        if (settings.Steps < 1) throw new ArgumentException($"steps must be at least 1, got {settings.Steps}");
        if (settings.Seeds.Count == 0) throw new ArgumentException("at least one seed is needed");
        var results = new List<RunResult>();
        long total = (long)settings.Steps * settings.Seeds.Count * optimizers.Count, done = 0;
        var clock = Stopwatch.StartNew();
        foreach (long seed in settings.Seeds)
        {
            using var optimizee = family.Create(seed, device);
            foreach (var entry in optimizers)
            {
                long before = done;
                var result = RunOne(optimizee, entry, seed, device, settings.Steps, ct, step =>
                {
                    done = before + step;
                    progress?.Report(new EvalProgress(phase, entry.Label, seed, done, total, clock.Elapsed));
                });
                done = before + settings.Steps;
                results.Add(result);
            }
        }
        return results;
    }

    /// <summary>Trains <paramref name="optimizee"/> from its initial parameters for <paramref name="steps"/> steps.</summary>
    public static RunResult RunOne(
        IOptimizee optimizee, OptimizerEntry entry, long seed, Device device, int steps,
        CancellationToken ct = default, Action<int>? onStep = null)
    {
        var losses = new float[steps];
        Array.Fill(losses, float.NaN);
        int? divergedAt = null;
        int stepsRun = 0;
        var wall = Stopwatch.StartNew();
        var optimizerTime = new Stopwatch();
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
                onStep?.Invoke(t);
            }
            double trainSeconds = wall.Elapsed.TotalSeconds;
            var evaluation = new OptimizeeEvaluation(double.NaN, double.NaN);
            if (divergedAt is null)
            {
                using var scope = torch.NewDisposeScope();
                if (parameters.All(p => p.isfinite().all().item<bool>())) evaluation = optimizee.Evaluate(parameters);
                // The last update can blow up the parameters after the last recorded loss.
                if (!double.IsFinite(evaluation.Loss)) divergedAt = steps;
            }
            wall.Stop();
            return new RunResult(entry.Label, seed, losses, divergedAt, evaluation, wall.Elapsed.TotalSeconds, trainSeconds,
                optimizerTime.Elapsed.TotalSeconds, stepsRun, optimizer.StateFloatsPerParameter);
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }
}
