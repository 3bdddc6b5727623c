using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// The <c>sr</c> job kind: symbolic regression on a table, run by the search engine (<see cref="Evolution"/>) and
/// saved with its codec (<see cref="SearchStateCodec"/>). This adapter only loads inputs and translates.
/// </summary>
public sealed class SrJobFactory : ISearchJobFactory
{
    /// <summary>Job-file <c>settings</c> keys and how each one edits <see cref="SearchSettings"/>.</summary>
    private static readonly Dictionary<string, Func<SearchSettings, string, SearchSettings>> Knobs = new(StringComparer.Ordinal)
    {
        ["islands"] = (s, v) => s with { Population = s.Population with { Islands = Int(v, 1) } },
        ["populationSize"] = (s, v) => s with { Population = s.Population with { Size = Int(v, 2) } },
        ["offspring"] = (s, v) => s with { Population = s.Population with { OffspringPerGeneration = Int(v, 1) } },
        ["initialMaxSize"] = (s, v) => s with { Population = s.Population with { InitialMaxSize = Int(v, 1) } },
        ["tournamentSize"] = (s, v) => s with { Selection = s.Selection with { TournamentSize = Int(v, 1) } },
        ["tournamentProbability"] = (s, v) => s with { Selection = s.Selection with { TournamentProbability = Probability(v) } },
        ["adaptiveParsimony"] = (s, v) => s with { Selection = s.Selection with { AdaptiveParsimonyScaling = NonNegative(v) } },
        ["crossoverProbability"] = (s, v) => s with { Variation = s.Variation with { CrossoverProbability = Probability(v) } },
        ["temperature"] = (s, v) => s with { Variation = s.Variation with { Temperature = NonNegative(v) } },
        ["migrationInterval"] = (s, v) => s with { Migration = s.Migration with { Interval = Int(v, 0) } },
        ["migrationFraction"] = (s, v) => s with { Migration = s.Migration with { Fraction = Probability(v) } },
        ["hallOfFameFraction"] = (s, v) => s with { Migration = s.Migration with { HallOfFameFraction = Probability(v) } },
        ["optimizeProbability"] = (s, v) => s with { Constants = s.Constants with { OptimizeProbability = Probability(v) } },
        ["reinsertion"] = (s, v) => s with
        {
            Reinsertion = v switch
            {
                "replace-oldest" => ReinsertionKind.ReplaceOldest,
                "replace-worst" => ReinsertionKind.ReplaceWorst,
                _ => throw new FormatException("expected replace-oldest or replace-worst"),
            },
        },
    };

    public string Kind => "sr";

    public IReadOnlyList<JobFault> Validate(JobSpec spec)
    {
        var faults = new List<JobFault>();
        var settings = SearchSettings.Default(spec.Seed);
        foreach (var (key, value) in spec.Settings)
        {
            if (!Knobs.TryGetValue(key, out var apply))
            {
                faults.Add(new("", $"settings.{key}", $"unknown setting (known: {string.Join(", ", Knobs.Keys.Order(StringComparer.Ordinal))})"));
                continue;
            }
            try { settings = apply(settings, value); }
            catch (FormatException e) { faults.Add(new("", $"settings.{key}", $"'{value}': {e.Message}")); }
        }
        return faults;
    }

    /// <summary>The search settings a spec asks for: the engine's defaults, the job's seed, then its settings in key order.</summary>
    public static SearchSettings Settings(JobSpec spec) =>
        spec.Settings.Aggregate(SearchSettings.Default(spec.Seed), (s, kv) => Knobs[kv.Key](s, kv.Value));

