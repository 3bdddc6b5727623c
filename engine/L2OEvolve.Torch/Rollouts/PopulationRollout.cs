using System.Runtime.InteropServices;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rollouts;

/// <summary>
/// How one candidate rule fared over a rollout, averaged over the seeds. A candidate that diverged on any seed
/// (a non-finite loss or parameter) has infinite losses, so it ranks last under any loss-based fitness.
/// </summary>
/// <param name="FinalLoss">Mean over seeds of the training loss at the last step.</param>
/// <param name="MeanLoss">Mean over seeds and steps of the training loss.</param>
/// <param name="Diverged">True when the candidate diverged on at least one seed.</param>
/// <param name="DivergedAtStep">The earliest step, over the seeds, at which it diverged.</param>
/// <param name="SeedsDiverged">On how many seeds it diverged.</param>
public readonly record struct RolloutResult(double FinalLoss, double MeanLoss, bool Diverged, int? DivergedAtStep, int SeedsDiverged);

/// <summary>What a rollout runs: steps per seed, the seeds, the device and the feature settings of every rule.</summary>
/// <param name="Steps">Updates per seed; the loss is recorded at steps 1..Steps, each before that step's update.</param>
/// <param name="Seeds">One problem instance per seed; every candidate sees the same instances and minibatches.</param>
/// <param name="Features">Feature settings for compiling the rules (the paper's by default).</param>
public sealed record RolloutSettings(int Steps, IReadOnlyList<long> Seeds, FeatureSettings? Features = null)
{
    /// <summary>Compiles <paramref name="rules"/> with <see cref="Features"/>.</summary>
    public IReadOnlyList<RuleProgram> Compile(IReadOnlyList<Expr> rules) =>
        rules.Select(r => RuleProgram.Compile(r, Features)).ToArray();
}

/// <summary>
/// Evaluates P candidate rules at once on P copies of an optimizee stacked along a leading dimension: one batched
/// forward/backward (<see cref="IOptimizee.PopulationLoss"/>) per step for the whole population, then each
/// candidate's rule applied to its own slice of the stacked parameters. Meant as the fitness of a rule search.
/// </summary>
/// <remarks>
/// Per seed (pseudocode):
/// <code>
/// θ[P, ...] ← P copies of the instance's initial parameters;  state ← zeros per candidate
/// for step = 1..T:
///   L[P] ← PopulationLoss(θ, step);  backward(sum L)          -- slices are independent, so ∂sum/∂θ_p = ∂L_p/∂θ_p
///   record L_p; a non-finite L_p marks p diverged
///   for each live p: θ_p ← θ_p + rule_p(features of ∇θ_p)     -- fused kernel on the slice's memory (CPU)
///   a diverged p is reset to the initial parameters and frozen, so the batch stays finite
/// </code>
/// Deterministic: the same rules, settings and seeds give the same results (for a fixed libtorch thread count; a
/// candidate's figures can differ in the last bits with the population size, as batched kernels round differently).
/// </remarks>
public static class PopulationRollout
{
    /// <summary>Runs <paramref name="rules"/> (compiled with the settings' features) on the family's instances for each seed.</summary>
    public static RolloutResult[] Run(IReadOnlyList<Expr> rules, IOptimizeeFamily family, RolloutSettings settings, Device? device = null,
        RuleBackend backend = RuleBackend.Auto, CancellationToken ct = default) =>
        Run(settings.Compile(rules), family, settings, device, backend, ct);

    /// <summary>Runs compiled rules; by default on the CPU through the fused kernel, elsewhere through the operator chain.</summary>
    public static RolloutResult[] Run(IReadOnlyList<RuleProgram> programs, IOptimizeeFamily family, RolloutSettings settings, Device? device = null,
        RuleBackend backend = RuleBackend.Auto, CancellationToken ct = default)
    {
        device ??= CPU;
        Validate(programs, settings);
        if (backend == RuleBackend.Auto) backend = device.type == DeviceType.CPU ? RuleBackend.Fused : RuleBackend.OpChain;
        if (backend == RuleBackend.Fused && device.type != DeviceType.CPU)
            throw new ArgumentException($"the fused rule kernel runs on the CPU only, not on {device}");
        var perSeed = new List<SeedOutcome[]>();
        foreach (var seed in settings.Seeds)
        {
            using var problem = family.Create(seed, device);
            perSeed.Add(backend == RuleBackend.Fused
                ? RunSeedFused(programs, problem, settings.Steps, ct)
                : RunSeedOpChain(programs, problem, settings.Steps, ct));
        }
        return Combine(perSeed, programs.Count);
    }

