using System.CommandLine;
using System.Globalization;
using L2OEvolve.Torch.DistillationPipeline;
using L2OEvolve.Engine;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>run</c>: the whole pipeline (teacher → record → evolve → tune → evaluate → report.md) on the embedded default
/// configuration or on <c>--config FILE</c>; <c>evolve</c>: record from an existing teacher and evolve (the middle of it).
/// </summary>
public static class RunCommand
{
    /// <summary>Builds the <c>run</c> verb.</summary>
    public static Command Create()
    {
        var configFile = new Option<string?>("--config") { Description = "Pipeline configuration (JSON; default: the embedded one, see --print-config)." };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/<UTC timestamp>)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Override the configuration's IDX data folder." };
        var print = new Option<bool>("--print-config") { Description = "Print the default configuration and exit." };
        var cmd = new Command("run", "The whole pipeline: train a teacher, record, evolve (imitation + rollouts), meta-tune, evaluate, write report.md.");
        foreach (var o in new Option[] { configFile, output, dataDir, print }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) => Task.FromResult(Guard("run", parse.InvocationConfiguration.Error, () =>
        {
            if (parse.GetValue(print))
            {
                parse.InvocationConfiguration.Output.Write(PipelineConfig.DefaultText());
                return 0;
            }
            var config = Load(parse.GetValue(configFile), parse.GetValue(dataDir));
            var dir = parse.GetValue(output) ?? Path.Combine("runs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            string report;
            using (var display = ProgressDisplay.Start("run", parse.InvocationConfiguration.Error, TimeSpan.Zero))
                report = new PipelineRunner(config, dir, display.Lines, ct).Run();
            parse.InvocationConfiguration.Output.WriteLine($"run: report {report}");
            return 0;
        })));
        return cmd;
    }

    /// <summary>Builds the <c>evolve</c> verb.</summary>
    public static Command CreateEvolve()
    {
        var teacher = new Option<string>("--teacher") { Description = "A shipped teacher's name (see grammars/teachers) or a teacher directory.", Required = true };
        var configFile = new Option<string?>("--config") { Description = "Pipeline configuration whose record and evolve sections are used (default: the embedded one)." };
        var time = new Option<string?>("--time") { Description = "Override the search's time budget (60s, 4m, ...)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Override the configuration's IDX data folder." };
        var output = new Option<string>("--out") { Description = "Output folder (record/, evolve/).", Required = true };
        var cmd = new Command("evolve", "Record distillation data from a teacher, then evolve rules with imitation + rollout fitness.");
        foreach (var o in new Option[] { teacher, configFile, time, dataDir, output }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) => Task.FromResult(Guard("evolve", parse.InvocationConfiguration.Error, () =>
        {
            var config = Load(parse.GetValue(configFile), parse.GetValue(dataDir));
            if (parse.GetValue(time) is { } t) config = config with { Evolve = config.Evolve with { Time = t } };
            var dir = parse.GetValue(output)!;
            var runner = new PipelineRunner(config, dir, parse.InvocationConfiguration.Error, ct);
            L2OEvolve.Torch.TorchSetup.SetThreads(config.Threads);
            L2OEvolve.Torch.Rollouts.PopulationRollout.Workers = config.Threads;
            var rows = runner.RecordData(L2OEvolve.Torch.Teachers.TeacherZoo.Resolve(parse.GetValue(teacher)!, "--teacher"), Path.Combine(dir, "record", "rows.npy"));
            var result = runner.Evolve(rows, Path.Combine(dir, "evolve"));
            foreach (var k in result.Kept)
                parse.InvocationConfiguration.Output.WriteLine($"{k.Name}: complexity {k.Complexity}, R2 {k.ImitationR2:G4}, combined {k.Combined:G4}: {k.Update.Rule}");
            parse.InvocationConfiguration.Output.WriteLine($"evolve: wrote {Path.Combine(dir, "evolve", "hall_of_fame.csv")}, pareto.png and the kept rule files");
            return 0;
        })));
        return cmd;
    }

    private static PipelineConfig Load(string? path, string? dataDir)
    {
        var config = path is null ? PipelineConfig.Parse(PipelineConfig.DefaultText(), "(embedded default configuration)") : PipelineConfig.Load(path);
        return dataDir is null ? config : config with { DataDir = dataDir };
    }

    private static int Guard(string verb, TextWriter err, Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is ArgumentException or InputException or FileNotFoundException or InvalidDataException or IOException or InvalidOperationException)
        {
            err.WriteLine($"{verb}: error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            err.WriteLine($"{verb}: cancelled (the teacher and tuning resume from their checkpoints when run again with the same --out)");
            return 130;
        }
    }
}
