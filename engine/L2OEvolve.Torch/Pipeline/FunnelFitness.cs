using System.Collections.Concurrent;
using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rollouts;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Pipeline;

/// <summary>One rollout stage of the funnel: an optimizee family, steps and seeds.</summary>
/// <param name="Family">The optimizee family rolled out on.</param>
/// <param name="Name">Its spec, for reports.</param>
/// <param name="Steps">Steps per seed.</param>
/// <param name="Seeds">Problem instances (the same for every candidate).</param>
/// <param name="PassBelow">A candidate reaches the next stage when its normalised loss here is at most this.</param>
public sealed record RolloutStage(IOptimizeeFamily Family, string Name, int Steps, ImmutableArray<long> Seeds, double PassBelow = 0.9);

/// <summary>Settings of the funnel's scoring.</summary>
/// <param name="Scale">The update applied in rollouts is <c>Scale · candidate</c>: the imitation target is the teacher's raw output (×0.01 in the paper).</param>
/// <param name="ImitationPass">Candidates with normalised imitation loss (MSE / target variance = 1 − R²) at most this get rollouts.</param>
/// <param name="ImitationWeight">Weight of the normalised imitation loss in the combined loss.</param>
/// <param name="RolloutWeight">Weight of the rollout score in the combined loss.</param>
/// <param name="DivergedScore">Normalised rollout score of a candidate that diverged on any seed.</param>
/// <param name="UntestedScore">Normalised rollout score of a candidate that did not reach a stage (worse than no progress, better than divergence).</param>
public sealed record FunnelSettings(double Scale = 0.01, double ImitationPass = 0.7, double ImitationWeight = 1.0, double RolloutWeight = 1.0,
    double DivergedScore = 10.0, double UntestedScore = 2.0);

/// <summary>
/// The pipeline's fitness (issue 6 §1): imitation of the teacher for every candidate, rollouts only for those that
/// pass it, first a short cheap stage, then a longer one (possibly on a second optimizee) for those that made
/// progress. Objectives: [combined, imitation, rollout stage 1, rollout stage 2, ...]; objective 0 is
/// <c>ImitationWeight · imitation + RolloutWeight · rollout</c>, where imitation = MSE / var(target) and the rollout
/// score of a stage is the mean final loss over its seeds divided by that of the do-nothing rule (1 = no progress).
/// </summary>
/// <remarks>
/// <code>
/// im_i ← imitation MSE_i / baseline                      (all candidates, SIMD evaluator)
/// for each stage s: candidates with im ≤ pass and (s = 0 or r_{s−1} ≤ PassBelow_{s−1}) and not cached
///     → one PopulationRollout over all of them (P stacked copies); r_s = final loss / reference (diverged → DivergedScore)
/// rollout_i = r of the last stage reached, or UntestedScore + the last score when it stopped early
/// </code>
/// Rollout scores are cached by the rule's structural hash (rollouts are deterministic for fixed seeds).
/// Every rule is scored in rollouts as the update <c>Scale · rule</c>, added to the parameters.
/// </remarks>
public sealed class FunnelFitness : IFitness
{
    private readonly IFitness _imitation;
    private readonly ImmutableArray<RolloutStage> _stages;
    private readonly FunnelSettings _settings;
    private readonly FeatureSettings _features;
    private readonly Device _device;
    private readonly ConcurrentDictionary<ulong, double[]> _cache = new();
    private double[]? _references;

    /// <summary>Wraps <paramref name="imitation"/> (objective 0 = imitation MSE) with rollout stages.</summary>
    public FunnelFitness(IFitness imitation, IEnumerable<RolloutStage> stages, FunnelSettings? settings = null, FeatureSettings? features = null, Device? device = null)
    {
        _imitation = imitation;
        _stages = [.. stages];
        if (_stages.IsEmpty) throw new ArgumentException("the funnel needs at least one rollout stage");
        _settings = settings ?? new FunnelSettings();
        _features = features ?? FeatureSettings.Default;
        _device = device ?? CPU;
    }

    /// <summary>Rollouts run so far (candidates × stages, cache misses only).</summary>
    public long RolloutsRun { get; private set; }

    /// <inheritdoc/>
    public int ObjectiveCount => 2 + _stages.Length;

    /// <inheritdoc/>
    public double BaselineLoss => _settings.ImitationWeight + _settings.RolloutWeight;

    /// <inheritdoc/>
    public bool IsDeterministic => true;

    /// <summary>The update rule a candidate stands for: <c>Scale · candidate</c>.</summary>
    public Expr UpdateRule(Expr candidate) => new Expr.Binary(Op.Mul, new Expr.Const(_settings.Scale), candidate);

