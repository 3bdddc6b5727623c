using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;
using L2OEvolve.Torch.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>sr</c>: symbolic regression of a table's target (or a trajectory's) under a grammar, writing the hall of fame.</summary>
internal static class SrCommand
{
    public static Command Create()
    {
        var o = new SearchOptions();
        var time = new Option<string?>("--time") { Description = "Time budget, e.g. 60s, 2m, 1h (default 60s unless --generations or --evaluations is given)" };
        var generations = new Option<int?>("--generations") { Description = "Stop after this many generations" };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var quiet = new Option<bool>("--quiet") { Description = "No live progress lines" };
        var @out = new Option<string>("--out") { Description = "Output directory (hall_of_fame.csv, hall_of_fame.tex, state.msgpack: the final search state framed as a checkpoint)", Required = true };

        var cmd = new Command("sr", "Symbolic regression: evolve formulas for a target under a grammar.");
        foreach (var option in o.All().Concat([time, generations, threads, quiet, @out])) cmd.Options.Add(option);
        cmd.SetAction((parse, ct) => CommandErrors.Guard(() => Task.FromResult(Run(new Args(
            parse.GetValue(o.Data)!, parse.GetValue(o.Target), RegressionData.ParseList(parse.GetValue(o.Features)), parse.GetValue(o.Grammar)!,
            parse.GetValue(time), parse.GetValue(generations), parse.GetValue(o.Evaluations), parse.GetValue(o.TargetLoss), parse.GetValue(o.TargetR2),
            parse.GetValue(o.Seed), parse.GetValue(threads), parse.GetValue(o.Islands), parse.GetValue(o.Population),
            parse.GetValue(o.WarmStart) ?? [], parse.GetValue(o.BatchRows) ?? SearchKnobs.DefaultBatchRows, parse.GetValue(o.DropNonFinite),
            parse.GetValue(quiet), parse.GetValue(@out)!, o.Rollouts(parse)), ct))));
        return cmd;
    }

    private sealed record Args(string Data, string? Target, IReadOnlyList<string>? Features, string Grammar, string? Time, int? Generations,
        long? Evaluations, double? TargetLoss, double? TargetR2, ulong Seed, int Threads, int? Islands, int? Population, string[] WarmStart, int BatchRows, bool DropNonFinite,
        bool Quiet, string Out, RolloutOptions Rollouts);

