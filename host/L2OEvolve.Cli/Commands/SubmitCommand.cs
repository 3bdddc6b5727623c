using System.Collections.Immutable;
using System.CommandLine;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>submit --home DIR --name NAME</c> with the data, grammar, budget and seed options of <c>sr</c>: validates
/// them and writes <c>DIR/jobs/NAME/job.json</c> for the daemon to pick up.
/// </summary>
public static class SubmitCommand
{
    /// <summary>Job-file fields and the options that set them, so a fault names what the user typed.</summary>
    private static readonly Dictionary<string, string> OptionOfField = new(StringComparer.Ordinal)
    {
        ["name"] = "--name", ["kind"] = "--kind", ["data"] = "--data", ["target"] = "--target", ["features"] = "--features",
        ["grammar"] = "--grammar", ["generations"] = "--generations", ["timeSeconds"] = "--time",
        ["evaluations"] = "--evaluations", ["seed"] = "--seed", ["threads"] = "--threads", ["targetLoss"] = "--target-loss", ["targetR2"] = "--target-r2",
        ["warmStart"] = "--warm-start", ["settings.islands"] = "--islands", ["settings.populationSize"] = "--population", ["settings.batchRows"] = "--batch-rows",
        ["settings.rolloutOptimizee"] = "--rollout-optimizee", ["settings.rolloutSteps"] = "--rollout-steps", ["settings.rolloutSeeds"] = "--rollout-seeds",
        ["settings.rolloutScale"] = "--rollout-scale", ["settings.imitationPass"] = "--imitation-pass",
    };

    public static Command Create() => Create(JobKinds.All());

