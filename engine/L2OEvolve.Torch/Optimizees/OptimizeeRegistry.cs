using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// The optimizee families by name. A spec may carry settings after a colon (<c>rosenbrock:dim=10</c>,
/// <c>mlp-mnist-rp:batch=64,init=fan-in</c>; see <see cref="OptimizeeOptions.With"/>).
/// </summary>
/// <remarks>
/// The MNIST-format families run on whatever <see cref="OptimizeeOptions.DataDir"/> holds; without one they use
/// Debian's Fashion-MNIST install (digit MNIST is not packaged there), so <c>mlp-mnist-*</c> and <c>mlp-fashion</c>
/// differ by architecture, and by data set only when a data folder is given.
/// </remarks>
public static class OptimizeeRegistry
{
    private static readonly (string Name, string Description, Func<string, OptimizeeOptions, IOptimizeeFamily> Make)[] Families =
    [
        ("quadratic", "‖Wθ − y‖², 10-D, W and y ~ N(0,1) per seed", (_, o) => new QuadraticFamily(o)),
        ("rosenbrock", "Rosenbrock, 2-D (dim=N for the chained N-D form)", (_, o) => new RosenbrockFamily(o)),
        ("logreg", "logistic regression, 20 features, seeded synthetic data", (_, o) => new LogisticRegressionFamily(o)),
        ("mlp-mnist-dm", "MLP 784-20-10 sigmoid (L2O-DM's MNIST task)", (n, o) => Mlp(n, [20], Activation.Sigmoid, o)),
        ("mlp-mnist-rp", "MLP 784-30-20-10 ReLU (the paper's 'mni' optimizee)", (n, o) => Mlp(n, [30, 20], Activation.Relu, o)),
        ("mlp-fashion", "MLP 784-100-10 ReLU on Fashion-MNIST (hidden=64x32 and act=sigmoid|relu|tanh change the net)", (n, o) => Mlp(n, [100], Activation.Relu, o)),
        ("cnn-fashion", "CNN conv6-conv12-linear on Fashion-MNIST", (n, o) => new SmallCnnFamily(n, o)),
    ];

    // Families whose size is set by OptimizeeOptions.Dimension; the networks' sizes are fixed by their names.
    private static readonly string[] DimensionFamilies = ["quadratic", "rosenbrock", "logreg"];

    /// <summary>Registered family names.</summary>
    public static IReadOnlyList<string> Names { get; } = Families.Select(f => f.Name).ToArray();

    /// <summary>One-line description of each family, for help texts.</summary>
    public static IReadOnlyList<(string Name, string Description)> Descriptions { get; } =
        Families.Select(f => (f.Name, f.Description)).ToArray();

    /// <summary>
    /// The family named by <paramref name="spec"/>; keep it to create many seeds, since data sets load once per
    /// family. An unknown name fails listing the known ones.
    /// </summary>
    public static IOptimizeeFamily Family(string spec, OptimizeeOptions? options = null)
    {
        if (spec.Contains(';'))
            return new MixtureFamily(spec, [.. spec.Split(';', StringSplitOptions.TrimEntries).Select(member => member.Length > 0
                ? Family(member, options)
                : throw new ArgumentException($"optimizee '{spec}': an empty member in a mixture (write a;b;c)"))]);
        var parsed = NamedSpec.Parse(spec);
        var entry = Families.FirstOrDefault(f => f.Name == parsed.Key);
        if (entry.Make is null)
            throw new ArgumentException($"unknown optimizee '{parsed.Name}' (known: {string.Join(", ", Names)})");
        var effective = (options ?? OptimizeeOptions.Default).With(parsed.Settings, spec);
        if (effective.Dimension is { } dim && !DimensionFamilies.Contains(parsed.Key))
            throw new ArgumentException($"optimizee '{spec}': dim={dim} does not apply to {parsed.Key} (only to {string.Join(", ", DimensionFamilies)})");
        if ((effective.Hidden is not null || effective.Activation is not null) && !parsed.Key.StartsWith("mlp-", StringComparison.Ordinal))
            throw new ArgumentException($"optimizee '{spec}': hidden= and act= apply to the MLP families only");
        return entry.Make(parsed.Key, effective);
    }

    private static MlpFamily Mlp(string name, int[] hidden, Activation activation, OptimizeeOptions o) =>
        new(name, o.Hidden ?? hidden, o.Activation ?? activation, o);

    /// <summary>One problem instance: <c>Family(spec, options).Create(seed, device)</c>.</summary>
    public static IOptimizee Create(string spec, long seed, Device device, OptimizeeOptions? options = null) =>
        Family(spec, options).Create(seed, device);
}
