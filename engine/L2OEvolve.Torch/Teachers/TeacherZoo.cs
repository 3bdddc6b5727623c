using L2OEvolve.Engine;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The pretrained teachers shipped with the project (<c>grammars/teachers/NAME-vN/</c>, copied into the build output
/// under <c>teachers/</c>), found by name the way model zoos find weights.
/// </summary>
public static class TeacherZoo
{
    /// <summary>
    /// Where shipped teachers are looked for, in order: <c>teachers/</c> beside the executable (the build copies them
    /// there), then <c>grammars/teachers/</c> under the working directory (a source checkout).
    /// </summary>
    public static IReadOnlyList<string> Roots =>
        [Path.Combine(AppContext.BaseDirectory, "teachers"), Path.Combine(Directory.GetCurrentDirectory(), "grammars", "teachers")];

    /// <summary>The shipped teacher names (folders holding a <c>teacher.json</c>), sorted.</summary>
    public static IReadOnlyList<string> Names =>
        [.. Roots.Where(Directory.Exists)
            .SelectMany(r => Directory.EnumerateDirectories(r))
            .Where(d => File.Exists(Path.Combine(d, TeacherManifest.ManifestFile)))
            .Select(Path.GetFileName).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>The folder of the shipped teacher <paramref name="name"/>, or null when none ships under that name.</summary>
    public static string? Find(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..") return null;
        return Roots.Select(r => Path.Combine(r, name)).FirstOrDefault(d => File.Exists(Path.Combine(d, TeacherManifest.ManifestFile)));
    }

    /// <summary>
    /// A teacher folder for <paramref name="nameOrDir"/>: a shipped teacher's name, else a directory holding a teacher's
    /// <c>config.json</c> (a training run or a published folder). Anything else fails naming <paramref name="source"/>
    /// (the file or option that gave it) and listing the shipped names.
    /// </summary>
    public static string Resolve(string nameOrDir, string source, string? location = null)
    {
        if (Find(nameOrDir) is { } shipped) return shipped;
        if (File.Exists(Path.Combine(nameOrDir, "config.json"))) return nameOrDir;
        var names = Names;
        string shippedList = names.Count == 0 ? "none are installed" : string.Join(", ", names);
        string what = Directory.Exists(nameOrDir) ? $"'{nameOrDir}' is a folder without a teacher's config.json" : $"no teacher '{nameOrDir}'";
        throw new InputException($"{what}: give a shipped teacher ({shippedList}) or a teacher directory", source, location);
    }
}
