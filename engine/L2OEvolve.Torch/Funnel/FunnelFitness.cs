using L2OEvolve.Engine.Compilation;
using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rollouts;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Funnel;

/// <summary>One rollout stage of the funnel: an optimizee family, steps and seeds.</summary>
/// <param name="Family">The optimizee family rolled out on.</param>
/// <param name="Name">Its spec, for reports.</param>
/// <param name="Steps">Steps per seed.</param>
/// <param name="Seeds">Problem instances (the same for every candidate).</param>
/// <param name="PassBelow">A candidate reaches the next stage when its normalised loss here is at most this.</param>
public sealed record RolloutStage(IOptimizeeFamily Family, string Name, int Steps, ImmutableArray<long> Seeds, double PassBelow = 0.9);

/// <summary>Settings of the funnel's scoring.</summary>
/// <param name="Scale">The nominal step: a candidate stands for the update <c>Scale · m · candidate</c> with m its step
/// multiplier. The imitation target is the teacher's raw output, which the teacher itself scales by 0.01.</param>
/// <param name="ImitationPass">Candidates with normalised imitation loss (MSE / target variance = 1 − R²) at most this get rollouts.</param>
/// <param name="ImitationWeight">Weight of the normalised imitation loss in the combined loss.</param>
/// <param name="RolloutWeight">Weight of the rollout score in the combined loss.</param>
/// <param name="DivergedScore">Normalised rollout score of a candidate that diverged on any seed.</param>
/// <param name="UntestedScore">Added to the last score seen for each stage a candidate did not reach (worse than no
/// progress, better than divergence).</param>
/// <param name="StepMultipliers">The step multipliers tried on the first stage; the best is kept for the later stages
/// and for the rule the search returns. The step size is a tuned scalar, as every optimizer's lr: the tree only has
/// to find the direction and the relative scales.</param>
/// <param name="RestTolerance">A candidate whose update at rest (zero gradient history) exceeds this, relative to
/// the standard deviation of the imitation target, is a drift and gets no rollout (scored as untested).</param>
public sealed record FunnelSettings(double Scale = 0.01, double ImitationPass = 0.7, double ImitationWeight = 1.0, double RolloutWeight = 1.0,
    double DivergedScore = 10.0, double UntestedScore = 2.0, ImmutableArray<double> StepMultipliers = default, double RestTolerance = 0.05)
{
    /// <summary>The multipliers in force (just 1 when none were given).</summary>
    public ImmutableArray<double> EffectiveMultipliers => StepMultipliers.IsDefaultOrEmpty ? [1.0] : StepMultipliers;
}

/// <summary>What the funnel learned about one candidate: its stage scores and its best step multiplier.</summary>
/// <param name="Stages">Normalised score per stage reached, in order.</param>
/// <param name="Multiplier">The step multiplier the scores were obtained with.</param>
/// <param name="Refused">Why the candidate got no rollout (null when it got one).</param>
public sealed record RolloutRecord(ImmutableArray<double> Stages, double Multiplier, string? Refused = null);

