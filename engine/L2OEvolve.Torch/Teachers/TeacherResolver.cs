using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Resolves optimizer specs naming a trained teacher for the evaluation harness: <c>teacher:DIR</c>, or a
/// directory holding a teacher's <c>config.json</c>; a suffix <c>@best</c> or <c>@last</c> picks the weights
/// (default: best for curriculum runs, else last).
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
            if (dir.EndsWith(suffix, StringComparison.Ordinal) && !Directory.Exists(dir)) (dir, which) = (dir[..^suffix.Length], w);
        if (!Directory.Exists(dir)) throw new ArgumentException($"optimizer '{spec}': teacher directory '{dir}' does not exist");
        var net = TeacherStore.LoadTeacher(dir, device, which, out bool best);
        var epochs = TeacherStore.ReadProgress(dir).Epoch;
        return TeacherOptimizer.Factory(net, $"{net.Config.DisplayName}@{Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'))}:e{epochs}{(best ? "-best" : "")}");
    }
}
