using L2OEvolve.Engine.Compilation;
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
/// Evaluates P candidate rules on one optimizee instance per seed. On the CPU (the fused kernel) each candidate is
/// rolled out on its own copy with its own forward/backward passes, the candidates spread over
/// <see cref="Workers"/> .NET threads; elsewhere (the operator chain, e.g. on a GPU) the P copies are stacked along a
/// leading dimension and go through one batched forward/backward per step. Meant as the fitness of a rule search.
/// </summary>
/// <remarks>
/// Per seed, on the CPU (pseudocode):
/// <code>
/// parallel over candidates p (Workers threads, libtorch single-threaded on each):
///   θ ← the instance's initial parameters;  state ← zeros
///   for step = 1..T:
///     L ← Loss(θ, step);  backward(L);  record L (non-finite: p diverged, stop)
///     θ ← θ + rule_p(features of ∇θ)            -- fused kernel on the tensor's memory; non-finite: diverged, stop
/// </code>
/// Bit-exact by construction: a candidate's figures are computed by the same kernels on the same shapes whichever
/// candidates share its call, however many there are, in whatever order, and for any <see cref="Workers"/> or
/// libtorch thread count. A search's scores must not depend on its batches: a resumed search, whose score caches
/// start empty, rolls candidates out in other company than the uninterrupted run did. The batched form (stacked
/// copies through bmm) was measured to round differently with the batch's size and a candidate's place in it, and
/// libtorch's multi-threaded reductions and MKL's threaded GEMM round differently with the thread count; so each
/// candidate gets its own single-threaded passes, and the parallelism comes from running candidates side by side.
/// The stacked path remains for other devices, where it is deterministic only for a fixed population and device.
/// </remarks>
public static class PopulationRollout
{
    private static int _workers = 1;

