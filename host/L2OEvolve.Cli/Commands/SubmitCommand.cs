using System.Collections.Immutable;
using System.CommandLine;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Torch.Regression;

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
        var o = new SearchOptions();
        var home = JobCommandHelpers.HomeOption();
        var name = new Option<string>("--name") { Description = "The job's name (letters, digits, _ . -).", Required = true };
        var kind = new Option<string>("--kind") { Description = "The job kind.", DefaultValueFactory = _ => "sr" };
        var time = new Option<string?>("--time") { Description = "Time budget (e.g. 60s, 2h), summed over daemon restarts." };
        var generations = new Option<long?>("--generations") { Description = "Generation budget." };
        var threads = new Option<int>("--threads") { Description = "Threads for evaluation (results do not depend on it).", DefaultValueFactory = _ => 1 };
        var settings = new Option<string[]>("--setting") { Description = "A search setting KEY=VALUE (repeatable), e.g. populationSize=200.", AllowMultipleArgumentsPerToken = false };

        var cmd = new Command("submit", "Submit a search job to a daemon's home directory.") { home, name, kind };
        foreach (var option in o.All().Concat([time, generations, threads, settings])) cmd.Options.Add(option);
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
            if (parse.GetValue(o.Islands) is { } isl) map["islands"] = isl.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(o.BatchRows) is { } rows) map[SrJobFactory.BatchRowsKey] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(o.Population) is { } pop) map["populationSize"] = pop.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            if (parse.GetValue(o.RolloutOptimizee) is { Length: > 0 } optimizees)
            {
                foreach (var bad in optimizees.Where(x => x.Contains(';')))
                    errors.Add($"--rollout-optimizee: '{bad}' contains ';', which the job file uses to separate stages");
                map[RolloutOptions.SettingNames["optimizee"]] = string.Join(";", optimizees);
            }
            if (parse.GetValue(o.RolloutSteps) is { Length: > 0 } steps) map[RolloutOptions.SettingNames["steps"]] = string.Join(";", steps.Select(x => x.ToString(inv)));
            if (parse.GetValue(o.RolloutSeeds) is { } rs) map[RolloutOptions.SettingNames["seeds"]] = rs.ToString(inv);
            if (parse.GetValue(o.RolloutScale) is { } sc) map[RolloutOptions.SettingNames["scale"]] = sc.ToString("R", inv);
            if (parse.GetValue(o.ImitationPass) is { } ip) map[RolloutOptions.SettingNames["imitationPass"]] = ip.ToString("R", inv);
            ImmutableArray<string> featureList = [.. RegressionData.ParseList(parse.GetValue(o.Features)) ?? []];
            var spec = new JobSpec(parse.GetValue(name)!, parse.GetValue(kind)!, DateTimeOffset.UtcNow,
                Path.GetFullPath(parse.GetValue(o.Data)!), parse.GetValue(o.Target), featureList, Path.GetFullPath(parse.GetValue(o.Grammar)!),
                new JobBudget(parse.GetValue(generations), seconds, parse.GetValue(o.Evaluations), parse.GetValue(o.TargetLoss), parse.GetValue(o.TargetR2)),
                parse.GetValue(o.Seed), parse.GetValue(threads), map.ToImmutable(), [.. parse.GetValue(o.WarmStart) ?? []], parse.GetValue(o.DropNonFinite));
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
