using System.Diagnostics;
using System.Globalization;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Progress;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.Tuning;

/// <summary>
/// Meta-tuning of a rule file's constants as a resumable run in a folder: epochs of truncated backpropagation
/// through unrolled training (see docs/symbolic-l2o.md, 'Meta-tuning the constants'), a checkpoint after every epoch,
/// and the tuned rule written beside it. The <c>tune</c> verb and the pipeline's tuning phase both run it.
/// </summary>
/// <remarks>
/// Sign: the update is added, θ ← θ + rule, so a descent rule carries its own minus sign (<c>-0.01 * g</c>). Tuning
/// never inserts one: a rule written without it is gradient ascent at its initial constants, and the run warns when
/// the first window raises the loss.
/// </remarks>
public static class RuleTuning
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Tunes (or resumes tuning) <paramref name="definition"/> into <paramref name="outDir"/>; progress with an ETA goes to
    /// <paramref name="log"/>. Returns a short summary: the tuned rule and the held-out meta-loss before and after.
    /// </summary>
    /// <param name="definition">The rule whose constants are tuned.</param>
    /// <param name="settings">The tuning run's settings (checked first).</param>
    /// <param name="outDir">Checkpoint, <c>constants.csv</c> and <c>tuned.rule.json</c> go here; a checkpoint found here is resumed.</param>
    /// <param name="device">Where the optimizees train.</param>
    /// <param name="restart">Ignore a checkpoint in <paramref name="outDir"/>.</param>
    /// <param name="evalSeeds">Held-out seeds for the before/after figures (0: none).</param>
    /// <param name="log">Where messages and the progress display go.</param>
    /// <param name="ct">Stops between windows; the last finished epoch is kept.</param>
    /// <param name="display">The progress display on <paramref name="log"/> (default: plain lines, a tick every 10 s).</param>
    public static string Run(RuleDefinition definition, TuneSettings settings, string outDir, TorchSharp.torch.Device device,
        bool restart, int evalSeeds, TextWriter log, CancellationToken ct, Func<TextWriter, IProgressDisplay>? display = null)
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
                    $"in {settings.Unroll} steps. The update is added (θ ← θ + rule), so descent needs the rule's own minus sign (docs/symbolic-l2o.md, 'The sign of the update').");
        }

        var clock = Stopwatch.StartNew();
        int startEpoch = progress.Epoch;
        using (var shown = (display ?? (w => new PlainProgressDisplay(w, TimeSpan.FromSeconds(10))))(log))
        {
            var ticks = new TickLine(shown, clock, settings, startEpoch);
            while (progress.Epoch < settings.Epochs)
            {
                progress = ConstantTuner.RunEpoch(tunable, settings, family, device, progress, ticks, ct);
                var cp = new TuneCheckpoint(definition, settings, progress);
                TuneStore.Write(outDir, cp, Tuned(tunable, cp, hadLr));
                var e = progress.History[^1];
                int done = progress.Epoch - startEpoch;
                var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (settings.Epochs - progress.Epoch));
                shown.Lines.WriteLine($"tune: epoch {e.Epoch}/{settings.Epochs} meta-loss {e.MetaLoss:G5} skipped {e.Skipped}/{e.Windows} " +
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
            // Truncated unrolls can drive constants somewhere the short windows like and the full run does not;
            // the tuned file is still written (it is what tuning found), but the user should not take it blindly.
            if (!(after.MetaLoss <= before.MetaLoss))
                lines.Add($"warning: the tuned constants do worse than the initial ones on the held-out seeds; " +
                    $"prefer the initial rule (the pipeline keeps a tuning only when it lowers the final training loss on check seeds)");
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
    private sealed class TickLine(IProgressDisplay display, Stopwatch clock, TuneSettings settings, int startEpoch) : IProgress<TuneTick>
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
