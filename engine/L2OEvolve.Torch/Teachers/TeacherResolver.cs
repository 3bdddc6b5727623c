using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Resolves optimizer specs naming a teacher for the evaluation harness: <c>teacher:NAME</c> (a shipped teacher, see
/// <see cref="TeacherZoo"/>), <c>teacher:DIR</c>, or a directory holding a teacher's <c>config.json</c>; on a training
/// directory a suffix <c>@best</c> or <c>@last</c> picks the weights (default: best for curriculum runs, else last).
/// </summary>
public static class TeacherResolver
{
    /// <summary>The factory for a teacher spec; null when <paramref name="spec"/> names no teacher; throws when it names a broken one.</summary>
    public static ParameterOptimizerFactory? TryResolve(string spec, Device device)
    {
        string dir;
        if (spec.StartsWith("teacher:", StringComparison.Ordinal)) dir = spec["teacher:".Length..];
        else if (Directory.Exists(spec) && File.Exists(Path.Combine(spec, "config.json"))) dir = spec;
        else return null;
        var which = TeacherWeights.Auto;
        foreach (var (suffix, w) in new[] { ("@best", TeacherWeights.Best), ("@last", TeacherWeights.Last) })
            if (dir.EndsWith(suffix, StringComparison.Ordinal) && !Directory.Exists(dir) && TeacherZoo.Find(dir) is null)
                (dir, which) = (dir[..^suffix.Length], w);
        if (TeacherZoo.Find(dir) is { } shipped) dir = shipped;
        else if (!Directory.Exists(dir))
            throw new ArgumentException($"optimizer '{spec}': '{dir}' is neither a shipped teacher ({string.Join(", ", TeacherZoo.Names)}) nor a teacher directory");
        var net = TeacherStore.LoadTeacher(dir, device, which, out bool best);
        return TeacherOptimizer.Factory(net, $"{net.Config.DisplayName}@{Label(dir, best)}");
    }

    // Published teachers are named by their manifest (name-vN, and the epoch the weights came from); training
    // directories by folder name and the checkpoint's epoch.
    private static string Label(string dir, bool best)
    {
        if (TeacherManifest.TryRead(dir) is { } m) return $"{m.FolderName}:e{m.Origin.Epoch}{(best ? "-best" : "")}";
        var folder = Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'));
        if (TeacherStore.IsPublished(dir)) return folder;
        return $"{folder}:e{TeacherStore.ReadProgress(dir).Epoch}{(best ? "-best" : "")}";
    }
}
