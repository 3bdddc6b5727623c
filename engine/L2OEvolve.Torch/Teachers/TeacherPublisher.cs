using System.Globalization;
using System.Text;
using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>What <see cref="TeacherPublisher.Publish"/> writes besides the weights: identity, description and optional files.</summary>
/// <param name="Name">Teacher name without version, e.g. <c>rnnprop-fashion</c>.</param>
/// <param name="Version">Version number (the zoo folder is <c>NAME-vVERSION</c>).</param>
/// <param name="Description">One line: what the teacher is and how good it is.</param>
/// <param name="RecipeScript">Text of <c>recipe.sh</c>; null writes one that trains with the stored settings and publishes.</param>
/// <param name="Evaluation">Text of <c>evaluation.md</c>; null writes one with the validation history and the short check.</param>
public sealed record PublishRequest(string Name, int Version, string Description, string? RecipeScript = null, string? Evaluation = null);

/// <summary>
/// Publishes a trained teacher as a versioned folder that ships with the project: the selected weights only
/// (<c>weights.bin</c>), its <c>config.json</c>, and a <c>teacher.json</c> manifest whose short evaluation is measured
/// on the folder just written, so the figure describes what loads, not what was trained.
/// </summary>
/// <remarks>
/// <code>
/// net = LoadTeacher(trainingDir, which)          // validation-selected best of a curriculum run by default
/// write config.json, weights.bin (Module.save), recipe.sh, evaluation.md into out
/// check = mean final train loss of LoadTeacher(out) on logreg, 50 steps, seeds 0..2, 1 thread
/// write teacher.json (name, version, provenance, SHA-256 of weights.bin, check)
/// </code>
/// </remarks>
public static class TeacherPublisher
{
    /// <summary>Publishes the weights <paramref name="which"/> of <paramref name="trainingDir"/> into <paramref name="outDir"/>.</summary>
    public static TeacherManifest Publish(string trainingDir, TeacherWeights which, PublishRequest request, string outDir)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.IndexOfAny(['/', '\\', ' ']) >= 0)
            throw new ArgumentException($"teacher name '{request.Name}': expected a name without spaces or slashes");
        if (request.Version < 1) throw new ArgumentException($"version must be at least 1, got {request.Version}");
        if (string.IsNullOrWhiteSpace(request.Description) || request.Description.Contains('\n'))
            throw new ArgumentException("the description must be one non-empty line");
        if (TeacherStore.IsPublished(trainingDir))
            throw new ArgumentException($"{trainingDir}: already a published teacher; publish from the training directory it came from");
        var (config, options) = TeacherStore.ReadConfig(trainingDir);
        var progress = TeacherStore.ReadProgress(trainingDir);
        if (File.Exists(Path.Combine(outDir, TeacherManifest.ManifestFile)))
            throw new IOException($"{outDir}: already holds a published teacher; publish under a new --version and --out");

        string weightsKind;
        int epoch;
        using (var net = TeacherStore.LoadTeacher(trainingDir, CPU, which, out bool best))
        {
            weightsKind = best ? "best" : "last";
            epoch = best ? BestEpoch(progress) : progress.Epoch;
            TeacherStore.WriteConfig(outDir, config, options);
            net.save(Path.Combine(outDir, TeacherManifest.WeightsFile));
        }
        string training = TrainingCommand(config, options);
        string selection = weightsKind == "best"
            ? $"validation-selected (lowest curriculum evaluation cost {progress.Curriculum.Best.ToString("G6", CultureInfo.InvariantCulture)}, on optimizees drawn from the training seed)"
            : "last checkpoint";
        var provenance = new TeacherProvenance(trainingDir, training, weightsKind, epoch, progress.Epoch, selection);
        var manifest = new TeacherManifest(request.Name, request.Version, request.Description, provenance,
            TeacherManifest.Sha256(Path.Combine(outDir, TeacherManifest.WeightsFile)), TeacherCheck.Default(double.NaN));
        using (var published = TeacherStore.LoadTeacher(outDir, CPU))
            manifest = manifest with { Check = manifest.Check with { MeanFinalTrainLoss = RunCheck(published, manifest.Check) } };

        var recipe = Path.Combine(outDir, TeacherManifest.RecipeFile);
        File.WriteAllText(recipe, request.RecipeScript ?? DefaultRecipe(manifest, which));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(recipe, File.GetUnixFileMode(recipe) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.WriteAllText(Path.Combine(outDir, TeacherManifest.EvaluationFile), request.Evaluation ?? DefaultEvaluation(manifest, progress));
        manifest.Write(outDir);
        return manifest;
    }

    /// <summary>
    /// The short evaluation of <paramref name="check"/>: mean over its seeds of the final train loss (mean of the last
    /// 10 steps) of <paramref name="net"/> on its optimizee, run at its thread count (restored afterwards).
    /// </summary>
    public static double RunCheck(TeacherNet net, TeacherCheck check)
    {
        int threads = torch.get_num_threads();
        torch.set_num_threads(check.Threads);
        try
        {
            var family = OptimizeeRegistry.Family(check.Optimizee);
            var runs = Harness.Run(family, CPU, [new OptimizerEntry("teacher", TeacherOptimizer.Factory(net))], new EvalSettings(check.Steps, check.Seeds));
            return runs.Average(r => r.Diverged ? double.NaN : EvalSummary.FinalLoss(r.TrainLoss));
        }
        finally { torch.set_num_threads(threads); }
    }

    /// <summary>The epoch whose evaluation the curriculum kept as its best (0: the untrained baseline).</summary>
    public static int BestEpoch(TrainingProgress progress) =>
        progress.History.Where(h => h.EvalCost is { } c && c == progress.Curriculum.Best).Select(h => h.Epoch).LastOrDefault();

    /// <summary>The <c>teacher train</c> command whose stored settings equal <paramref name="config"/> and <paramref name="options"/>.</summary>
    public static string TrainingCommand(TeacherConfig config, TrainingOptions options)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var preset = TeacherConfig.Preset(config.Model);
        var a = new List<string> { "teacher", "train", "--model", config.Model, "--optimizee", options.Optimizee };
        if (!config.Features.SequenceEqual(preset.Features)) a.AddRange(["--features", string.Join('+', config.Features)]);
        if (!config.Preprocess.SequenceEqual(preset.Preprocess)) a.AddRange(["--preprocess", $"'{string.Join(',', config.Preprocess)}'"]);
        if (!config.Hidden.SequenceEqual(preset.Hidden)) a.AddRange(["--hidden", string.Join(',', config.Hidden)]);
        if (config.LogAndSign) a.Add("--log-and-sign");
        a.AddRange(["--epochs", $"{options.Epochs}", "--steps", $"{options.Steps}", "--unroll", $"{options.Unroll}", "--lr", F(options.MetaLr), "--seed", $"{options.Seed}"]);
        if (options.Imitation > 0) a.AddRange(["--imitation", F(options.Imitation)]);
        if (options.ImitationWarmup > 0) a.AddRange(["--imitation-warmup", $"{options.ImitationWarmup}"]);
        if (options.ImitationTeacherLr != 0.01) a.AddRange(["--imitation-adam-lr", F(options.ImitationTeacherLr)]);
        if (options.RandomScale > 0) a.AddRange(["--random-scale", F(options.RandomScale)]);
        if (options.UsesCurriculum)
            a.AddRange(["--curriculum", "--curriculum-steps", string.Join(',', options.Curriculum), "--curriculum-eval-every", $"{options.CurriculumEvalEvery}",
                "--curriculum-eval-runs", $"{options.CurriculumEvalRuns}", "--curriculum-patience", $"{options.CurriculumPatience}"]);
        return string.Join(' ', a);
    }

    private static string DefaultRecipe(TeacherManifest m, TeacherWeights which) => $"""
        #!/usr/bin/env bash
        # Reproduces the published teacher {m.FolderName} from scratch: meta-train with the stored settings, then publish
        # the {m.Origin.Weights} weights. Usage: {TeacherManifest.RecipeFile} [WORK_DIR] [OUT_DIR]
        set -euo pipefail
        work=${"{"}1:-runs/teacher/{m.FolderName}{"}"}; out=${"{"}2:-grammars/teachers/{m.FolderName}{"}"}
        ./run.sh {m.Origin.Training} --out "$work"
        ./run.sh teacher publish --teacher "$work" --weights {which.ToString().ToLowerInvariant()} --name {m.Name} --version {m.Version} \
          --description {Quote(m.Description)} --out "$out"

        """;

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static string DefaultEvaluation(TeacherManifest m, TrainingProgress progress)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {m.FolderName}: evaluation").AppendLine();
        sb.AppendLine(m.Description).AppendLine();
        sb.AppendLine($"Weights: {m.Provenance}.").AppendLine();
        var evals = progress.History.Where(h => h.EvalCost is not null).ToList();
        if (evals.Count > 0)
        {
            sb.AppendLine("Validation during training (summed training loss of the curriculum's evaluation runs; lower is better):").AppendLine();
            sb.AppendLine("| epoch | evaluation cost |").AppendLine("|---:|---:|");
            foreach (var h in evals) sb.AppendLine(CultureInfo.InvariantCulture, $"| {h.Epoch} | {h.EvalCost!.Value:G6} |");
            sb.AppendLine();
        }
        var c = m.Check;
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Format check (`teacher.json`): mean final train loss {c.MeanFinalTrainLoss:G9} on {c.Optimizee}, {c.Steps} steps, seeds {string.Join(", ", c.Seeds)}, {c.Threads} thread(s).");
        sb.AppendLine().AppendLine($"Compare it with lr-tuned Adam on held-out seeds: `./run.sh teacher eval --teacher {m.FolderName} --seeds 10 --out DIR`.");
        return sb.ToString();
    }
}
