using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using L2OEvolve.Engine.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Training progress as checkpointed: epochs done, curriculum state, per-epoch history and the curriculum stage's
/// best weights. With the master seed (every epoch's randomness derives from seed and epoch index) and the
/// optimizer moments, this is all a resumed run needs to reach the same weights.
/// </summary>
public sealed record TrainingProgress(int Epoch, CurriculumState Curriculum, ImmutableList<EpochRecord> History, float[][]? BestWeights)
{
    /// <summary>Before the first epoch.</summary>
    public static TrainingProgress Initial { get; } = new(0, CurriculumState.Start, [], null);
}

/// <summary>Which weights of a teacher directory to load.</summary>
public enum TeacherWeights
{
    /// <summary><see cref="Best"/> when the run kept them (curriculum runs), else <see cref="Last"/>.</summary>
    Auto,
    /// <summary>The latest checkpoint.</summary>
    Last,
    /// <summary>The best weights by the curriculum's evaluation (on training-side seeds) in the current stage, as TF's train_dm keeps them.</summary>
    Best,
}

/// <summary>
/// A teacher directory (a training run, or a published teacher: see <see cref="TeacherManifest"/>): <c>config.json</c> (architecture and training settings), and per checkpoint
/// <c>weights.eN.bin</c> (TorchSharp <c>Module.save</c>), <c>state.eN.bin</c> (meta-optimizer moments, curriculum
/// best weights) and <c>progress.json</c>, written last through a rename so it always names a complete checkpoint.
/// </summary>
public static class TeacherStore
{
    private const string ConfigFile = "config.json", ProgressFile = "progress.json";