/// <summary>
/// The pipeline's fitness: imitation of the teacher for every candidate, rollouts only for those that pass it and
/// are real optimizers (they read the gradient and stand still at rest), first a short cheap stage where the step
/// size is tuned over a few multipliers, then longer stages (other optimizees of the training family) at that step.
/// Objectives: [combined, imitation, rollout stage 1, rollout stage 2, ...]; objective 0 is
/// <c>ImitationWeight · imitation + RolloutWeight · rollout</c>, where imitation = MSE / var(target) and the rollout
/// score is the mean over stages of the final loss divided by that of the do-nothing rule (1 = no progress).
/// </summary>
/// <remarks>
/// <code>
/// im_i ← imitation MSE_i / var(target)                      (all candidates, SIMD evaluator)
/// eligible_i ← im_i ≤ ImitationPass ∧ reads the gradient ∧ |update at rest| ≤ RestTolerance · std(target)
/// stage 1: every eligible, uncached candidate × every multiplier m → one PopulationRollout (P·M stacked copies);
///          r_1(i) = min over m of final loss / reference; m_i = its argmin
/// stage s > 1: candidates with r_{s−1} ≤ PassBelow_{s−1} → one PopulationRollout at m_i
/// rollout_i = mean over stages of r_s, an unreached stage counting as min(Diverged, last r + Untested)
/// </code>
/// Rollout records are cached by the candidate's structural hash (rollouts are deterministic for fixed seeds).
/// </remarks>
public sealed class FunnelFitness : IFitness
{
    private readonly IFitness _imitation;
    private readonly ImmutableArray<RolloutStage> _stages;
    private readonly FunnelSettings _settings;
    private readonly FeatureSettings _features;
    private readonly Device _device;
    // Bounded, and equality-checked on hash hits: a long search must not grow without end, and a hash collision must
    // not hand one rule another's scores. An evicted record is recomputed on demand (rollouts are deterministic).
    private readonly BoundedCache<Expr, RolloutRecord> _cache;
    private double[]? _references;

    /// <summary>Wraps <paramref name="imitation"/> (objective 0 = imitation MSE) with rollout stages.</summary>
    public FunnelFitness(IFitness imitation, IEnumerable<RolloutStage> stages, FunnelSettings? settings = null, FeatureSettings? features = null,
        Device? device = null, int cacheCapacity = 65_536)
    {
        _cache = new BoundedCache<Expr, RolloutRecord>(cacheCapacity);
        _imitation = imitation;
        _stages = [.. stages];
        if (_stages.IsEmpty) throw new ArgumentException("the funnel needs at least one rollout stage");
        _settings = settings ?? new FunnelSettings();
        if (_settings.EffectiveMultipliers.Any(m => !(m > 0) || !double.IsFinite(m)))
            throw new ArgumentException($"step multipliers must be positive numbers, got {string.Join(", ", _settings.EffectiveMultipliers)}");
        _features = features ?? FeatureSettings.Default;
        _device = device ?? CPU;
    }

    /// <summary>Rollouts run so far (candidate × multiplier × stage, cache misses only).</summary>
    // Islands scoring at once (cluster silos, several islands per process) add to these from several threads.
    public long RolloutsRun => Interlocked.Read(ref _rolloutsRun);
    private long _rolloutsRun;

    /// <summary>Rollout records held now: they fill up to <see cref="RecordCapacity"/> and stay there, whatever the run's length.</summary>
    public int RecordsHeld => _cache.Count;

    /// <summary>Most rollout records held at once.</summary>
    public int RecordCapacity => _cache.Capacity;

    /// <summary>Candidates refused a rollout because they do not read the gradient or drift at rest.</summary>
    public long Refused => Interlocked.Read(ref _refused);
    private long _refused;

    /// <inheritdoc/>
    public int ObjectiveCount => 2 + _stages.Length;

    /// <inheritdoc/>
    public double BaselineLoss => _settings.ImitationWeight + _settings.RolloutWeight;

    /// <inheritdoc/>
    public bool IsDeterministic => true;

    /// <summary>The stages, cheap first.</summary>
    public ImmutableArray<RolloutStage> Stages => _stages;

    /// <summary>The step size of a candidate: <c>Scale · m</c> with m its best multiplier (the nominal scale before it was rolled out).</summary>
    public double StepSize(Expr candidate) => _settings.Scale * (Record(candidate)?.Multiplier ?? 1.0);

    /// <summary>What the rollouts found for <paramref name="candidate"/>, or null when it was never rolled out (or its record was evicted).</summary>
    public RolloutRecord? Record(Expr candidate) => _cache.TryGet(StructuralHash.Of(candidate), candidate, out var r) ? r : null;

    /// <summary>The record of <paramref name="candidate"/>, scoring it first when it has none (never rolled out, or evicted).</summary>
    public RolloutRecord? Ensure(Expr candidate, CancellationToken ct = default)
    {
        if (Record(candidate) is { } known) return known;
        Evaluate([candidate], new double[ObjectiveCount], new FitnessRequest(1, 0, 0), ct);
        return Record(candidate);
    }

