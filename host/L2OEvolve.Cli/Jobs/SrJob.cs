using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Regression;
using L2OEvolve.Cluster;
using Polly;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// The <c>sr</c> job kind: symbolic regression on a table, run by the search engine (<see cref="Evolution"/>) and
/// saved with its codec (<see cref="SearchStateCodec"/>). This adapter only loads inputs and translates.
/// </summary>
/// <param name="evaluationGuard">Wraps every fitness batch (timeout, retries); null runs the fitness bare.</param>
/// <param name="step">Makes each generation; null is <see cref="Evolution.Step"/> (cluster mode passes its lockstep stepper).</param>
public sealed class SrJobFactory(ResiliencePipeline? evaluationGuard = null, GenerationStep? step = null) : ISearchJobFactory
{
    /// <summary>The setting for <c>sr --batch-rows</c>: select on a strided subset of this many rows (0 = all).</summary>
    public const string BatchRowsKey = "batchRows";

    /// <summary>The default of <c>sr --batch-rows</c>.</summary>
    public const int DefaultBatchRows = SearchKnobs.DefaultBatchRows;

    /// <summary>The funnel options a spec asks for (<see cref="RolloutOptions.None"/> without <c>rolloutOptimizee</c>); bad values throw <see cref="FormatException"/> naming the setting.</summary>
    public static RolloutOptions Rollouts(JobSpec spec) => RolloutOptions.FromSettings(spec.Settings);

    public string Kind => "sr";