    public static Command Create(IReadOnlyList<ISearchJobFactory> kinds)
    {
        var home = JobCommandHelpers.HomeOption();
        var name = new Option<string>("--name") { Description = "The job's name (letters, digits, _ . -).", Required = true };
        var kind = new Option<string>("--kind") { Description = "The job kind.", DefaultValueFactory = _ => "sr" };
        var data = new Option<string>("--data") { Description = "The dataset (CSV or .npy), as for sr.", Required = true };
        var target = new Option<string?>("--target") { Description = "The target column (default: the last)." };
        var features = new Option<string?>("--features") { Description = "Comma-separated feature columns (default: all but the target)." };
        var grammar = new Option<string>("--grammar") { Description = "The grammar file, as for sr.", Required = true };
        var time = new Option<string?>("--time") { Description = "Time budget (e.g. 60s, 2h), summed over daemon restarts." };
        var generations = new Option<long?>("--generations") { Description = "Generation budget." };
        var evaluations = new Option<long?>("--evaluations") { Description = "Evaluation budget." };
        var targetLoss = new Option<double?>("--target-loss") { Description = "Stop once the best loss is at or below this." };
        var targetR2 = new Option<double?>("--target-r2") { Description = "Stop once the best R2 is at or above this, as for sr." };
        var islands = new Option<int?>("--islands") { Description = "Island populations (default 8), as for sr." };
        var population = new Option<int?>("--population") { Description = "Members per island (default 64), as for sr." };
        var warm = new Option<string[]>("--warm-start") { Description = "An equation to seed the populations with (repeatable).", AllowMultipleArgumentsPerToken = false };
        var batchRows = new Option<int?>("--batch-rows") { Description = "Select on a strided subset of this many rows (0 = all; default 2000), as for sr." };
        var dropNonFinite = new Option<bool>("--drop-nonfinite") { Description = "Drop rows with NaN/Inf instead of failing." };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads for evaluation (results do not depend on it).", DefaultValueFactory = _ => 1 };
        var rollout = new Option<string[]>("--rollout-optimizee") { Description = "Funnel fitness: roll candidates that imitate well out on this optimizee (repeat for a second, longer stage), as for sr.", AllowMultipleArgumentsPerToken = false };
        var rolloutSteps = new Option<int[]>("--rollout-steps") { Description = "Steps per rollout stage (one value per --rollout-optimizee; default 50), as for sr.", AllowMultipleArgumentsPerToken = false };
        var rolloutSeeds = new Option<int?>("--rollout-seeds") { Description = "Seeds per rollout stage (default 3), as for sr." };
        var rolloutScale = new Option<double?>("--rollout-scale") { Description = "Rollouts apply scale · rule (default 0.01), as for sr." };
        var imitationPass = new Option<double?>("--imitation-pass") { Description = "Only candidates with 1 − R² at most this get rollouts (default 0.7), as for sr." };
        var settings = new Option<string[]>("--setting") { Description = "A search setting KEY=VALUE (repeatable), e.g. populationSize=200.", AllowMultipleArgumentsPerToken = false };

        var cmd = new Command("submit", "Submit a search job to a daemon's home directory.")
        {
            home, name, kind, data, target, features, grammar, time, generations, evaluations, targetLoss, targetR2, seed, threads,
            islands, population, warm, batchRows, dropNonFinite, settings, rollout, rolloutSteps, rolloutSeeds, rolloutScale, imitationPass,
        };
        cmd.SetAction(parse => CommandErrors.Guard(() =>
        {
            var errors = new List<string>();
            double? seconds = null;
            if (parse.GetValue(time) is { } t)
            {
                if (Durations.Parse(t) is { } d) seconds = d.TotalSeconds;
                else errors.Add($"--time: '{t}' is not a duration (e.g. 90s, 5m, 2h)");
            }
            var map = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var kv in parse.GetValue(settings) ?? [])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) errors.Add($"--setting: '{kv}' is not KEY=VALUE");
                else map[kv[..eq].Trim()] = kv[(eq + 1)..].Trim();
            }
            if (parse.GetValue(islands) is { } isl) map["islands"] = isl.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(batchRows) is { } rows) map[SrJobFactory.BatchRowsKey] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(population) is { } pop) map["populationSize"] = pop.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            if (parse.GetValue(rollout) is { Length: > 0 } optimizees)
            {
                foreach (var o in optimizees.Where(o => o.Contains(';')))
                    errors.Add($"--rollout-optimizee: '{o}' contains ';', which the job file uses to separate stages");
                map["rolloutOptimizee"] = string.Join(";", optimizees);
            }
            if (parse.GetValue(rolloutSteps) is { Length: > 0 } steps) map["rolloutSteps"] = string.Join(";", steps.Select(x => x.ToString(inv)));
            if (parse.GetValue(rolloutSeeds) is { } rs) map["rolloutSeeds"] = rs.ToString(inv);
            if (parse.GetValue(rolloutScale) is { } sc) map["rolloutScale"] = sc.ToString("R", inv);
            if (parse.GetValue(imitationPass) is { } ip) map["imitationPass"] = ip.ToString("R", inv);
            var featureList = (parse.GetValue(features) ?? "")
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToImmutableArray();
            var spec = new JobSpec(parse.GetValue(name)!, parse.GetValue(kind)!, DateTimeOffset.UtcNow,
                Path.GetFullPath(parse.GetValue(data)!), parse.GetValue(target), featureList, Path.GetFullPath(parse.GetValue(grammar)!),
                new JobBudget(parse.GetValue(generations), seconds, parse.GetValue(evaluations), parse.GetValue(targetLoss), parse.GetValue(targetR2)),
                parse.GetValue(seed), parse.GetValue(threads), map.ToImmutable(), [.. parse.GetValue(warm) ?? []], parse.GetValue(dropNonFinite));
            return Submit(JobCommandHelpers.OpenHome(parse.GetValue(home)!, create: true), spec, new JobFactories(kinds), errors);
        }));
        return cmd;
    }

    /// <summary>Validates <paramref name="spec"/> and writes its job file; returns the exit code.</summary>
    public static int Submit(JobHome home, JobSpec spec, JobFactories kinds, List<string> errors)
    {
        foreach (var f in kinds.Validate(spec, "submit"))
            errors.Add($"{(OptionOfField.TryGetValue(f.Field, out var opt) ? opt : f.Field.StartsWith("settings.", StringComparison.Ordinal) ? "--setting " + f.Field["settings.".Length..] : f.Field)}: {f.Fault}");
        if (errors.Count == 0)
        {
            // Load the inputs now, so a bad column or grammar is reported at submission rather than as a failed job.
            try { kinds.Find(spec.Kind)!.Prepare(spec); }
            catch (JobInputException e) { errors.Add(e.Message); }
        }
        if (errors.Count == 0 && File.Exists(home.SpecPath(spec.Name)))
            errors.Add($"--name: a job '{spec.Name}' already exists in {home.Root}");
        if (errors.Count > 0)
        {
            foreach (var e in errors) Console.Error.WriteLine($"error: {e}");
            return CommandErrors.BadInput;
        }
        home.WriteAtomically(home.SpecPath(spec.Name), spec.ToJson());
        Console.WriteLine($"submitted job '{spec.Name}' to {home.Root}");
        return 0;
    }
}