    /// <summary>
    /// The reference: the same rollout with each rule run on its own, one after another, through
    /// <see cref="RuleOptimizer"/> and <see cref="IOptimizee.Loss"/>. Agrees with the population run
    /// up to float rounding of batched versus single kernels; it is what the population replaces.
    /// </summary>
    public static RolloutResult[] RunSequential(IReadOnlyList<RuleProgram> programs, IOptimizeeFamily family, RolloutSettings settings, Device? device = null)
    {
        device ??= CPU;
        Validate(programs, settings);
        var perSeed = new List<SeedOutcome[]>();
        foreach (var seed in settings.Seeds)
        {
            using var problem = family.Create(seed, device);
            var outcomes = new SeedOutcome[programs.Count];
            for (int c = 0; c < programs.Count; c++) outcomes[c] = RunOne(programs[c], problem, settings.Steps, device);
            perSeed.Add(outcomes);
        }
        return Combine(perSeed, programs.Count);
    }

    private readonly record struct SeedOutcome(double Final, double Mean, int? DivergedAt);

    private static void Validate(IReadOnlyList<RuleProgram> programs, RolloutSettings settings)
    {
        if (programs.Count == 0) throw new ArgumentException("a rollout needs at least one rule");
        if (settings.Steps < 1) throw new ArgumentException($"a rollout needs at least one step, got {settings.Steps}");
        if (settings.Seeds.Count == 0) throw new ArgumentException("a rollout needs at least one seed");
    }