    public IReadOnlyList<JobFault> Validate(JobSpec spec)
    {
        var faults = new List<JobFault>();
        var settings = SearchSettings.Default(spec.Seed);
        foreach (var (key, value) in spec.Settings)
        {
            if (RolloutOptions.IsSetting(key)) continue;
            if (key == BatchRowsKey)
            {
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var rows) || rows < 0)
                    faults.Add(new("", $"settings.{key}", $"'{value}': expected an integer >= 0"));
                continue;
            }
            if (!SearchKnobs.IsKnown(key))
            {
                faults.Add(new("", $"settings.{key}", $"unknown setting (known: {string.Join(", ", SearchKnobs.Names.Append(BatchRowsKey).Concat(RolloutOptions.SettingNames.Values).Order(StringComparer.Ordinal))})"));
                continue;
            }
            try { settings = SearchKnobs.Apply(settings, key, value); }
            catch (FormatException e) { faults.Add(new("", $"settings.{key}", $"'{value}': {e.Message}")); }
        }
        foreach (var (what, fault) in SearchLimits.PopulationFaults(settings.Population.Islands, settings.Population.Size, "settings.islands", "settings.populationSize"))
            faults.Add(new("", what, fault));
        try
        {
            var rollouts = Rollouts(spec);
            foreach (var (field, fault) in rollouts.Faults()) faults.Add(new("", $"settings.{RolloutOptions.SettingNames[field]}", fault));
            if (!rollouts.Enabled && spec.Settings.Keys.FirstOrDefault(RolloutOptions.IsSetting) is { } orphan)
                faults.Add(new("", $"settings.{orphan}", $"applies only with settings.{RolloutOptions.SettingNames["optimizee"]} (the funnel's rollout stages)"));
        }
        catch (FormatException e)
        {
            int colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            faults.Add(new("", e.Message[..colon], e.Message[(colon + 2)..]));
        }
        foreach (var text in spec.WarmStart)
        {
            try { Equations.Parse(text, "equation"); }
            catch (InputException e) { faults.Add(new("", "warmStart", e.Message)); }
        }
        return faults;
    }

    /// <summary>
    /// The search settings a spec asks for: the engine's defaults, the job's seed, then its settings in key order;
    /// unless set, offspring per generation is a quarter of the island size, as <c>sr</c> chooses it.
    /// </summary>
    public static SearchSettings Settings(JobSpec spec)
    {
        var s = spec.Settings.Where(kv => kv.Key != BatchRowsKey && !RolloutOptions.IsSetting(kv.Key))
            .Aggregate(SearchSettings.Default(spec.Seed), (s, kv) => SearchKnobs.Apply(s, kv.Key, kv.Value));
        foreach (var (what, fault) in SearchLimits.PopulationFaults(s.Population.Islands, s.Population.Size, "settings.islands", "settings.populationSize"))
            throw new InputException(fault, location: what);
        return spec.Settings.ContainsKey("offspring") ? s : SearchKnobs.WithQuarterOffspring(s);
    }

    /// <summary>The search context of a spec, as <see cref="Prepare"/> builds it (a cluster silo's islands step in it).</summary>
    public SearchContext Context(JobSpec spec) => ((Prepared)Prepare(spec)).Context;

    /// <summary>Loads the job's inputs and builds the search context exactly as <c>sr</c> does for the same options.</summary>
    public IPreparedJob Prepare(JobSpec spec)
    {
        try
        {
            var (grammar, problem, warm) = RegressionInputs.Load(spec.Grammar, spec.Data, spec.Target,
                spec.Features.IsEmpty ? null : spec.Features, spec.DropNonFinite, spec.WarmStart, "warmStart");
            var settings = Settings(spec);
            int batchRows = spec.Settings.TryGetValue(BatchRowsKey, out var b) ? int.Parse(b, CultureInfo.InvariantCulture) : DefaultBatchRows;
            var selecting = problem.Fitness.Subsample(batchRows);
            RolloutOptions rollouts;
            try { rollouts = Rollouts(spec); }
            catch (FormatException e) { throw new JobInputException(e.Message, e); }
            if (rollouts.Faults() is { Count: > 0 } rolloutFaults)
                throw new JobInputException(string.Join("; ", rolloutFaults.Select(f => $"settings.{RolloutOptions.SettingNames[f.Field]}: {f.Fault}")));
            var context = rollouts.Context(settings, grammar, selecting, spec.Threads);
            // A throughput setting shared by the daemon's jobs; the scores do not depend on it (PopulationRollout).
            if (rollouts.Enabled) L2OEvolve.Torch.Rollouts.PopulationRollout.Workers = Math.Max(L2OEvolve.Torch.Rollouts.PopulationRollout.Workers, spec.Threads);
            if (evaluationGuard is not null) context = context with { Fitness = new GuardedFitness(context.Fitness, evaluationGuard) };
            var fingerprint = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
                ["data"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(spec.Data))),
                ["target"] = problem.TargetName,
                ["features"] = string.Join(",", problem.Features),
                ["grammar"] = grammar.ContentHash,
                ["warmStart"] = string.Join("\n", warm.Select(Infix.Print)),
                ["batchRows"] = batchRows.ToString(CultureInfo.InvariantCulture),
                ["settings"] = Convert.ToBase64String(SearchSettingsCodec.Serialize(settings)),
            };
            // The funnel's settings shape every score, so each must match on resume; a job without rollouts adds
            // none, so its checkpoints from before the funnel existed still resume.
            if (rollouts.Enabled)
                foreach (var (key, value) in rollouts.AsSettings()) fingerprint["settings." + key] = value;
            // sr's --target-r2 rule: R² = 1 - loss / baseline, with the baseline of every row.
            double? targetLoss = spec.Budget.TargetR2 is { } r2 ? (1 - r2) * problem.Fitness.BaselineLoss : null;
            return new Prepared(context, problem.Fitness, grammar, warm, fingerprint, targetLoss, rollouts, step);
        }
        catch (InputException e) { throw new JobInputException(e.Message, e); }
    }

    private sealed class Prepared(SearchContext context, MseFitness fitness, Grammar grammar, IReadOnlyList<Expr> warm,
        IReadOnlyDictionary<string, string> fingerprint, double? targetLoss, RolloutOptions rollouts, GenerationStep? step) : IPreparedJob
    {
        public SearchContext Context => context;

        public IReadOnlyDictionary<string, string> Fingerprint => fingerprint;

        /// <summary>
        /// Inputs and seed must match exactly; settings go through the engine's own check, which lets the fields that
        /// only steer future generations (mutation weights, rates) change and refuses the ones that shape the state.
        /// </summary>
        public IReadOnlyList<string> IncompatibleFields(IReadOnlyDictionary<string, string> saved)
        {
            var changed = Fingerprints.Changed(saved, fingerprint).Where(f => f != "settings").ToList();
            if (saved.TryGetValue("settings", out var old) && old != fingerprint["settings"])
            {
                try
                {
                    var report = Compatibility.Check(SearchSettingsCodec.Deserialize(Convert.FromBase64String(old)), context.Settings);
                    changed.AddRange(report.Incompatible.Select(f => "settings." + f));
                }
                catch (FormatException)
                {
                    changed.Add("settings");
                }
            }
            return changed.Order(StringComparer.Ordinal).ToList();
        }

        public ISearchJob Start(CancellationToken cancellationToken = default) =>
            new SrJob(context, fitness, grammar, Evolution.Initialize(context, warm, cancellationToken), targetLoss, rollouts, step);

        public string InitialPopulation =>
            $"the initial population of {context.Settings.Population.Islands} × {context.Settings.Population.Size} members (settings.islands × settings.populationSize)";

        public ISearchJob Resume(byte[] state)
        {
            try { return new SrJob(context, fitness, grammar, SearchStateCodec.Deserialize(state), targetLoss, rollouts, step); }
            catch (FormatException e) { throw new JobIncompatibleException([$"state ({e.Message})"]); }
        }
    }
}