    /// <summary>The update rule a candidate stands for: <c>StepSize · candidate</c>, with the step as a separate lr.</summary>
    public RuleDefinition Rule(Expr candidate, string name, string description) =>
        new(name, candidate, description, _features, StepSize(candidate));

    /// <summary>The update a candidate stands for, as one expression (<c>StepSize · candidate</c>).</summary>
    public Expr UpdateRule(Expr candidate) => new Expr.Binary(Op.Mul, new Expr.Const(StepSize(candidate)), candidate);

    /// <inheritdoc/>
    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        int n = candidates.Length, k = ObjectiveCount, ki = _imitation.ObjectiveCount;
        var im = new double[n * ki];
        _imitation.Evaluate(candidates, im, request, ct);
        double baseline = _imitation.BaselineLoss > 0 ? _imitation.BaselineLoss : 1.0;
        double restLimit = _settings.RestTolerance * Math.Sqrt(baseline);
        var imitation = new double[n];
        for (int i = 0; i < n; i++) imitation[i] = double.IsFinite(im[i * ki]) ? im[i * ki] / baseline : double.PositiveInfinity;

        var trees = candidates.ToArray();
        var hashes = trees.Select(StructuralHash.Of).ToArray();
        var pending = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (!(imitation[i] <= _settings.ImitationPass) || _cache.TryGet(hashes[i], trees[i], out _) || pending.Any(j => trees[j].Equals(trees[i]))) continue;
            string? refused = !UpdateChecks.ReadsGradient(trees[i]) ? "does not read the gradient"
                : !(UpdateChecks.RestUpdate(trees[i]) <= restLimit) ? "moves the parameters at rest (zero gradient)"
                : null;
            if (refused is null) pending.Add(i);
            else
            {
                _cache.Add(hashes[i], trees[i], new RolloutRecord([], 1.0, refused));
                Interlocked.Increment(ref _refused);
            }
        }
        // This batch's records, kept here too: the bounded cache may already have evicted one of them.
        var fresh = new Dictionary<int, RolloutRecord>();
        if (pending.Count > 0) RollOut(pending, trees, hashes, fresh, ct);
        for (int i = 0; i < n; i++)
            if (!fresh.ContainsKey(i) && pending.FirstOrDefault(j => j != i && trees[j].Equals(trees[i]), -1) is int twin and >= 0 && fresh.TryGetValue(twin, out var same)) fresh[i] = same;
        for (int i = 0; i < n; i++)
        {
            var stages = imitation[i] <= _settings.ImitationPass && (_cache.TryGet(hashes[i], trees[i], out var r) || fresh.TryGetValue(i, out r)) ? r!.Stages : [];
            double rollout = Combine(stages);
            double combined = double.IsFinite(imitation[i]) ? _settings.ImitationWeight * imitation[i] + _settings.RolloutWeight * rollout : double.PositiveInfinity;
            var o = objectives.Slice(i * k, k);
            o[0] = combined;
            o[1] = imitation[i];
            for (int s = 0; s < _stages.Length; s++) o[2 + s] = s < stages.Length ? stages[s] : double.NaN;
        }
    }

    // Mean over stages; a stage not reached counts as the last score seen plus the untested penalty.
    private double Combine(ImmutableArray<double> stageScores)
    {
        if (stageScores.IsEmpty) return _settings.UntestedScore;
        double missing = Math.Min(_settings.DivergedScore, stageScores[^1] + _settings.UntestedScore);
        return (stageScores.Sum() + missing * (_stages.Length - stageScores.Length)) / _stages.Length;
    }

    private void RollOut(List<int> pending, Expr[] trees, ulong[] hashes, Dictionary<int, RolloutRecord> fresh, CancellationToken ct)
    {
        _references ??= [.. _stages.Select(Reference)];
        var results = pending.ToDictionary(i => i, _ => new List<double>());
        var multiplier = pending.ToDictionary(i => i, _ => 1.0);
        var alive = pending;
        for (int s = 0; s < _stages.Length && alive.Count > 0; s++)
        {
            ct.ThrowIfCancellationRequested();
            var stage = _stages[s];
            // Stage 1 tries every multiplier; later stages run each candidate at the multiplier it chose.
            var tries = s == 0 ? _settings.EffectiveMultipliers : [1.0];
            var programs = new List<RuleProgram>();
            var owners = new List<(int Candidate, double Multiplier)>();
            foreach (var i in alive)
            {
                foreach (var m in tries)
                {
                    double mult = s == 0 ? m : multiplier[i];
                    try { programs.Add(RuleProgram.Compile(Scaled(trees[i], _settings.Scale * mult), _features)); owners.Add((i, mult)); }
                    catch (ArgumentException) { break; }
                }
            }
            var best = alive.ToDictionary(i => i, _ => double.PositiveInfinity);
            if (programs.Count > 0)
            {
                var outcome = PopulationRollout.Run(programs, stage.Family, new RolloutSettings(stage.Steps, stage.Seeds, _features), _device, ct: ct);
                Interlocked.Add(ref _rolloutsRun, programs.Count);
                for (int c = 0; c < owners.Count; c++)
                {
                    var r = outcome[c];
                    var (i, mult) = owners[c];
                    double score = r.Diverged || !double.IsFinite(r.FinalLoss) ? _settings.DivergedScore : Math.Min(_settings.DivergedScore, r.FinalLoss / _references[s]);
                    // Strictly lower only: a tie keeps the multiplier listed first.
                    if (score < best[i]) (best[i], multiplier[i]) = (score, mult);
                }
            }
            var next = new List<int>();
            foreach (var i in alive)
            {
                if (double.IsPositiveInfinity(best[i])) best[i] = _settings.DivergedScore; // it did not even compile
                results[i].Add(best[i]);
                if (best[i] <= stage.PassBelow) next.Add(i);
            }
            alive = next;
        }
        foreach (var i in pending)
        {
            fresh[i] = new RolloutRecord([.. results[i]], multiplier[i]);
            _cache.Add(hashes[i], trees[i], fresh[i]);
        }
    }

    private static Expr Scaled(Expr candidate, double step) => new Expr.Binary(Op.Mul, new Expr.Const(step), candidate);

    private double Reference(RolloutStage stage)
    {
        var r = PopulationRollout.Run([RuleProgram.Compile(new Expr.Const(0.0), _features)], stage.Family,
            new RolloutSettings(stage.Steps, stage.Seeds, _features), _device)[0];
        return r.FinalLoss > 0 && double.IsFinite(r.FinalLoss) ? r.FinalLoss : 1.0;
    }

    /// <summary>
    /// Warm-start rules in the recorded features' terms: <c>-1 · f</c> for each base feature present at lag 0
    /// (g: SGD, mom5/mom9/mom99/m: momentum, mt: Adam with the paper's β, gt: RMSprop-like), in the raw-output scale,
    /// and <c>-sign(f)</c> for the momenta (Lion-like).
    /// </summary>
    public static IReadOnlyList<Expr> WarmStarts(IEnumerable<string> featureNames)
    {
        var names = featureNames.ToHashSet(StringComparer.Ordinal);
        var rules = new List<Expr>();
        foreach (var baseName in new[] { "g", "mom5", "mom9", "mom99", "m", "mt", "gt" })
        {
            var name = new[] { baseName, baseName + "0", baseName + "_0" }.FirstOrDefault(names.Contains);
            if (name is null) continue;
            rules.Add(new Expr.Binary(Op.Mul, new Expr.Const(-1.0), new Expr.Var(name)));
            if (baseName is "m" or "mt" or "mom9") rules.Add(new Expr.Binary(Op.Mul, new Expr.Const(-1.0), new Expr.Unary(Op.Sign, new Expr.Var(name))));
        }
        return rules;
    }
}