    private static SeedOutcome RunOne(RuleProgram program, IOptimizee problem, int steps, Device device)
    {
        var ps = problem.InitialParameters().Select(p => p.detach().clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
        using var opt = new RuleOptimizer("candidate", program, problem.ParameterShapes, device);
        double sum = 0, last = 0;
        int? divergedAt = null;
        try
        {
            for (int step = 1; step <= steps; step++)
            {
                using var scope = NewDisposeScope();
                var loss = problem.Loss(ps, step);
                last = loss.item<float>();
                sum += last;
                if (!double.IsFinite(last)) { divergedAt = step; break; }
                loss.backward();
                opt.Step(ps, ps.Select(p => p.grad!).ToList(), step);
                foreach (var p in ps) p.grad!.zero_();
                if (opt.Diverged) { divergedAt = step; break; }
            }
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
        return divergedAt is int d ? new(double.PositiveInfinity, double.PositiveInfinity, d) : new(last, sum / steps, null);
    }

    private static unsafe SeedOutcome[] RunSeedFused(IReadOnlyList<RuleProgram> programs, IOptimizee problem, int steps, CancellationToken ct)
    {
        int pop = programs.Count, nt = problem.ParameterShapes.Count;
        var numel = problem.ParameterShapes.Select(s => s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var init = problem.InitialParameters();
        var stacked = init.Select(t => Stack(t, pop)).ToList();
        foreach (var t in init) t.Dispose();
        var plans = programs.Select(p => p.NewPlan()).ToArray();
        var state = programs.Select(p => numel.Select(n => new float[checked((int)(n * p.StateSlots))]).ToArray()).ToArray();
        var workspace = new float[programs.Max(FusedKernel.WorkspaceFloats)];
        var sums = new double[pop];
        var lasts = new double[pop];
        var divergedAt = new int?[pop];
        var losses = new float[pop];
        try
        {
            for (int step = 1; step <= steps; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var loss = problem.PopulationLoss(stacked, step);
                loss.sum().backward();
                // Straight from the tensor's memory: TensorAccessor copies element by element.
                MemoryMarshal.Cast<byte, float>(loss.detach().contiguous().bytes).CopyTo(losses);
                for (int c = 0; c < pop; c++)
                {
                    if (divergedAt[c] is not null) continue;
                    lasts[c] = losses[c];
                    sums[c] += losses[c];
                    if (!float.IsFinite(losses[c])) divergedAt[c] = step;
                }
                for (int k = 0; k < nt; k++)
                {
                    var grad = stacked[k].grad!;
                    fixed (float* pp = MemoryMarshal.Cast<byte, float>(stacked[k].bytes))
                    fixed (float* gp = MemoryMarshal.Cast<byte, float>(grad.bytes))
                    {
                        for (int c = 0; c < pop; c++)
                        {
                            if (divergedAt[c] is not null) continue;
                            if (k == 0) programs[c].Fill(plans[c], step);
                            fixed (float* sp = state[c][k])
                            {
                                long off = c * numel[k];
                                if (!FusedKernel.Apply(programs[c], plans[c], pp + off, gp + off, sp, numel[k], workspace))
                                    divergedAt[c] = step;
                            }
                        }
                    }
                    grad.zero_();
                }
                // A candidate that diverged at this step (by its loss or its update) gets its initial parameters back.
                for (int c = 0; c < pop; c++)
                    if (divergedAt[c] == step) ResetSlice(stacked, problem, c);
            }
        }
        finally
        {
            foreach (var t in stacked) t.Dispose();
        }
        return Outcomes(sums, lasts, divergedAt, steps);
    }

    private static SeedOutcome[] RunSeedOpChain(IReadOnlyList<RuleProgram> programs, IOptimizee problem, int steps, CancellationToken ct)
    {
        int pop = programs.Count, nt = problem.ParameterShapes.Count;
        var init = problem.InitialParameters();
        var stacked = init.Select(t => Stack(t, pop)).ToList();
        foreach (var t in init) t.Dispose();
        var plans = programs.Select(p => p.NewPlan()).ToArray();
        var state = programs.Select(p => stacked.Select(t => Enumerable.Range(0, p.StateSlots)
            .Select(_ => zeros_like(t[0]).DetachFromDisposeScope()).ToArray()).ToArray()).ToArray();
        var sums = new double[pop];
        var lasts = new double[pop];
        var divergedAt = new int?[pop];
        try
        {
            for (int step = 1; step <= steps; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var loss = problem.PopulationLoss(stacked, step);
                loss.sum().backward();
                var losses = loss.detach().cpu().data<float>().ToArray();
                using (no_grad())
                {
                    var finite = new List<Tensor>();
                    for (int c = 0; c < pop; c++)
                    {
                        if (divergedAt[c] is not null) continue;
                        lasts[c] = losses[c];
                        sums[c] += losses[c];
                        if (!float.IsFinite(losses[c])) { divergedAt[c] = step; continue; }
                        programs[c].Fill(plans[c], step);
                        var checks = new List<Tensor>();
                        for (int k = 0; k < nt; k++)
                        {
                            var slice = stacked[k][c];
                            var old = state[c][k];
                            var (update, next) = OpChainKernel.Evaluate(programs[c], plans[c], stacked[k].grad![c], old, slice);
                            slice.add_(update);
                            checks.Add(isfinite(slice).all());
                            for (int i = 0; i < next.Length; i++)
                            {
                                if (ReferenceEquals(next[i], old[i])) continue;
                                next[i].DetachFromDisposeScope();
                                old[i].Dispose();
                            }
                            state[c][k] = next;
                        }
                        finite.Add(stack(checks).all());
                    }
                    // One transfer for all the finiteness checks of the step.
                    var ok = finite.Count == 0 ? [] : stack(finite).cpu().data<bool>().ToArray();
                    int j = 0;
                    for (int c = 0; c < pop; c++)
                    {
                        if (divergedAt[c] is not null) continue;
                        if (!ok[j++]) divergedAt[c] = step;
                    }
                    foreach (var t in stacked) t.grad!.zero_();
                }
                for (int c = 0; c < pop; c++)
                    if (divergedAt[c] == step) ResetSlice(stacked, problem, c);
            }
        }
        finally
        {
            foreach (var t in stacked) t.Dispose();
            foreach (var s in state.SelectMany(x => x).SelectMany(x => x)) s.Dispose();
        }
        return Outcomes(sums, lasts, divergedAt, steps);
    }

    private static Tensor Stack(Tensor t, int pop) =>
        t.detach().unsqueeze(0).expand([pop, .. t.shape]).contiguous().requires_grad_(true).DetachFromDisposeScope();

    private static void ResetSlice(List<Tensor> stacked, IOptimizee problem, int c)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var init = problem.InitialParameters();
        for (int k = 0; k < stacked.Count; k++) stacked[k][c].copy_(init[k]);
    }

    private static SeedOutcome[] Outcomes(double[] sums, double[] lasts, int?[] divergedAt, int steps) =>
        sums.Select((s, c) => divergedAt[c] is int d
            ? new SeedOutcome(double.PositiveInfinity, double.PositiveInfinity, d)
            : new SeedOutcome(lasts[c], s / steps, null)).ToArray();

    private static RolloutResult[] Combine(List<SeedOutcome[]> perSeed, int pop)
    {
        var results = new RolloutResult[pop];
        for (int c = 0; c < pop; c++)
        {
            var outs = perSeed.Select(s => s[c]).ToArray();
            var diverged = outs.Where(o => o.DivergedAt is not null).ToArray();
            results[c] = new RolloutResult(
                outs.Average(o => o.Final),
                outs.Average(o => o.Mean),
                diverged.Length > 0,
                diverged.Length > 0 ? diverged.Min(o => o.DivergedAt) : null,
                diverged.Length);
        }
        return results;
    }
}