    /// <summary>Writes <c>config.json</c>, creating the directory.</summary>
    public static void WriteConfig(string dir, TeacherConfig config, TrainingOptions options)
    {
        System.IO.Directory.CreateDirectory(dir);
        var json = new JsonObject { ["teacher"] = config.ToJson(), ["training"] = options.ToJson() };
        WriteAtomically(Path.Combine(dir, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads <c>config.json</c>.</summary>
    public static (TeacherConfig Config, TrainingOptions Options) ReadConfig(string dir)
    {
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir}: not a teacher directory (no {ConfigFile})", path);
        JsonNode node;
        try { node = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
        var teacher = node["teacher"] ?? throw new InvalidDataException($"{path}: missing \"teacher\"");
        var training = node["training"] ?? throw new InvalidDataException($"{path}: missing \"training\"");
        return (TeacherConfig.FromJson(teacher, path), TrainingOptions.FromJson(training, path));
    }

    /// <summary>True when <paramref name="dir"/> holds a checkpoint of at least one epoch.</summary>
    public static bool HasCheckpoint(string dir) => File.Exists(Path.Combine(dir, ProgressFile));

    /// <summary>Reads <c>progress.json</c> (the initial progress when there is none yet). Best weights load with the checkpoint.</summary>
    public static TrainingProgress ReadProgress(string dir)
    {
        var path = Path.Combine(dir, ProgressFile);
        if (!File.Exists(path)) return TrainingProgress.Initial;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var history = o["history"]!.AsArray().Select(h => new EpochRecord(
                h!["epoch"]!.GetValue<int>(), h["kind"]!.GetValue<string>(), h["steps"]!.GetValue<int>(),
                h["metaLoss"]?.GetValue<double>() ?? double.NaN, h["secondsPerUnroll"]!.GetValue<double>(),
                h["evalCost"]?.GetValue<double>())).ToImmutableList();
            return new TrainingProgress(o["epoch"]!.GetValue<int>(), CurriculumState.FromJson(o["curriculum"]!), history, null);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a training progress file ({e.Message})", e);
        }
    }

    /// <summary>Writes a complete checkpoint for <paramref name="progress"/> and removes older ones.</summary>
    public static void WriteCheckpoint(string dir, TrainingProgress progress, TeacherNet net, MetaAdam meta, MetaAdam imitation)
    {
        int e = progress.Epoch;
        var weights = Path.Combine(dir, $"weights.e{e}.bin");
        net.save(weights + ".tmp");
        File.Move(weights + ".tmp", weights, overwrite: true);
        var statePath = Path.Combine(dir, $"state.e{e}.bin");
        using (var w = new BinaryWriter(File.Create(statePath + ".tmp")))
        {
            meta.Save(w);
            imitation.Save(w);
            w.Write(progress.BestWeights is not null);
            if (progress.BestWeights is { } best)
            {
                w.Write(best.Length);
                foreach (var a in best) { w.Write(a.Length); foreach (var x in a) w.Write(x); }
            }
        }
        File.Move(statePath + ".tmp", statePath, overwrite: true);
        var json = new JsonObject
        {
            ["epoch"] = e,
            ["weights"] = Path.GetFileName(weights),
            ["state"] = Path.GetFileName(statePath),
            ["curriculum"] = progress.Curriculum.ToJson(),
            ["history"] = new JsonArray([.. progress.History.Select(h => (JsonNode)new JsonObject
            {
                ["epoch"] = h.Epoch, ["kind"] = h.Kind, ["steps"] = h.Steps,
                ["metaLoss"] = double.IsFinite(h.MetaLoss) ? h.MetaLoss : null,
                ["secondsPerUnroll"] = h.SecondsPerUnroll, ["evalCost"] = h.EvalCost is { } c && double.IsFinite(c) ? c : null,
            })]),
        };
        WriteAtomically(Path.Combine(dir, ProgressFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (var old in System.IO.Directory.EnumerateFiles(dir, "*.e*.bin"))
        {
            var name = Path.GetFileName(old);
            if (name != Path.GetFileName(weights) && name != Path.GetFileName(statePath)) File.Delete(old);
        }
    }

    /// <summary>Loads the weights, optimizer moments and best weights of the checkpoint <paramref name="progress"/> names.</summary>
    public static TrainingProgress LoadCheckpoint(string dir, TrainingProgress progress, TeacherNet net, MetaAdam meta, MetaAdam imitation)
    {
        LoadWeights(dir, progress.Epoch, net);
        var statePath = Path.Combine(dir, $"state.e{progress.Epoch}.bin");
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{dir}: checkpoint of epoch {progress.Epoch} lacks {Path.GetFileName(statePath)}", statePath);
        using var r = new BinaryReader(File.OpenRead(statePath));
        try
        {
            meta.Load(r, statePath);
            imitation.Load(r, statePath);
            float[][]? best = null;
            if (r.ReadBoolean())
            {
                best = new float[r.ReadInt32()][];
                for (int i = 0; i < best.Length; i++)
                {
                    best[i] = new float[r.ReadInt32()];
                    for (int j = 0; j < best[i].Length; j++) best[i][j] = r.ReadSingle();
                }
            }
            return progress with { BestWeights = best };
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{statePath}: truncated checkpoint state", e);
        }
    }

    /// <summary>
    /// Loads a trained teacher for evaluation or recording: the weights <paramref name="which"/> names (by default the
    /// validation-selected best of a curriculum run, else the latest checkpoint).
    /// </summary>
    public static TeacherNet LoadTeacher(string dir, Device device, TeacherWeights which = TeacherWeights.Auto) =>
        LoadTeacher(dir, device, which, out _);

    /// <summary>As <see cref="LoadTeacher(string, Device, TeacherWeights)"/>, telling whether the best weights were loaded.</summary>
    public static TeacherNet LoadTeacher(string dir, Device device, TeacherWeights which, out bool loadedBest)
    {
        loadedBest = false;
        var (config, options) = ReadConfig(dir);
        if (IsPublished(dir)) return LoadPublished(dir, device, which, config, options, out loadedBest);
        var progress = ReadProgress(dir);
        if (progress.Epoch == 0) throw new InvalidDataException($"{dir}: the teacher has no trained checkpoint yet (progress.json missing)");
        var rng = new Rng(options.Seed).Fork(0);
        var net = new TeacherNet(config, ref rng);
        // A teacher copied without its state file (weights and config only) still loads its last weights under Auto.
        bool hasState = File.Exists(Path.Combine(dir, $"state.e{progress.Epoch}.bin"));
        if (which == TeacherWeights.Last || (which == TeacherWeights.Auto && !hasState)) LoadWeights(dir, progress.Epoch, net);
        else
        {
            using var meta = new MetaAdam(net.Weights(), options.MetaLr);
            using var imitation = new MetaAdam(net.Weights(), options.MetaLr);
            var loaded = LoadCheckpoint(dir, progress, net, meta, imitation);
            if (loaded.BestWeights is { } best) { Restore(net, best); loadedBest = true; }
            else if (which == TeacherWeights.Best)
                throw new InvalidDataException($"{dir}: the run kept no best weights (only curriculum runs evaluate while training); load the last ones instead");
        }
        net.to(device);
        return net;
    }

    /// <summary>
    /// True for a published teacher folder: <c>weights.bin</c> or <c>teacher.json</c> beside <c>config.json</c> and no
    /// training checkpoint (see <see cref="TeacherManifest"/>).
    /// </summary>
    public static bool IsPublished(string dir) =>
        !HasCheckpoint(dir) && (File.Exists(Path.Combine(dir, TeacherManifest.WeightsFile)) || File.Exists(Path.Combine(dir, TeacherManifest.ManifestFile)));

    // A published folder holds one set of weights, the ones its manifest says were selected: Auto loads them, and
    // Best or Last only when that is what was selected, so "@last" never silently means the best weights.
    private static TeacherNet LoadPublished(string dir, Device device, TeacherWeights which, TeacherConfig config, TrainingOptions options, out bool loadedBest)
    {
        var manifest = TeacherManifest.TryRead(dir);
        manifest?.VerifyWeights(dir);
        var path = Path.Combine(dir, TeacherManifest.WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing (a published teacher folder ships its weights there)", path);
        string selected = manifest?.Origin.Weights ?? "unknown";
        if (which != TeacherWeights.Auto && !string.Equals(selected, which.ToString(), StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{dir}: a published teacher holds only its selected weights ({selected}), not the {which.ToString().ToLowerInvariant()} ones; load it without a weights choice");
        loadedBest = selected == "best";
        var rng = new Rng(options.Seed).Fork(0);
        var net = new TeacherNet(config, ref rng);
        try { net.load(path); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            net.Dispose();
            throw new InvalidDataException($"{path}: not the weights of {config.DisplayName} ({e.Message})", e);
        }
        net.to(device);
        return net;
    }

    private static void LoadWeights(string dir, int epoch, TeacherNet net)
    {
        var path = Path.Combine(dir, $"weights.e{epoch}.bin");
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir}: checkpoint of epoch {epoch} lacks {Path.GetFileName(path)}", path);
        net.load(path);
    }

    /// <summary>A copy of the weights' values.</summary>
    public static float[][] Snapshot(TeacherNet net) => [.. net.Weights().Select(p => p.detach().cpu().data<float>().ToArray())];

    /// <summary>Writes <paramref name="snapshot"/> back into the weights.</summary>
    public static void Restore(TeacherNet net, float[][] snapshot)
    {
        using var _ = no_grad();
        var weights = net.Weights();
        for (int i = 0; i < weights.Count; i++)
        {
            using var t = tensor(snapshot[i], weights[i].shape, device: weights[i].device);
            weights[i].copy_(t);
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
