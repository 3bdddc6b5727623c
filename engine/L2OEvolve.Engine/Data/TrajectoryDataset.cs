using System.Collections.Immutable;
using System.Globalization;

namespace L2OEvolve.Engine.Data;

/// <summary>
/// Per-coordinate time series for rules with stateful operators: <see cref="Coordinates"/> independent sequences of
/// <see cref="Steps"/> steps, each step giving every feature and the target. Stored TIME-MAJOR (index =
/// step * Coordinates + coordinate) so one step's coordinates are contiguous and SIMD runs across coordinates.
/// </summary>
/// <remarks>On disk: a 3-D <c>.npy</c> [coordinates, steps, features + 1] (last slice = target), float32 or float64,
/// with sidecar <c>{"kind": "trajectory", "columns": [...features, target]}</c>; without a sidecar the names are
/// <c>x0..</c> and <c>y</c>. Time order cannot survive dropping single rows, so non-finite values drop whole
/// coordinates.</remarks>
public sealed record TrajectoryDataset
{
    /// <summary>Builds a dataset, checking every array has <c>steps * coordinates</c> values.</summary>
    public TrajectoryDataset(int coordinates, int steps, ImmutableArray<string> featureNames, float[][] features,
        float[] target, string targetName = "y", int droppedCoordinates = 0)
    {
        long n = (long)coordinates * steps;
        if (featureNames.Length != features.Length)
            throw new ArgumentException($"{featureNames.Length} names for {features.Length} features", nameof(featureNames));
        for (int f = 0; f < features.Length; f++)
            if (features[f].Length != n) throw new ArgumentException($"feature '{featureNames[f]}' has {features[f].Length} values, expected {n}", nameof(features));
        if (target.Length != n) throw new ArgumentException($"target has {target.Length} values, expected {n}", nameof(target));
        if (new DataSidecar(DataSidecar.TrajectoryKind, featureNames.Add(targetName)).Duplicate() is { } dup)
            throw new ArgumentException($"duplicate column name '{dup}'", nameof(featureNames));
        (Coordinates, Steps, FeatureNames, Features, Target, TargetName, DroppedCoordinates) =
            (coordinates, steps, featureNames, features, target, targetName, droppedCoordinates);
    }

    /// <summary>Number of independent sequences (optimizee coordinates).</summary>
    public int Coordinates { get; }

    /// <summary>Time steps per sequence.</summary>
    public int Steps { get; }

    /// <summary>Feature names, e.g. <c>g</c>, <c>m</c>, <c>v</c>.</summary>
    public ImmutableArray<string> FeatureNames { get; }

    /// <summary>One array per feature, time-major (index = step * Coordinates + coordinate).</summary>
    public float[][] Features { get; }

    /// <summary>The target, same layout.</summary>
    public float[] Target { get; }

    /// <summary>The target's name.</summary>
    public string TargetName { get; }

    /// <summary>Coordinates removed on load because they held NaN/Inf.</summary>
    public int DroppedCoordinates { get; }

    /// <summary>The value of <paramref name="feature"/> at a step and coordinate.</summary>
    public float this[int feature, int step, int coordinate] => Features[feature][step * Coordinates + coordinate];

    /// <summary>
    /// Loads a 3-D <c>.npy</c>. Coordinates with any NaN/Inf are an error stating how many, or are dropped (and
    /// counted in <see cref="DroppedCoordinates"/>) when <paramref name="dropNonFinite"/> is set.
    /// </summary>
    public static TrajectoryDataset Load(string path, bool dropNonFinite = false)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new InputException("trajectory datasets are .npy files of shape [coordinates, steps, features + 1]", path);
        var array = Npy.Read(path);
        if (array.Shape.Length != 3)
            throw new InputException($"expected a 3-D array [coordinates, steps, features + 1], got shape ({string.Join(", ", array.Shape)})", path);
        int c = array.Shape[0], s = array.Shape[1], width = array.Shape[2];
        if (width < 2) throw new InputException($"the last axis has {width} slice(s); it needs at least one feature and the target", path);
        var names = DataSidecar.ColumnsFor(path, DataSidecar.TrajectoryKind, width,
            () => Enumerable.Range(0, width - 1).Select(f => "x" + f.ToString(CultureInfo.InvariantCulture)).Append("y").ToImmutableArray(),
            kind => $"the sidecar says kind '{kind}' but the array is 3-D; expected \"kind\": \"trajectory\"",
            count => $"the sidecar names {count} columns but the last axis has {width} (features + target)");

        var data = array.Data;
        var keep = new List<int>(c);
        for (int coord = 0; coord < c; coord++)
        {
            var block = data.AsSpan(coord * s * width, s * width);
            bool finite = true;
            foreach (float v in block) finite &= float.IsFinite(v);
            if (finite) keep.Add(coord);
        }
        int bad = c - keep.Count;
        if (bad > 0 && !dropNonFinite)
            throw new InputException($"{bad} of {c} coordinates contain NaN or Inf (first: coordinate {Enumerable.Range(0, c).Except(keep).First()}); " +
                "use --drop-nonfinite to drop them", path);
        if (keep.Count == 0 || s == 0)
            throw new InputException(c == 0 || s == 0 ? $"the array ({string.Join(", ", array.Shape)}) is empty" : $"all {c} coordinates contain NaN or Inf; none are left", path);

        int kc = keep.Count;
        var columns = new float[width][];
        for (int f = 0; f < width; f++) columns[f] = new float[(long)kc * s];
        for (int k = 0; k < kc; k++)
        {
            int baseIndex = keep[k] * s * width;
            for (int step = 0; step < s; step++)
                for (int f = 0; f < width; f++)
                    columns[f][step * kc + k] = data[baseIndex + step * width + f];
        }
        return new TrajectoryDataset(kc, s, names[..^1], columns[..^1], columns[^1], names[^1], bad);
    }

    /// <summary>The same sequences with only the named features (in the given order).</summary>
    /// <exception cref="InputException">A name is not a feature (the message lists them).</exception>
    public TrajectoryDataset Select(IReadOnlyList<string> features)
    {
        var idx = features.Select(name =>
        {
            int f = FeatureNames.IndexOf(name, StringComparer.Ordinal);
            return f >= 0 ? f : throw new InputException($"no feature '{name}'; the features are {string.Join(", ", FeatureNames)}");
        }).ToArray();
        return new TrajectoryDataset(Coordinates, Steps, [.. features], idx.Select(f => Features[f]).ToArray(), Target, TargetName, DroppedCoordinates);
    }

    /// <summary>Writes float32 <c>.npy</c> [coordinates, steps, features + 1] and its trajectory sidecar.</summary>
    public void Save(string path)
    {
        int width = Features.Length + 1;
        var flat = new float[(long)Coordinates * Steps * width];
        for (int coord = 0, k = 0; coord < Coordinates; coord++)
            for (int step = 0; step < Steps; step++)
            {
                int at = step * Coordinates + coord;
                for (int f = 0; f < Features.Length; f++) flat[k++] = Features[f][at];
                flat[k++] = Target[at];
            }
        Npy.WriteFloat32(path, [Coordinates, Steps, width], flat);
        new DataSidecar(DataSidecar.TrajectoryKind, FeatureNames.Add(TargetName)).Save(path);
    }
}