    /// <summary>
    /// How many .NET threads a CPU rollout spreads its candidates over (default 1). A throughput setting only:
    /// results do not depend on it. <c>sr --threads</c> and the daemon's jobs set it from their thread count.
    /// </summary>
    public static int Workers
    {
        get => Volatile.Read(ref _workers);
        set => Volatile.Write(ref _workers, value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be at least 1"));
    }

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
                ? RunSeedPerCopy(programs, problem, settings.Steps, ct)
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
        List<Tensor> ps;
        using (NewDisposeScope())
            ps = problem.InitialParameters().Select(p => p.detach().clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
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

    private static SeedOutcome[] RunSeedPerCopy(IReadOnlyList<RuleProgram> programs, IOptimizee problem, int steps, CancellationToken ct)
    {
        var outcomes = new SeedOutcome[programs.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Min(Workers, programs.Count), CancellationToken = ct };
        Parallel.For(0, programs.Count, options, c =>
        {
            // libtorch's thread count is a per-thread setting (OpenMP's and MKL's); one thread makes every reduction
            // and GEMM run in a fixed order. The thread's previous count is put back for whatever runs on it next.
            int before = torch.get_num_threads();
            if (before != 1) torch.set_num_threads(1);
            try { outcomes[c] = RunOneFusedGuarded(programs[c], problem, steps, ct); }
            finally { if (before != 1) torch.set_num_threads(before); }
        });
        return outcomes;
    }

    private static long _nativeFaults, _candidatesFailedByFault;

    /// <summary>How many candidate rollouts libtorch failed inside a call (and were run again) in this process.</summary>
    public static long NativeFaults => Interlocked.Read(ref _nativeFaults);

    /// <summary>How many candidates were scored as failed because libtorch failed on every attempt.</summary>
    public static long CandidatesFailedByFault => Interlocked.Read(ref _candidatesFailedByFault);

    /// <summary>Attempts at one candidate's rollout on one seed before a native fault scores it as failed.</summary>
    internal const int FaultAttempts = 3;

    /// <summary>
    /// <see cref="RunOneFused"/>, run again when libtorch throws. A rule's bad numbers never throw (they are read as a
    /// divergence), so an exception from libtorch is a fault of the process, such as memory it was handed being freed
    /// under it; the rollout is deterministic, so a clean attempt gives exactly the figures an unfaulted run gives. A
    /// candidate that faults on every attempt is scored as diverged at step 1 instead of ending the search.
    /// </summary>
    private static SeedOutcome RunOneFusedGuarded(RuleProgram program, IOptimizee problem, int steps, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return RunOneFused(program, problem, steps, ct); }
            catch (ExternalException) when (!ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _nativeFaults);
                if (attempt < FaultAttempts) continue;
                Interlocked.Increment(ref _candidatesFailedByFault);
                return new(double.PositiveInfinity, double.PositiveInfinity, 1);
            }
        }
    }

    /// <summary>One candidate's rollout on its own parameters, updated in place by the fused kernel.</summary>
    private static unsafe SeedOutcome RunOneFused(RuleProgram program, IOptimizee problem, int steps, CancellationToken ct)
    {
        int nt = problem.ParameterShapes.Count;
        var numel = problem.ParameterShapes.Select(s => s.Aggregate(1L, (a, b) => a * b)).ToArray();
        List<Tensor> ps;
        using (NewDisposeScope())
            ps = problem.InitialParameters().Select(p => p.detach().clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
        var plan = program.NewPlan();
        var state = numel.Select(n => new float[checked((int)(n * program.StateSlots))]).ToArray();
        var workspace = new float[FusedKernel.WorkspaceFloats(program)];
        double sum = 0, last = 0;
        int? divergedAt = null;
        try
        {
            for (int step = 1; step <= steps && divergedAt is null; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var loss = problem.Loss(ps, step);
                float value = loss.item<float>();
                last = value;
                sum += value;
                if (!float.IsFinite(value)) { divergedAt = step; break; }
                loss.backward();
                program.Fill(plan, step);
                for (int k = 0; k < nt; k++)
                {
                    var grad = ps[k].grad!;
                    fixed (float* pp = MemoryMarshal.Cast<byte, float>(ps[k].bytes))
                    fixed (float* gp = MemoryMarshal.Cast<byte, float>(grad.bytes))
                    fixed (float* sp = state[k])
                    {
                        if (!FusedKernel.Apply(program, plan, pp, gp, sp, numel[k], workspace)) divergedAt = step;
                    }
                    grad.zero_();
                }
            }
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
        return divergedAt is int d ? new(double.PositiveInfinity, double.PositiveInfinity, d) : new(last, sum / steps, null);
    }

    private static SeedOutcome[] RunSeedOpChain(IReadOnlyList<RuleProgram> programs, IOptimizee problem, int steps, CancellationToken ct)
    {
        int pop = programs.Count, nt = problem.ParameterShapes.Count;
        var stacked = StackInitial(problem, pop);
        var plans = programs.Select(p => p.NewPlan()).ToArray();
        Tensor[][][] state;
        using (NewDisposeScope())
            state = programs.Select(p => stacked.Select(t => Enumerable.Range(0, p.StateSlots)
                .Select(_ => zeros_like(t[0]).DetachFromDisposeScope()).ToArray()).ToArray()).ToArray();
        var tally = new LossTally(pop);
        var divergedAt = tally.DivergedAt;
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
                    tally.Record(losses, step);
                    var finite = new List<Tensor>();
                    for (int c = 0; c < pop; c++)
                    {
                        if (divergedAt[c] is not null) continue;
                        programs[c].Fill(plans[c], step);
                        var checks = new List<Tensor>();
                        for (int k = 0; k < nt; k++)
                        {
                            var slice = stacked[k][c];
                            var old = state[c][k];
                            var (update, next) = OpChainKernel.Evaluate(programs[c], plans[c], stacked[k].grad![c], old, slice);
                            slice.PlusInPlace(update);
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
        return tally.Outcomes(steps);
    }

    /// <summary>P copies of the initial parameters, stacked along a new first axis; the temporaries die with the scope.</summary>
    private static List<Tensor> StackInitial(IOptimizee problem, int pop)
    {
        using var scope = NewDisposeScope();
        return problem.InitialParameters()
            .Select(t => t.detach().unsqueeze(0).expand([pop, .. t.shape]).contiguous().requires_grad_(true).DetachFromDisposeScope())
            .ToList();
    }

    private static void ResetSlice(List<Tensor> stacked, IOptimizee problem, int c)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var init = problem.InitialParameters();
        for (int k = 0; k < stacked.Count; k++) stacked[k][c].copy_(init[k]);
    }

    /// <summary>Per-candidate loss sums, last losses and divergence steps of one seed's batched rollout.</summary>
    private sealed class LossTally(int pop)
    {
        private readonly double[] _sums = new double[pop];
        private readonly double[] _lasts = new double[pop];

        /// <summary>The step at which each candidate diverged (by its loss or its update), or null while it runs.</summary>
        public int?[] DivergedAt { get; } = new int?[pop];

        /// <summary>Adds this step's losses of the running candidates; a non-finite loss marks its candidate diverged.</summary>
        public void Record(ReadOnlySpan<float> losses, int step)
        {
            for (int c = 0; c < _sums.Length; c++)
            {
                if (DivergedAt[c] is not null) continue;
                _lasts[c] = losses[c];
                _sums[c] += losses[c];
                if (!float.IsFinite(losses[c])) DivergedAt[c] = step;
            }
        }

        public SeedOutcome[] Outcomes(int steps) =>
            _sums.Select((s, c) => DivergedAt[c] is int d
                ? new SeedOutcome(double.PositiveInfinity, double.PositiveInfinity, d)
                : new SeedOutcome(_lasts[c], s / steps, null)).ToArray();
    }

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