    public IPreparedJob Prepare(JobSpec spec)
    {
        try
        {
            var grammar = GrammarJson.Load(spec.Grammar);
            var selection = RowDataset.Load(spec.Data).Select(spec.Features.IsEmpty ? null : spec.Features, spec.Target);
            grammar = grammar.BindFeatures(selection.Names);
            var settings = Settings(spec);
            var fitness = new RowMseFitness(selection);
            var context = SearchContext.Create(settings, grammar, fitness, threads: spec.Threads);
            var fingerprint = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
                ["data"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(spec.Data))),
                ["target"] = selection.TargetName,
                ["features"] = string.Join(",", selection.Names),
                ["grammar"] = grammar.ContentHash,
                ["settings"] = Convert.ToBase64String(SearchSettingsCodec.Serialize(settings)),
            };
            return new Prepared(context, fingerprint);
        }
        catch (InputException e) { throw new JobInputException(e.Message, e); }
    }

    private sealed class Prepared(SearchContext context, IReadOnlyDictionary<string, string> fingerprint) : IPreparedJob
    {
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
                catch (Exception e) when (e is FormatException)
                {
                    changed.Add("settings");
                }
            }
            return changed.Order(StringComparer.Ordinal).ToList();
        }

        public ISearchJob Start() => new SrJob(context, Evolution.Initialize(context, []));

        public ISearchJob Resume(byte[] state)
        {
            try { return new SrJob(context, SearchStateCodec.Deserialize(state)); }
            catch (FormatException e) { throw new JobIncompatibleException([$"state ({e.Message})"]); }
        }
    }

    private static int Int(string v, int min) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= min ? i : throw new FormatException($"expected an integer >= {min}");

    private static double Probability(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d is >= 0 and <= 1 ? d : throw new FormatException("expected a number in [0, 1]");

    private static double NonNegative(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && double.IsFinite(d) ? d : throw new FormatException("expected a number >= 0");
}

/// <summary>One immutable snapshot of an <c>sr</c> search: the engine's state plus the context it steps in.</summary>
public sealed class SrJob(SearchContext context, SearchState state) : ISearchJob
{
    /// <summary>The engine's state.</summary>
    public SearchState State => state;

    public long Generation => state.Generation;
    public long Evaluations => state.Evaluations;
    public bool IsConverged => false;

    public IReadOnlyList<FrontPoint> Front =>
        state.HallOfFame.Members.Select(m => new FrontPoint(m.Complexity, m.Loss, Infix.Print(m.Tree))).ToList();

    public ISearchJob Step(CancellationToken cancellationToken)
    {
        var next = Evolution.Step(state, context, cancellationToken);
        // The engine returns its input when cancelled mid-generation; surface that as a cancellation, not progress.
        if (ReferenceEquals(next, state)) cancellationToken.ThrowIfCancellationRequested();
        return new SrJob(context, next);
    }

    public byte[] SaveState() => SearchStateCodec.Serialize(state);

    public string HallOfFameCsv()
    {
        var sb = new StringBuilder("Complexity|Loss|R2|Equation\n");
        foreach (var m in state.HallOfFame.Members)
            sb.Append(CultureInfo.InvariantCulture, $"{m.Complexity}|{m.Loss:R}|{R2(m.Loss):R}|{Infix.Print(m.Tree)}\n");
        return sb.ToString();
    }

    public string RenderHallOfFame()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Hall of fame after {state.Generation} generations, {state.Evaluations} evaluations:\n");
        sb.Append("Complexity  Loss          R2        Equation\n");
        foreach (var m in state.HallOfFame.Members)
            sb.Append(CultureInfo.InvariantCulture, $"{m.Complexity,10}  {m.Loss,-12:G6}  {R2(m.Loss),-8:F4}  {Infix.Print(m.Tree)}\n");
        if (state.HallOfFame.Chosen() is { } chosen)
            sb.Append(CultureInfo.InvariantCulture, $"Chosen (best score):   {Infix.Print(chosen.Tree)}   (complexity {chosen.Complexity}, loss {chosen.Loss:G6}, R2 {R2(chosen.Loss):F4})\n");
        if (state.HallOfFame.MostAccurate() is { } best)
            sb.Append(CultureInfo.InvariantCulture, $"Most accurate:         {Infix.Print(best.Tree)}   (complexity {best.Complexity}, loss {best.Loss:G6}, R2 {R2(best.Loss):F4})\n");
        return sb.ToString();
    }

    private double R2(double loss) => context.Fitness.BaselineLoss > 0 ? 1 - loss / context.Fitness.BaselineLoss : double.NaN;
}