/// <summary>One immutable snapshot of an <c>sr</c> search: the engine's state plus the context it steps in.</summary>
/// <remarks>
/// <paramref name="fitness"/> is the loss on every row; selection may use a subset (<c>batchRows</c>), so the
/// reported hall of fame is rescored on all rows, as <c>sr</c> reports it. Progress (<see cref="Front"/>) shows the
/// selection losses, which cost nothing to read.
/// </remarks>
/// <param name="targetLoss">The loss the job's target R² stands for; the search has converged once its best loss reaches it.</param>
/// <param name="rollouts">The funnel options the context was built with (they decide how the hall of fame is reported).</param>
/// <param name="step">Makes each generation; null is <see cref="Evolution.Step"/>.</param>
public sealed class SrJob(SearchContext context, MseFitness fitness, Grammar grammar, SearchState state, double? targetLoss = null,
    RolloutOptions? rollouts = null, GenerationStep? step = null) : ISearchJob
{
    /// <summary>The engine's state.</summary>
    public SearchState State => state;

    public long Generation => state.Generation;
    public long Evaluations => state.Evaluations;
    public bool IsConverged => targetLoss is { } t && state.HallOfFame.Members.Any(m => m.Loss <= t);

    public IReadOnlyList<FrontPoint> Front =>
        state.HallOfFame.ParetoFront().Select(m => new FrontPoint(m.Complexity, m.Loss, Infix.Print(m.Tree),
            rollouts is { Enabled: true } && m.Objectives.Length > 1 ? [.. m.Objectives.Skip(1)] : null)).ToList();

    public ISearchJob Step(CancellationToken cancellationToken)
    {
        var next = (step ?? Evolution.Step)(state, context, cancellationToken);
        // The engine returns its input when cancelled mid-generation; surface that as a cancellation, not progress.
        if (ReferenceEquals(next, state)) cancellationToken.ThrowIfCancellationRequested();
        return new SrJob(context, fitness, grammar, next, targetLoss, rollouts, step);
    }

    public byte[] SaveState() => SearchStateCodec.Serialize(state);

    /// <summary>
    /// The fitness cache's hits, misses and entries held and, with the funnel, the rollouts run and the rollout records
    /// held, in this process. The entries only grow within a session, up to the caches' fixed capacities: a long run's
    /// memory for them reaches a plateau.
    /// </summary>
    public IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(StringComparer.Ordinal);
            if (context.Cache is { } cache)
            {
                counters["cacheHits"] = cache.Hits;
                counters["cacheMisses"] = cache.Misses;
                counters["cacheEntries"] = cache.Count;
            }
            var fitness = context.Fitness is GuardedFitness guarded ? guarded.Inner : context.Fitness;
            if (fitness is L2OEvolve.Torch.Funnel.FunnelFitness funnel)
            {
                counters["rollouts"] = funnel.RolloutsRun;
                counters["rolloutRecords"] = funnel.RecordsHeld;
            }
            return counters;
        }
    }


    /// <summary>
    /// What <c>sr</c> reports: the hall of fame simplified, pruned and rescored on every row; its Pareto front as CSV;
    /// then the chosen and the most accurate equation.
    /// </summary>
    public JobReport Report()
    {
        var reported = (rollouts ?? RolloutOptions.None).Report(state.HallOfFame, fitness, grammar);
        return new JobReport(HallOfFameReport.Csv(reported.ParetoFront(), fitness),
            HallOfFameReport.Summary(reported, fitness, state.Generation, state.Evaluations));
    }
}