    /// <inheritdoc/>
    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        int n = candidates.Length, k = ObjectiveCount;
        var im = new double[n * _imitation.ObjectiveCount];
        _imitation.Evaluate(candidates, im, request, ct);
        double baseline = _imitation.BaselineLoss > 0 ? _imitation.BaselineLoss : 1.0;
        var imitation = new double[n];
        for (int i = 0; i < n; i++) imitation[i] = double.IsFinite(im[i * _imitation.ObjectiveCount]) ? im[i * _imitation.ObjectiveCount] / baseline : double.PositiveInfinity;

        var trees = candidates.ToArray();
        var hashes = trees.Select(StructuralHash.Of).ToArray();
        var scores = new double[n][];
        var pending = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (!(imitation[i] <= _settings.ImitationPass)) continue;
            if (_cache.TryGetValue(hashes[i], out var cached)) scores[i] = cached;
            else if (!pending.Any(j => hashes[j] == hashes[i])) pending.Add(i);
        }
        if (pending.Count > 0) RollOut(pending, trees, hashes, ct);
        for (int i = 0; i < n; i++)
        {
            scores[i] ??= _cache.TryGetValue(hashes[i], out var s) ? s : [];
            double rollout = Combine(scores[i]);
            double combined = double.IsFinite(imitation[i]) ? _settings.ImitationWeight * imitation[i] + _settings.RolloutWeight * rollout : double.PositiveInfinity;
            var o = objectives.Slice(i * k, k);
            o[0] = combined;
            o[1] = imitation[i];
            for (int s2 = 0; s2 < _stages.Length; s2++) o[2 + s2] = s2 < scores[i].Length ? scores[i][s2] : double.NaN;
        }
    }

    // Score of the deepest stage reached; stopping early adds the untested penalty to the last score seen.
    private double Combine(double[] stageScores)
    {
        if (stageScores.Length == 0) return _settings.UntestedScore;
        if (stageScores.Length == _stages.Length) return stageScores[^1];
        return Math.Min(_settings.DivergedScore, stageScores[^1] + _settings.UntestedScore);
    }

    private void RollOut(List<int> pending, Expr[] trees, ulong[] hashes, CancellationToken ct)
    {
        _references ??= [.. _stages.Select(s => Reference(s))];
        var results = pending.ToDictionary(i => i, _ => new List<double>());
        var alive = pending;
        for (int s = 0; s < _stages.Length && alive.Count > 0; s++)
        {
            ct.ThrowIfCancellationRequested();
            var stage = _stages[s];
            var programs = new List<RuleProgram>();
            var compiled = new List<int>();
            foreach (var i in alive)
            {
                try { programs.Add(RuleProgram.Compile(UpdateRule(trees[i]), _features)); compiled.Add(i); }
                catch (ArgumentException) { results[i].Add(_settings.DivergedScore); }
            }
            var next = new List<int>();
            if (programs.Count > 0)
            {
                var outcome = PopulationRollout.Run(programs, stage.Family, new RolloutSettings(stage.Steps, stage.Seeds, _features), _device);
                RolloutsRun += programs.Count;
                for (int c = 0; c < compiled.Count; c++)
                {
                    var r = outcome[c];
                    double score = r.Diverged || !double.IsFinite(r.FinalLoss) ? _settings.DivergedScore : Math.Min(_settings.DivergedScore, r.FinalLoss / _references[s]);
                    results[compiled[c]].Add(score);
                    if (score <= stage.PassBelow) next.Add(compiled[c]);
                }
            }
            alive = next;
        }
        foreach (var i in pending) _cache[hashes[i]] = [.. results[i]];
    }

    private double Reference(RolloutStage stage)
    {
        var r = PopulationRollout.Run([RuleProgram.Compile(new Expr.Const(0.0), _features)], stage.Family,
            new RolloutSettings(stage.Steps, stage.Seeds, _features), _device)[0];
        return r.FinalLoss > 0 && double.IsFinite(r.FinalLoss) ? r.FinalLoss : 1.0;
    }

    /// <summary>
    /// Warm-start rules in the recorded features' terms: <c>-1 · f</c> for each base feature present at lag 0
    /// (g: SGD, mom5/mom9/mom99/m: momentum, mt: Adam with the paper's β, gt: RMSprop-like), in the raw-output scale.
    /// </summary>
    public static IReadOnlyList<Expr> WarmStarts(IEnumerable<string> featureNames)
    {
        var names = featureNames.ToHashSet(StringComparer.Ordinal);
        var rules = new List<Expr>();
        foreach (var baseName in new[] { "g", "mom5", "mom9", "mom99", "m", "mt", "gt" })
        {
            var name = new[] { baseName, baseName + "0", baseName + "_0" }.FirstOrDefault(names.Contains);
            if (name is not null) rules.Add(new Expr.Binary(Op.Mul, new Expr.Const(-1.0), new Expr.Var(name)));
        }
        return rules;
    }
}