    private static int Run(Args a, CancellationToken ct)
    {
        if (a.Threads is < 1 or > SearchLimits.MaxThreads) throw new InputException($"--threads must be between 1 and {SearchLimits.MaxThreads}, got {a.Threads}");
        if (a.Islands is < 1) throw new InputException($"--islands must be at least 1, got {a.Islands}");
        if (a.Population is < 2) throw new InputException($"--population must be at least 2, got {a.Population}");
        var defaultShape = SearchSettings.Default(a.Seed).Population;
        foreach (var (what, fault) in SearchLimits.PopulationFaults(a.Islands ?? defaultShape.Islands, a.Population ?? defaultShape.Size, "--islands", "--population"))
            throw new InputException($"{what}: {fault}");
        if (string.IsNullOrWhiteSpace(a.Out)) throw new InputException("--out: the output directory is empty");
        if (a.BatchRows < 0) throw new InputException($"--batch-rows must be ≥ 0, got {a.BatchRows}");
        // With --rollout-optimizee the search runs on the pipeline's funnel: imitation for all, rollouts for those that pass.
        var rollouts = a.Rollouts;
        if (rollouts.Faults() is { Count: > 0 } rolloutFaults) throw new InputException(string.Join("; ", rolloutFaults.Select(f => $"{RolloutOption(f.Field)}: {f.Fault}")));
        var (grammar, problem, warm) = RegressionInputs.Load(a.Grammar, a.Data, a.Target, a.Features, a.DropNonFinite, a.WarmStart, "--warm-start");
        var termination = Termination(a, problem.Fitness.BaselineLoss);
        // The output directory is made before the search, so a bad --out fails now rather than after the whole budget.
        if (File.Exists(a.Out)) throw new InputException("a file, not a directory", a.Out, "--out");
        try { Directory.CreateDirectory(a.Out); }
        catch (IOException e) { throw new InputException($"cannot create the directory: {e.Message}", a.Out, "--out"); }

        var settings = SearchKnobs.Default(a.Seed, a.Islands, a.Population);
        var full = problem.Fitness;
        var selecting = full.Subsample(a.BatchRows);
        var ctx = rollouts.Context(settings, grammar, selecting, a.Threads);
        if (rollouts.Enabled)
        {
            // --threads bounds libtorch too: rollouts run that many candidates side by side, each single-threaded,
            // so the scores are the same for every --threads (PopulationRollout); other libtorch work gets as many.
            L2OEvolve.Torch.TorchSetup.SetThreads(a.Threads);
            L2OEvolve.Torch.Rollouts.PopulationRollout.Workers = a.Threads;
        }

        Console.WriteLine($"data     {problem.Description}");
        if (!ReferenceEquals(selecting, full)) Console.WriteLine($"batch    selecting on {selecting.Size} of {full.Size} values; the hall of fame is rescored on all");
        Console.WriteLine($"grammar  {grammar.Name} ({grammar.Ops.Length} operators, maxsize {grammar.MaxSize}), seed {a.Seed}, threads {a.Threads}, stop: {Describe(termination)}");
        var clock = Stopwatch.StartNew();
        // The time budget covers the initial population too: a huge one must not run far past --time unnoticed.
        SearchState state;
        using (var initial = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            if (termination.Deadline is { } deadline && deadline < TimeSpan.FromDays(40)) initial.CancelAfter(deadline < TimeSpan.Zero ? TimeSpan.Zero : deadline);
            try { state = Evolution.Initialize(ctx, warm, initial.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new InputException($"--time: the budget ran out while scoring the initial population of {settings.Population.Islands} × {settings.Population.Size} members; " +
                    "raise --time or lower --islands/--population");
            }
        }
        var afterInit = new AfterSpent(termination, clock.Elapsed);
        using (var progress = ProgressDisplay.Start("sr", Console.Out, TimeSpan.FromSeconds(1)))
        {
            state = Evolution.Run(state, ctx, afterInit, (s, p) =>
            {
                if (!a.Quiet) progress.Report(BudgetFraction(a, s, clock.Elapsed), 1, Progress(s, ctx, clock.Elapsed));
            }, ct);
        }
        double seconds = clock.Elapsed.TotalSeconds;

        // Funnel scores are not rescored on all rows (that would rerun the rollouts); R2 is then 1 − imitation loss.
        var hallOfFame = rollouts.Report(state.HallOfFame, full, grammar);
        var front = hallOfFame.ParetoFront();
        File.WriteAllText(Path.Combine(a.Out, "hall_of_fame.csv"), HallOfFameReport.Csv(front, problem.Fitness));
        File.WriteAllText(Path.Combine(a.Out, "hall_of_fame.tex"), HallOfFameReport.Tex(front, problem.Fitness, problem.TargetName));
        // The daemon's checkpoint framing (header + SHA-256) and atomic write: a crash or a full disk while writing
        // leaves the previous state file, and a damaged one is recognised as such when read.
        Checkpoints.CheckpointFile.WriteAtomically(Checkpoints.PhysicalFileSystem.Instance, Path.Combine(a.Out, "state.msgpack"), SearchStateCodec.Serialize(state));

        Console.WriteLine(Progress(state, ctx, clock.Elapsed));
        Console.WriteLine($"done     {state.Generation} generations, {state.Evaluations} evaluations ({ctx.Cache?.Misses ?? state.Evaluations} computed) in {seconds.ToString("F1", CultureInfo.InvariantCulture)} s; wrote {Path.Combine(a.Out, "hall_of_fame.csv")}");
        var chosen = hallOfFame.Chosen();
        var best = hallOfFame.MostAccurate();
        if (chosen is null || best is null)
        {
            Console.WriteLine("no finite candidate was found");
            return 1;
        }
        Console.WriteLine($"chosen   {HallOfFameReport.Line(chosen, problem.Fitness)}");
        Console.WriteLine($"accurate {HallOfFameReport.Line(best, problem.Fitness)}");
        return 0;
    }

    /// <summary>The <c>sr</c> option a <see cref="RolloutOptions.Faults"/> field stands for.</summary>
    internal static string RolloutOption(string field) => field switch
    {
        "optimizee" => "--rollout-optimizee",
        "steps" => "--rollout-steps",
        "seeds" => "--rollout-seeds",
        "scale" => "--rollout-scale",
        _ => "--imitation-pass",
    };

    private static string Progress(SearchState s, SearchContext ctx, TimeSpan elapsed)
    {
        double rate = (ctx.Cache?.Misses ?? s.Evaluations) / Math.Max(1e-9, elapsed.TotalSeconds);
        var front = s.HallOfFame.ParetoFront();
        var shown = front.Length <= 8 ? front : [.. front.Take(4), .. front.Skip(front.Length - 4)];
        return $"gen {s.Generation,6}  evals {s.Evaluations,10}  {G(rate)}/s  best by complexity: " +
               string.Join(" ", shown.Select(m => $"{m.Complexity}:{G(m.Loss)}"));
    }

    /// <summary>How much of the nearest budget is spent (0..1): generations, evaluations or time, as <see cref="Termination"/> reads them.</summary>
    private static double BudgetFraction(Args a, SearchState s, TimeSpan elapsed)
    {
        var spent = new List<double>();
        if (a.Generations is { } g && g > 0) spent.Add(s.Generation / (double)g);
        if (a.Evaluations is { } e && e > 0) spent.Add(s.Evaluations / (double)e);
        if (a.Time is not null) spent.Add(elapsed / Durations.ParseBudget(a.Time));
        if (a.Generations is null && a.Evaluations is null && a.Time is null) spent.Add(elapsed / TimeSpan.FromSeconds(60));
        return spent.Count == 0 ? 0 : Math.Min(1, spent.Max());
    }

    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    private static ITermination Termination(Args a, double baseline)
    {
        var parts = new List<ITermination>();
        if (a.Time is not null) parts.Add(new TimeTermination(Durations.ParseBudget(a.Time)));
        if (a.Generations is { } g) parts.Add(g >= 0 ? new GenerationTermination(g) : throw new InputException($"--generations must be ≥ 0, got {g}"));
        if (a.Evaluations is { } e) parts.Add(e > 0 ? new EvaluationTermination(e) : throw new InputException($"--evaluations must be positive, got {e}"));
        if (parts.Count == 0) parts.Add(new TimeTermination(TimeSpan.FromSeconds(60)));
        if (a.TargetLoss is { } l) parts.Add(!double.IsNaN(l) ? new TargetLossTermination(l) : throw new InputException("--target-loss must be a number, got NaN"));
        if (a.TargetR2 is { } r2) parts.Add(r2 <= 1 ? new TargetLossTermination((1 - r2) * baseline) : throw new InputException($"--target-r2 must be a number at most 1, got {r2}"));
        return parts.Count == 1 ? parts[0] : new OrTermination([.. parts]);
    }

    private static string Describe(ITermination t) => t switch
    {
        TimeTermination x => $"after {x.Budget.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
        GenerationTermination x => $"after {x.Generations} generations",
        EvaluationTermination x => $"after {x.Evaluations} evaluations",
        TargetLossTermination x => $"at loss ≤ {G(x.Loss)}",
        OrTermination x => string.Join(" or ", x.Parts.Select(Describe)),
        _ => t.ToString() ?? "",
    };
}
