using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tuning;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>tune</c>: meta-tunes the constants of a rule file by truncated backpropagation through unrolled training
/// (SPEC §4) and writes <c>tuned.rule.json</c>, <c>constants.csv</c> and <c>checkpoint.json</c> into <c>--out</c>.
/// Running the same command again resumes from the checkpoint; <c>--epochs</c> may be raised to continue a finished run.
/// </summary>
/// <remarks>
/// Sign (SPEC §9 item 13): the update is added, θ ← θ + rule, so a descent rule carries its own minus sign
/// (<c>-0.01 * g</c>). Tuning never inserts one: the paper's June rule written without it is gradient ascent at
/// its initial constants, and <c>tune</c> warns when the first window raises the loss.
/// </remarks>
public static class TuneCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var rule = new Option<string>("--rule") { Description = "Rule file (*.rule.json) whose constants are tuned.", Required = true };
        var optimizee = new Option<string>("--optimizee") { Description = "Optimizee family to tune on (quadratic, logreg, mlp-fashion, ...; settings after ':').", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Epochs; each trains a fresh optimizee instance.", DefaultValueFactory = _ => 20 };
        var steps = new Option<int>("--steps") { Description = "Optimizee steps per epoch.", DefaultValueFactory = _ => 200 };
        var unroll = new Option<int>("--unroll") { Description = "Truncation length: steps per meta-update.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "Meta learning rate (relative to each constant's initial magnitude unless --absolute).", DefaultValueFactory = _ => 0.01 };
        var absolute = new Option<bool>("--absolute") { Description = "Step on the constants themselves instead of relative to their initial magnitudes." };
        var meta = new Option<string>("--meta-optimizer") { Description = "adam, or sgd (with --momentum, as the paper's stage 3).", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<double>("--momentum") { Description = "Momentum of the sgd meta-optimizer.", DefaultValueFactory = _ => 0.9 };
        var seed = new Option<long>("--seed") { Description = "Seed of the per-epoch optimizee seeds.", DefaultValueFactory = _ => 0 };
        var tuneBetas = new Option<bool>("--tune-betas") { Description = "Also tune the betas of ema(...) nodes written in the rule." };
        var evalSeeds = new Option<int>("--eval-seeds") { Description = "Held-out optimizee seeds on which the meta-loss before and after tuning is reported (0: skip).", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0: libtorch's default).", DefaultValueFactory = _ => 1 };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with MNIST-format IDX files (default: Debian's Fashion-MNIST)." };
        var batch = new Option<int>("--batch") { Description = "Minibatch size.", DefaultValueFactory = _ => 128 };
        var init = new Option<string?>("--init") { Description = "Parameter init: normal:STD (default normal:0.01), zeros, fan-in." };
        var objective = new Option<string>("--objective") { Description = "log (default: differentiate log of the window meta-loss) or sum (the paper: the meta-loss itself).", DefaultValueFactory = _ => "log" };
        var restart = new Option<bool>("--restart") { Description = "Ignore an existing checkpoint in --out and start over." };
        var output = new Option<string>("--out") { Description = "Output folder (checkpoint, constants.csv, tuned.rule.json).", Required = true };

        var cmd = new Command("tune", "Meta-tune a rule's constants by truncated backpropagation through unrolled training; writes the tuned rule file.");
        foreach (var o in new Option[] { rule, optimizee, epochs, steps, unroll, lr, meta, momentum, seed, tuneBetas, evalSeeds, device, threads, dataDir, batch, init, objective, absolute, restart, output })
            cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var kind = parse.GetValue(meta)!.ToLowerInvariant() switch
                {
                    "adam" => MetaOptimizerKind.Adam,
                    "sgd" => MetaOptimizerKind.Sgd,
                    var other => throw new ArgumentException($"--meta-optimizer '{other}': expected adam or sgd"),
                };
                var obj = parse.GetValue(objective)!.ToLowerInvariant() switch
                {
                    "log" => MetaObjective.Log,
                    "sum" => MetaObjective.Sum,
                    var other => throw new ArgumentException($"--objective '{other}': expected log or sum"),
                };
                var settings = new TuneSettings(parse.GetValue(optimizee)!, parse.GetValue(epochs), parse.GetValue(steps), parse.GetValue(unroll),
                    parse.GetValue(lr), kind, parse.GetValue(momentum), parse.GetValue(seed), parse.GetValue(tuneBetas),
                    parse.GetValue(dataDir), parse.GetValue(batch), parse.GetValue(init), obj, !parse.GetValue(absolute));
                TorchSetup.SetThreads(parse.GetValue(threads));
                var definition = RuleFile.Load(parse.GetValue(rule)!);
                var result = Run(definition, settings, parse.GetValue(output)!, TorchSetup.ParseDevice(parse.GetValue(device)!),
                    parse.GetValue(restart), parse.GetValue(evalSeeds), stderr, ct);
                parse.InvocationConfiguration.Output.WriteLine(result);
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is ArgumentException or InputException or FileNotFoundException or InvalidDataException or IOException)
            {
                stderr.WriteLine($"tune: error: {e.Message}");
                return Task.FromResult(2);
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine("tune: cancelled; run the same command again to resume from the last finished epoch");
                return Task.FromResult(130);
            }
        });
        return cmd;
    }

    /// <summary>
    /// Tunes (or resumes tuning) <paramref name="definition"/> into <paramref name="outDir"/>; progress with an ETA goes to
    /// <paramref name="log"/>. Returns a short summary: the tuned rule and the held-out meta-loss before and after.
    /// </summary>
    public static string Run(RuleDefinition definition, TuneSettings settings, string outDir, TorchSharp.torch.Device device,
        bool restart, int evalSeeds, TextWriter log, CancellationToken ct)
    {
        settings.Validate();
        // The step size becomes one of the tuned constants, and is split out again in the tuned rule.
        bool hadLr = definition.Lr != 1.0;
        definition = definition.Folded();
        var tunable = TunableRule.Create(definition, settings.TuneBetas);
        if (tunable.Count == 0) throw new ArgumentException($"rule '{definition.Name}' has no constants to tune ({Infix.Print(definition.Rule)})");
        var family = ConstantTuner.Family(settings);
        var progress = TuneProgress.Initial(tunable, settings.MetaOptimizer);
        var existing = restart ? null : TuneStore.TryRead(outDir);
        if (existing is not null)
        {
            var diffs = settings.Incompatibilities(existing.Settings).ToList();
            if (!TuneStore.SameRule(existing.Rule, definition))
                diffs.Insert(0, $"rule: {Infix.Print(existing.Rule.Rule)} → {Infix.Print(definition.Rule)}");
            if (diffs.Count > 0)
                throw new ArgumentException($"{Path.Combine(outDir, TuneStore.CheckpointFile)} was made under other settings ({string.Join("; ", diffs)}); " +
                    "use another --out, the old settings, or --restart");
            progress = existing.Progress;
            log.WriteLine($"tune: resuming {outDir} after epoch {progress.Epoch}/{settings.Epochs}");
        }
        else
        {
            var first = ConstantTuner.Evaluate(tunable, tunable.InitialConstants.AsSpan(), family, device,
                [ConstantTuner.OptimizeeSeed(settings, 0)], settings.Unroll, settings.Unroll);
            if (!(first.FinalLoss < first.InitialLoss))
                log.WriteLine($"tune: warning: at its initial constants the rule takes the loss from {first.InitialLoss:G4} to {first.FinalLoss:G4} " +
                    $"in {settings.Unroll} steps. The update is added (θ ← θ + rule), so descent needs the rule's own minus sign (SPEC §9 item 13).");
        }

        var clock = Stopwatch.StartNew();
        int startEpoch = progress.Epoch;
        using (var display = ProgressDisplay.Start("tune", log, TimeSpan.FromSeconds(10)))
        {
            var ticks = new TickLine(display, clock, settings, startEpoch);
            while (progress.Epoch < settings.Epochs)
            {
                progress = ConstantTuner.RunEpoch(tunable, settings, family, device, progress, ticks, ct);
                var cp = new TuneCheckpoint(definition, settings, progress);
                TuneStore.Write(outDir, cp, Tuned(tunable, cp, hadLr));
                var e = progress.History[^1];
                int done = progress.Epoch - startEpoch;
                var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (settings.Epochs - progress.Epoch));
                display.Lines.WriteLine($"tune: epoch {e.Epoch}/{settings.Epochs} meta-loss {e.MetaLoss:G5} skipped {e.Skipped}/{e.Windows} " +
                    $"c = [{string.Join(", ", e.Constants.Select(c => c.ToString("G5", Inv)))}]  elapsed {Fmt(clock.Elapsed)} ETA {Fmt(eta)}");
            }
        }
        var final = new TuneCheckpoint(definition, settings, progress);
        TuneStore.Write(outDir, final, Tuned(tunable, final, hadLr));

        var tunedRule = Tuned(tunable, final, hadLr);
        var lines = new List<string> { $"tuned rule: {Infix.Print(tunedRule.Rule)}{(tunedRule.Lr == 1.0 ? "" : $" with lr {tunedRule.Lr.ToString("G5", Inv)}")}" };
        if (evalSeeds > 0)
        {
            var seeds = Enumerable.Range(0, evalSeeds).Select(i => 2_000_000L + i).ToArray();
            var before = ConstantTuner.Evaluate(tunable, tunable.InitialConstants.AsSpan(), family, device, seeds, settings.Steps, settings.Unroll);
            var after = ConstantTuner.Evaluate(tunable, progress.Constants.AsSpan(), family, device, seeds, settings.Steps, settings.Unroll);
            lines.Add($"held-out seeds {seeds[0]}..{seeds[^1]}: meta-loss per window {before.MetaLoss:G5} → {after.MetaLoss:G5}; " +
                $"final training loss {before.FinalLoss:G5} → {after.FinalLoss:G5}");
        }
        lines.Add($"wrote {Path.Combine(outDir, TuneStore.TunedRuleFile)}, {TuneStore.ConstantsFile}, {TuneStore.CheckpointFile}");
        return string.Join(Environment.NewLine, lines);
    }

    private static RuleDefinition Tuned(TunableRule tunable, TuneCheckpoint cp, bool splitLr)
    {
        var s = cp.Settings;
        string what = $"meta-tuned from '{Infix.Print(cp.Rule.Rule)}' on {s.Optimizee}: {cp.Progress.Epoch} epochs x {s.Steps} steps, " +
            $"unroll {s.Unroll}, {s.MetaOptimizer.ToString().ToLowerInvariant()} lr {s.MetaLr.ToString("G", Inv)}, seed {s.Seed}";
        var tuned = tunable.WithConstants(cp.Progress.Constants.AsSpan(), what) with { Name = cp.Rule.Name + "-tuned" };
        return splitLr ? tuned.Unfolded() : tuned;
    }

    private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", Inv) : t.ToString(@"m\:ss", Inv);

    /// <summary>Within-epoch progress, with an ETA from the windows done so far (a plain line every 10 s; the epoch line ends each epoch).</summary>
    private sealed class TickLine(ProgressDisplay display, Stopwatch clock, TuneSettings settings, int startEpoch) : IProgress<TuneTick>
    {
        public void Report(TuneTick t)
        {
            double done = (t.Epoch - 1 - startEpoch) * (double)t.Windows + t.Window;
            double total = (settings.Epochs - startEpoch) * (double)t.Windows;
            var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (total - done));
            display.Report(done, total, $"tune: epoch {t.Epoch}/{settings.Epochs} window {t.Window}/{t.Windows} loss {t.WindowLoss:G5}  elapsed {Fmt(clock.Elapsed)} ETA {Fmt(eta)}",
                t.Window == t.Windows ? PlainLine.Never : PlainLine.Throttled);
        }
    }
}
