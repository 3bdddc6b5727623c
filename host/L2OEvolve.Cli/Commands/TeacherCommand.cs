using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Torch;
using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>teacher train|eval|record|publish</c>: meta-train an LSTM teacher (DM, RNNprop, RP_s, RP_si) with checkpoints and
/// resume, compare it to lr-tuned baselines through the <c>eval</c> harness, record distillation datasets, and
/// publish a trained teacher as a versioned folder that ships with the project (<see cref="TeacherZoo"/>).
/// </summary>
public static class TeacherCommand
{
    public static Command Create()
    {
        var cmd = new Command("teacher", "LSTM teachers: meta-train (train), compare to baselines (eval), record distillation data (record), ship one (publish).");
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Eval());
        cmd.Subcommands.Add(Record());
        cmd.Subcommands.Add(Publish());
        return cmd;
    }

    // Options every subcommand shares: where tensors live and where optimizee data comes from.
    private sealed class Common
    {
        public readonly Option<string> Device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        public readonly Option<int> Threads = new("--threads") { Description = "libtorch intra-op threads (0: libtorch's default).", DefaultValueFactory = _ => 1 };
        public readonly Option<string?> DataDir = new("--data-dir") { Description = "Folder with MNIST-format IDX files (default: Debian's Fashion-MNIST)." };
        public readonly Option<int> Batch = new("--batch") { Description = "Optimizee minibatch size.", DefaultValueFactory = _ => 128 };
        public readonly Option<LstmKernel> Kernel = new("--lstm-kernel")
        {
            Description = "LSTM cell implementation: auto (fused on the CPU, libtorch's elsewhere), fused, or libtorch (the reference).",
            DefaultValueFactory = _ => LstmKernel.Auto,
        };

        /// <summary>For the verbs that load a trained teacher.</summary>
        public readonly Option<TeacherWeights> Weights = new("--weights")
        {
            Description = "Which weights: auto (a curriculum run's validation-selected best, else the last), best, or last.",
            DefaultValueFactory = _ => TeacherWeights.Auto,
        };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Device, Threads, DataDir, Batch, Kernel }) c.Options.Add(o);
        }

        public (TorchSharp.torch.Device Device, OptimizeeOptions Options) Setup(ParseResult p)
        {
            TorchSetup.PrepareNativeRuntime();
            TorchSetup.SetThreads(p.GetValue(Threads));
            TeacherNet.DefaultKernel = p.GetValue(Kernel);
            return (TorchSetup.ParseDevice(p.GetValue(Device)!), new OptimizeeOptions(DataDir: p.GetValue(DataDir), BatchSize: p.GetValue(Batch)));
        }
    }

    private static Command Train()
    {
        var common = new Common();
        var model = new Option<string?>("--model") { Description = "dm, rnnprop, rp-s or rp-si (omit to resume the run in --out)." };
        var optimizee = new Option<string?>("--optimizee") { Description = "Optimizee family trained on: " + string.Join(", ", OptimizeeRegistry.Names) + "." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (a fresh optimizee each).", DefaultValueFactory = _ => 20 };
        var steps = new Option<int>("--steps") { Description = "Optimizee steps per epoch.", DefaultValueFactory = _ => 100 };
        var unroll = new Option<int>("--unroll") { Description = "Truncation length U (steps per meta-update).", DefaultValueFactory = _ => 20 };
        var lr = new Option<double>("--lr") { Description = "Meta-optimizer (Adam) learning rate.", DefaultValueFactory = _ => 0.001 };
        var seed = new Option<ulong>("--seed") { Description = "Master seed.", DefaultValueFactory = _ => 1UL };
        var imitation = new Option<double>("--imitation") { Description = "Probability that an epoch imitates Adam (imitation learning).", DefaultValueFactory = _ => 0.0 };
        var warmup = new Option<int>("--imitation-warmup") { Description = "The first N epochs always imitate Adam (then --imitation applies).", DefaultValueFactory = _ => 0 };
        var imitationLr = new Option<double>("--imitation-adam-lr") { Description = "Learning rate of the Adam imitated.", DefaultValueFactory = _ => 0.01 };
        var curriculum = new Option<bool>("--curriculum") { Description = "Curriculum learning over growing horizons (see --curriculum-steps)." };
        var stages = new Option<string?>("--curriculum-steps") { Description = "Curriculum horizons, comma-separated (default 100,200,500,1000,1500,2000,2500,3000)." };
        var evalEvery = new Option<int>("--curriculum-eval-every") { Description = "Epochs between curriculum evaluations.", DefaultValueFactory = _ => 1 };
        var evalRuns = new Option<int>("--curriculum-eval-runs") { Description = "Optimizee runs per curriculum evaluation.", DefaultValueFactory = _ => 2 };
        var patience = new Option<int>("--curriculum-patience") { Description = "Evaluations without improvement before advancing or stopping.", DefaultValueFactory = _ => 3 };
        var scale = new Option<double>("--random-scale") { Description = "Random scaling bound b (θ scaled by exp(U(−b,b)) per coordinate); 0 = off.", DefaultValueFactory = _ => 0.0 };
        var features = new Option<string?>("--features") { Description = "Feature tokens joined by '+' (mt gt m mhat v vs g mom5 mom9 mom99 t magic0 magic1)." };
        var preprocess = new Option<string?>("--preprocess") { Description = "Linear+ELU widths, comma-separated ('' for none)." };
        var hidden = new Option<string?>("--hidden") { Description = "LSTM widths, comma-separated." };
        var logSign = new Option<bool>("--log-and-sign") { Description = "DM only: TF's LogAndSign gradient preprocessing (k = 5)." };
        var maxEpochs = new Option<int?>("--max-epochs") { Description = "Stop after this many epochs in this invocation (the run resumes later)." };
        var output = new Option<string>("--out") { Description = "Teacher directory (checkpoints; an existing run there is resumed).", Required = true };
        var cmd = new Command("train", "Meta-train a teacher by truncated BPTT; checkpoints every epoch and resumes an interrupted run.");
        foreach (var o in new Option[] { model, optimizee, epochs, steps, unroll, lr, seed, imitation, warmup, imitationLr, curriculum, stages, evalEvery, evalRuns, patience, scale, features, preprocess, hidden, logSign, maxEpochs, output })
            cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction((p, ct) => Task.FromResult(Guard("train", p.InvocationConfiguration.Error, () =>
        {
            var (device, optOptions) = common.Setup(p);
            string dir = p.GetValue(output)!;
            var err = p.InvocationConfiguration.Error;
            MetaTrainer trainer;
            bool resume = TeacherStore.HasCheckpoint(dir) || File.Exists(Path.Combine(dir, "config.json"));
            if (resume)
            {
                var (storedConfig, storedOptions) = TeacherStore.ReadConfig(dir);
                if (p.GetValue(model) is not null)
                {
                    var (config, options) = Build();
                    var diff = Differences(storedConfig.ToJson(), config.ToJson())
                        .Concat(Differences(storedOptions.ToJson(), (options with { Epochs = storedOptions.Epochs }).ToJson())).ToList();
                    if (diff.Count > 0)
                        throw new ArgumentException($"{dir} holds a run with other settings ({string.Join("; ", diff)}); resume with the same settings, with --out alone, or use another --out");
                }
                // --epochs may grow (or shrink to no less than what is done) on resume: epoch randomness depends on
                // the epoch index only, so a longer run continues exactly as if it had been asked for at the start.
                if (p.GetResult(epochs) is { Implicit: false } && p.GetValue(epochs) != storedOptions.Epochs)
                {
                    int done = TeacherStore.ReadProgress(dir).Epoch;
                    if (p.GetValue(epochs) < done) throw new ArgumentException($"--epochs {p.GetValue(epochs)}: {dir} has already done {done} epochs");
                    storedOptions = storedOptions with { Epochs = p.GetValue(epochs) };
                    TeacherStore.WriteConfig(dir, storedConfig, storedOptions);
                }
                trainer = MetaTrainer.Resume(dir, OptimizeeRegistry.Family(storedOptions.Optimizee, optOptions), device);
                err.WriteLine($"teacher: resuming {dir} at epoch {trainer.Progress.Epoch}/{storedOptions.Epochs}");
            }
            else
            {
                if (p.GetValue(model) is null) throw new ArgumentException($"--model is required to start a new run ({dir} holds none)");
                var (config, options) = Build();
                trainer = MetaTrainer.Start(config, options, OptimizeeRegistry.Family(options.Optimizee, optOptions), device, dir);
                err.WriteLine($"teacher: training {config.DisplayName} ({trainer.Net.Weights().Sum(w => w.numel())} weights) on {options.Optimizee}, {options.Epochs} epochs × {options.Steps} steps, unroll {options.Unroll}");
            }
            using (trainer)
            {
                TrainingProgress progress;
                using (var display = ProgressDisplay.Start("teacher train", err, TimeSpan.Zero))
                    progress = trainer.Run(display.Lines, p.GetValue(maxEpochs), ct);
                var last = progress.History.LastOrDefault();
                if (trainer.Timings.Unrolls > 0) err.WriteLine($"teacher: time {trainer.Timings}");
                if (progress.BestWeights is not null)
                    err.WriteLine($"teacher: best evaluation cost {progress.Curriculum.Best:G5} in stage {progress.Curriculum.Stage}; " +
                        "teacher eval and record load those weights (--weights last for the final ones)");
                var stdout = p.InvocationConfiguration.Output;
                stdout.WriteLine($"teacher: {dir}: {progress.Epoch}/{trainer.Options.Epochs} epochs done{(progress.Curriculum.Stopped ? " (curriculum stopped)" : "")}" +
                    (progress.History.Count > 0 ? $", last meta-loss {last.MetaLoss:G5}, {progress.History.Average(h => h.SecondsPerUnroll):F3} s/unroll on average" : ""));
            }
            return 0;

            (TeacherConfig, TrainingOptions) Build()
            {
                var config = TeacherConfig.Create(p.GetValue(model)!, p.GetValue(features), Ints(p.GetValue(preprocess), "--preprocess"),
                    Ints(p.GetValue(hidden), "--hidden"), p.GetValue(logSign) ? true : null);
                var name = p.GetValue(optimizee) ?? throw new ArgumentException("--optimizee is required to start a new run");
                var options = new TrainingOptions(name, p.GetValue(epochs), p.GetValue(steps), p.GetValue(unroll), p.GetValue(lr), p.GetValue(seed),
                    p.GetValue(imitation), p.GetValue(imitationLr), p.GetValue(scale),
                    p.GetValue(curriculum) ? [.. (Ints(p.GetValue(stages), "--curriculum-steps") ?? TrainingOptions.PaperCurriculum.ToArray())] : [],
                    p.GetValue(evalEvery), p.GetValue(evalRuns), p.GetValue(patience), p.GetValue(warmup));
                options.Validate();
                return (config, options);
            }
        })));
        return cmd;
    }

    private static Command Eval()
    {
        var common = new Common();
        var teacher = new Option<string>("--teacher") { Description = TeacherHelp, Required = true };
        var optimizee = new Option<string?>("--optimizee") { Description = "Optimizee family (default: the one the teacher trained on)." };
        var steps = new Option<int?>("--steps") { Description = "Steps per run (default: the training horizon)." };
        var seeds = new Option<int>("--seeds") { Description = "Held-out evaluation seeds.", DefaultValueFactory = _ => 10 };
        var seedBase = new Option<long>("--seed-base") { Description = "First evaluation seed.", DefaultValueFactory = _ => 0 };
        var baselines = new Option<string[]>("--baseline") { Description = "Baselines beside the teacher (repeatable; default adam).", Arity = ArgumentArity.ZeroOrMore };
        var noTune = new Option<bool>("--no-tune-lr") { Description = "Do not tune the baselines' learning rates." };
        var tuneSteps = new Option<int?>("--tune-steps") { Description = "Steps per lr-tuning run (default: --steps)." };
        var output = new Option<string>("--out") { Description = "Output folder for the eval report.", Required = true };
        var cmd = new Command("eval", "Evaluate a teacher beside lr-tuned baselines on held-out seeds (through the eval harness).");
        foreach (var o in new Option[] { teacher, optimizee, steps, seeds, seedBase, baselines, noTune, tuneSteps, output, common.Weights }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction((p, ct) =>
        {
            string dir;
            TrainingOptions stored;
            try
            {
                dir = TeacherZoo.Resolve(p.GetValue(teacher)!, "--teacher");
                stored = TeacherStore.ReadConfig(dir).Options;
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or InputException)
            {
                p.InvocationConfiguration.Error.WriteLine($"teacher eval: error: {e.Message}");
                return Task.FromResult(2);
            }
            int n = p.GetValue(steps) ?? (stored.UsesCurriculum ? stored.Curriculum[0] : stored.Steps);
            var bl = p.GetValue(baselines);
            var request = new EvalRequest(p.GetValue(optimizee) ?? stored.Optimizee,
                ["teacher:" + p.GetValue(teacher)! + WeightsSuffix(p.GetValue(common.Weights)), .. bl is { Length: > 0 } ? bl : ["adam"]],
                p.GetValue(output)!, Steps: n, Seeds: p.GetValue(seeds), SeedBase: p.GetValue(seedBase), TuneLr: !p.GetValue(noTune),
                TuneSteps: p.GetValue(tuneSteps), Device: p.GetValue(common.Device)!, Threads: p.GetValue(common.Threads),
                DataDir: p.GetValue(common.DataDir), Batch: p.GetValue(common.Batch));
            TorchSetup.PrepareNativeRuntime();
            TeacherNet.DefaultKernel = p.GetValue(common.Kernel);
            var stdout = p.InvocationConfiguration.Output;
            // The eval verb's run and messages, so a teacher is compared exactly as `eval --optimizer teacher:...` would.
            return Task.FromResult(CommandErrors.Verb("eval", p.InvocationConfiguration.Error, () =>
            {
                stdout.WriteLine(OptimizerEval.Run(request, p.InvocationConfiguration.Error, ct, log => ProgressDisplay.Start("eval", log, TimeSpan.FromSeconds(10))));
                return 0;
            }));
        });
        return cmd;
    }

    private static string WeightsSuffix(TeacherWeights w) => w switch
    {
        TeacherWeights.Best => "@best",
        TeacherWeights.Last => "@last",
        _ => "",
    };

    private static Command Record()
    {
        var common = new Common();
        var teacher = new Option<string>("--teacher") { Description = TeacherHelp, Required = true };
        var optimizee = new Option<string?>("--optimizee") { Description = "Optimizee family (default: the one the teacher trained on)." };
        var samples = new Option<int>("--samples") { Description = "Lag rows to record.", DefaultValueFactory = _ => 10000 };
        var memlen = new Option<int?>("--memlen") { Description = "Lags per feature (default: from the grammar's largest lag + 1, else 20)." };
        var grammar = new Option<string?>("--grammar") { Description = "Grammar whose feature names (mt_0, g3, mom5_2, or plain tokens) are recorded." };
        var features = new Option<string?>("--features") { Description = "Feature names instead of a grammar, comma-separated (g0,mt_1 or plain tokens mt,gt)." };
        var steps = new Option<int>("--steps") { Description = "Rollout length T per run.", DefaultValueFactory = _ => 300 };
        var coords = new Option<int>("--coords") { Description = "Coordinates sampled per parameter tensor and run.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of optimizee seeds, coordinates, windows and shuffle.", DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--out") { Description = "Lag-row .npy file (trajectories go beside it as X.traj.npy; sidecars X.npy.json).", Required = true };
        var cmd = new Command("record", "Roll a teacher out and record distillation data: lag rows and trajectories, with sidecars.");
        foreach (var o in new Option[] { teacher, optimizee, samples, memlen, grammar, features, steps, coords, seed, output, common.Weights }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction((p, ct) => Task.FromResult(Guard("record", p.InvocationConfiguration.Error, () =>
        {
            var (device, optOptions) = common.Setup(p);
            string dir = TeacherZoo.Resolve(p.GetValue(teacher)!, "--teacher");
            var (config, stored) = TeacherStore.ReadConfig(dir);
            IEnumerable<string> names;
            if (p.GetValue(grammar) is { } gpath)
            {
                if (p.GetValue(features) is not null) throw new ArgumentException("give --grammar or --features, not both");
                var g = GrammarJson.Load(gpath);
                if (g.FeaturesFromData || g.Features.IsDefaultOrEmpty)
                    throw new ArgumentException($"{gpath}: the grammar takes its features from the data; name the features to record with --features");
                names = g.Features;
            }
            else names = p.GetValue(features) is { } f
                ? f.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : config.Features;
            int? m = p.GetValue(memlen);
            var spec = RecordSpec.FromNames(names, m ?? (names.All(FeatureTokens.Canonical.Contains) ? 20 : null));
            using var net = TeacherStore.LoadTeacher(dir, device, p.GetValue(common.Weights));
            var family = OptimizeeRegistry.Family(p.GetValue(optimizee) ?? stored.Optimizee, optOptions);
            var data = Recorder.Record(net, family, spec, new RecordOptions(p.GetValue(samples), p.GetValue(steps), p.GetValue(coords), p.GetValue(seed)),
                device, p.InvocationConfiguration.Error);
            var (rowsPath, trajPath) = data.Save(p.GetValue(output)!);
            p.InvocationConfiguration.Output.WriteLine(
                $"teacher record: {rowsPath}: {data.RowCount} rows × {data.RowColumns.Length} columns ({spec.Columns.Length} features, memlen {spec.Memlen}, target '{Recorder.Target}' = raw teacher output before ×{net.Config.OutputScale.ToString(CultureInfo.InvariantCulture)}); " +
                $"{trajPath}: {data.Coordinates} coordinates × {data.Steps} steps × {data.TrajectoryColumns.Length} ({string.Join(",", data.TrajectoryColumns)}); {data.Runs} rollouts");
            return 0;
        })));
        return cmd;
    }

    private const string TeacherHelp = "A shipped teacher's name (see grammars/teachers) or a teacher directory.";

    private static Command Publish()
    {
        var common = new Common();
        var teacher = new Option<string>("--teacher") { Description = "Training directory to publish from.", Required = true };
        var name = new Option<string>("--name") { Description = "Teacher name without version, e.g. rnnprop-fashion.", Required = true };
        var version = new Option<int>("--version") { Description = "Version number (the zoo folder is NAME-vVERSION).", Required = true };
        var description = new Option<string>("--description") { Description = "One line: what the teacher is and how good it is.", Required = true };
        var recipe = new Option<string?>("--recipe") { Description = "Script shipped as recipe.sh (default: one that trains with the stored settings and publishes)." };
        var evaluation = new Option<string?>("--evaluation") { Description = "Markdown shipped as evaluation.md (default: the validation history and the format check)." };
        var output = new Option<string>("--out") { Description = "Folder to write, e.g. grammars/teachers/NAME-vVERSION.", Required = true };
        var cmd = new Command("publish", "Publish a trained teacher's selected weights as a versioned folder: config.json, weights.bin, teacher.json (provenance, SHA-256, format check), recipe.sh, evaluation.md.");
        foreach (var o in new Option[] { teacher, common.Weights, name, version, description, recipe, evaluation, output }) cmd.Options.Add(o);
        cmd.SetAction((p, ct) => Task.FromResult(Guard("publish", p.InvocationConfiguration.Error, () =>
        {
            TorchSetup.PrepareNativeRuntime();
            string? Text(Option<string?> o) => p.GetValue(o) is { } f
                ? (File.Exists(f) ? File.ReadAllText(f) : throw new FileNotFoundException($"{o.Name} {f}: no such file", f))
                : null;
            string outDir = p.GetValue(output)!;
            var m = TeacherPublisher.Publish(p.GetValue(teacher)!, p.GetValue(common.Weights),
                new PublishRequest(p.GetValue(name)!, p.GetValue(version), p.GetValue(description)!, Text(recipe), Text(evaluation)), outDir);
            if (Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/')) != m.FolderName)
                p.InvocationConfiguration.Error.WriteLine($"teacher publish: warning: the zoo finds teachers by folder name; {outDir} is not named {m.FolderName}");
            p.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"teacher publish: {outDir}: {m.FolderName}, {m.Origin.Weights} weights of epoch {m.Origin.Epoch}, sha256 {m.WeightsSha256[..12]}…, " +
                $"check {m.Check.Optimizee} {m.Check.Steps} steps × {m.Check.Seeds.Count} seeds: mean final train loss {m.Check.MeanFinalTrainLoss:G9}"));
            return 0;
        })));
        return cmd;
    }

    private static int Guard(string verb, TextWriter err, Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or IOException or InvalidOperationException or InputException)
        {
            err.WriteLine($"teacher {verb}: error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            err.WriteLine($"teacher {verb}: cancelled");
            return 130;
        }
    }

    private static int[]? Ints(string? text, string option)
    {
        if (text is null) return null;
        try { return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; }
        catch (FormatException) { throw new ArgumentException($"{option} '{text}': expected comma-separated integers"); }
    }

    private static IEnumerable<string> Differences(JsonObject stored, JsonObject given)
    {
        foreach (var (key, value) in stored)
        {
            var a = value?.ToJsonString() ?? "null";
            var b = given[key]?.ToJsonString() ?? "null";
            if (a != b) yield return $"{key}: stored {a}, given {b}";
        }
    }
}
