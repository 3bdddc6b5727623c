using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Security.Cryptography;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Benchmarks;

/// <summary>
/// Where a generation of <c>sr</c>'s search loop spends its time, in process: the row evaluator against everything
/// around it (compiling a rule, constant fitting, variation, memo, bookkeeping, thread hand-offs). The fitness is
/// wrapped so that each candidate's compile and row evaluation are timed apart; the search itself is unchanged, so the
/// final state's digest (printed) is the same as an unwrapped run's, and identical across builds whose search
/// arithmetic is identical. Run: <c>./run.sh bench search [--data F] [--grammar F] [--threads N] [--warm G] [--generations G] [--seed S] [--alloc] [--no-memo]</c>.
/// </summary>
public static class SearchLoopTiming
{
    /// <summary>Runs the warm-up generations, then times the measured ones and prints the split.</summary>
    public static void Run(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        string data = Arg("--data", "runs/search-speed/data/poly.csv"), grammarPath = Arg("--grammar", "grammars/arith.json");
        int threads = int.Parse(Arg("--threads", "1")), warm = int.Parse(Arg("--warm", "500")), generations = int.Parse(Arg("--generations", "2000"));
        ulong seed = ulong.Parse(Arg("--seed", "1"));

        var inputs = RegressionInputs.Load(grammarPath, data, null, null, false, [], "warm start");
        var fitness = new TimedFitness(inputs.Problem.Fitness.Subsample(SearchKnobs.DefaultBatchRows), memo: !args.Contains("--no-memo"));
        var settings = SearchKnobs.Default(seed, null, null);
        var ctx = SearchContext.Create(settings, inputs.Grammar, fitness, fitness, Simplify.Apply, threads);

        var state = Evolution.Initialize(ctx, []);
        for (int g = 0; g < warm; g++) state = Evolution.Step(state, ctx);
        fitness.Reset();
        using var allocations = args.Contains("--alloc") ? new AllocationTally() : null;
        long evaluations = state.Evaluations, gen0 = GC.CollectionCount(0), alloc0 = GC.GetTotalAllocatedBytes(precise: false);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var pause0 = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        for (int g = 0; g < generations; g++) state = Evolution.Step(state, ctx);
        double wall = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        evaluations = state.Evaluations - evaluations;

        double evaluate = fitness.EvaluateSeconds, compile = fitness.CompileSeconds, tune = fitness.TuneSeconds;
        double rest = cpu - evaluate - compile - tune;
        string digest = Convert.ToHexStringLower(SHA256.HashData(SearchStateCodec.Serialize(state)))[..16];
        Console.WriteLine($"# search loop: {data}, {grammarPath}, {threads} thread(s), generations {warm}..{warm + generations}, seed {seed}, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine($"evals/s {evaluations / wall:F0}  evals per CPU-s {evaluations / cpu:F0}  ({evaluations} evaluations, {fitness.Computed} computed, {fitness.Tunings} tunings; wall {wall:F2} s, CPU {cpu:F2} s)");
        Console.WriteLine($"allocated {(GC.GetTotalAllocatedBytes(precise: false) - alloc0) / (double)evaluations:F0} B/eval, gen0 GCs {GC.CollectionCount(0) - gen0}, " +
            $"GC pauses {(GC.GetTotalPauseDuration() - pause0).TotalSeconds:F2} s");
        Console.WriteLine("| part | CPU s | share | µs per evaluation |");
        Console.WriteLine("|---|---|---|---|");
        void Row(string part, double s) => Console.WriteLine($"| {part} | {s:F2} | {100 * s / cpu:F1}% | {1e6 * s / evaluations:F2} |");
        Row("row evaluator (Evaluator.Mse)", evaluate);
        Row("compiling rules for it", compile);
        Row("constant fitting (LM, with its compiles)", tune);
        Row("the rest: variation, memo, bookkeeping, hand-offs, GC", rest);
        Console.WriteLine($"search overhead / row evaluation = {(cpu - evaluate) / evaluate:F2} (with compiling counted as evaluation: {(cpu - evaluate - compile) / (evaluate + compile):F2})");
        Console.WriteLine($"final state digest {digest}");
        allocations?.Print(evaluations);
    }

    /// <summary>Bytes allocated by type, sampled by the runtime's allocation ticks (one event per ~100 KB allocated,
    /// naming the type of the object that crossed the mark), so the shares are estimates proportional to bytes.</summary>
    private sealed class AllocationTally : EventListener
    {
        private readonly Dictionary<string, long> _bytes = [];
        private bool _on;

        public AllocationTally() => _on = true;

        protected override void OnEventSourceCreated(EventSource source)
        {
            // Keyword 0x1 is GC; AllocationTick is a verbose event.
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!_on || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            int typeAt = e.PayloadNames!.IndexOf("TypeName"), amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
            if (typeAt < 0) return;
            string type = e.Payload[typeAt] as string ?? "?";
            long amount = amountAt >= 0 ? Convert.ToInt64(e.Payload[amountAt]) : 100_000;
            lock (_bytes) _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }

        public void Print(long evaluations)
        {
            _on = false;
            Dictionary<string, long> copy;
            lock (_bytes) copy = new(_bytes);
            long total = copy.Values.Sum();
            Console.WriteLine("| allocated type (sampled) | share | B per evaluation |");
            Console.WriteLine("|---|---|---|");
            foreach (var (type, bytes) in copy.OrderByDescending(kv => kv.Value).Take(25))
                Console.WriteLine($"| {type} | {100.0 * bytes / total:F1}% | {bytes / (double)evaluations:F0} |");
        }
    }

    /// <summary>An MSE fitness whose compile, row evaluation and tuning are timed (summed over threads); the scores are the inner fitness's own.</summary>
    private sealed class TimedFitness(MseFitness inner, bool memo) : ICandidateFitness, IConstantTuner
    {
        // Each thread adds to its own tallies, summed when read: shared counters updated four times per candidate
        // would be a cache line both threads keep taking from each other, slowing the very loop being timed.
        private sealed class Tally { public long Compile, Evaluate, Tune, Computed, Tunings; }
        private readonly ThreadLocal<Tally> _tallies = new(() => new Tally(), trackAllValues: true);
        [ThreadStatic] private static EvalWorkspace? t_ws;

        private long Sum(Func<Tally, long> part) => _tallies.Values.Sum(part);
        public double CompileSeconds => Sum(t => t.Compile) / (double)Stopwatch.Frequency;
        public double EvaluateSeconds => Sum(t => t.Evaluate) / (double)Stopwatch.Frequency;
        public double TuneSeconds => Sum(t => t.Tune) / (double)Stopwatch.Frequency;
        public long Computed => Sum(t => t.Computed);
        public long Tunings => Sum(t => t.Tunings);

        public void Reset()
        {
            foreach (var t in _tallies.Values) t.Compile = t.Evaluate = t.Tune = t.Computed = t.Tunings = 0;
        }

        public int ObjectiveCount => inner.ObjectiveCount;
        public double BaselineLoss => inner.BaselineLoss;
        // A search memoises only deterministic fitnesses: --no-memo times the loop without its memo (same results).
        public bool IsDeterministic => memo && inner.IsDeterministic;

        public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
        {
            for (int i = 0; i < candidates.Length; i++) EvaluateOne(candidates[i], objectives.Slice(i, 1));
        }

        public void EvaluateOne(Expr candidate, Span<double> objectives)
        {
            long t0 = Stopwatch.GetTimestamp();
            CompiledRule? rule;
            try { rule = Compiler.Compile(candidate, inner.FeatureNames); }
            catch (ArgumentException) { rule = null; }
            long t1 = Stopwatch.GetTimestamp();
            objectives[0] = rule is null ? double.PositiveInfinity : inner.Loss(rule, t_ws ??= new EvalWorkspace());
            long t2 = Stopwatch.GetTimestamp();
            var tally = _tallies.Value!;
            tally.Compile += t1 - t0;
            tally.Evaluate += t2 - t1;
            tally.Computed++;
        }

        public Expr Tune(Expr tree, CancellationToken ct)
        {
            long t0 = Stopwatch.GetTimestamp();
            var tuned = inner.Tune(tree, ct);
            var tally = _tallies.Value!;
            tally.Tune += Stopwatch.GetTimestamp() - t0;
            tally.Tunings++;
            return tuned;
        }
    }
}
