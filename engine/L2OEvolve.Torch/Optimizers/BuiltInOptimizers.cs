using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizers;

/// <summary>
/// The hand-designed baselines, written with in-place TorchSharp ops under no_grad and following PyTorch's update
/// equations exactly (so <c>adam</c> and <c>torch-adam</c> give the same trajectory):
/// <code>
/// sgd       θ ← θ − lr·g
/// momentum  b ← μ·b + g;              θ ← θ − lr·b
/// nesterov  b ← μ·b + g;              θ ← θ − lr·(g + μ·b)
/// adam      m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
/// </code>
/// Names take settings after a colon: <c>adam:lr=0.01,beta1=0.8</c>, <c>momentum:lr=0.1,mu=0.95</c>.
/// <c>torch-adam</c> wraps TorchSharp's own <c>torch.optim.Adam</c>, as a reference and a speed yardstick. Its step
/// passes libtorch scalars that only their finalizers own (see <see cref="TorchScalars"/>), which we cannot change;
/// so it is not used where several threads train at once (the pipeline evaluates with <c>adam</c>).
/// </summary>
public static class BuiltInOptimizers
{
    /// <summary>Built-in names and their settings with defaults.</summary>
    public static IReadOnlyList<(string Name, IReadOnlyDictionary<string, double> Defaults)> Catalogue { get; } =
    [
        ("sgd", new Dictionary<string, double> { ["lr"] = 0.01 }),
        ("momentum", new Dictionary<string, double> { ["lr"] = 0.01, ["mu"] = 0.9 }),
        ("nesterov", new Dictionary<string, double> { ["lr"] = 0.01, ["mu"] = 0.9 }),
        ("adam", new Dictionary<string, double> { ["lr"] = 0.001, ["beta1"] = 0.9, ["beta2"] = 0.999, ["eps"] = 1e-8 }),
        ("torch-adam", new Dictionary<string, double> { ["lr"] = 0.001, ["beta1"] = 0.9, ["beta2"] = 0.999, ["eps"] = 1e-8 }),
    ];

    private static bool IsBuiltInName(string name) =>
        Catalogue.Any(c => c.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The factory for a built-in spec, or null when the name is not built in. A bad setting (unknown key, not a
    /// positive number) fails naming it and listing the valid keys.
    /// </summary>
    public static ParameterOptimizerFactory? TryResolve(string spec)
    {
        NamedSpec parsed;
        try { parsed = NamedSpec.Parse(spec); }
        // Malformed settings after a built-in name are this resolver's fault to report; after anything else (a path
        // with a colon in it) they are another resolver's business.
        catch (ArgumentException) when (!IsBuiltInName(spec.Split(':', 2)[0])) { return null; }
        var entry = Catalogue.FirstOrDefault(c => c.Name == parsed.Key);
        if (entry.Name is null) return null;
        var h = new Dictionary<string, double>(entry.Defaults);
        foreach (var (key, text) in parsed.Settings)
        {
            if (!h.ContainsKey(key))
                throw new ArgumentException($"optimizer '{spec}': unknown setting '{key}' for {parsed.Name} (known: {string.Join(", ", entry.Defaults.Keys)})");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
                throw new ArgumentException($"optimizer '{spec}': '{key}={text}' is not a non-negative number");
            h[key] = value;
        }
        string name = parsed.Key + "(" + string.Join(", ", h.Select(kv => $"{kv.Key}={kv.Value.ToString("G4", CultureInfo.InvariantCulture)}")) + ")";
        return parsed.Key switch
        {
            "sgd" => (shapes, device) => new Sgd(name, h["lr"]),
            "momentum" => (shapes, device) => new Momentum(name, h["lr"], h["mu"], nesterov: false, shapes, device),
            "nesterov" => (shapes, device) => new Momentum(name, h["lr"], h["mu"], nesterov: true, shapes, device),
            "adam" => (shapes, device) => new Adam(name, h["lr"], h["beta1"], h["beta2"], h["eps"], shapes, device),
            _ => (shapes, device) => new TorchAdam(name, h["lr"], h["beta1"], h["beta2"], h["eps"]),
        };
    }

    /// <summary>Zero-filled state tensors matching <paramref name="shapes"/>, owned by the optimizer (outside any dispose scope).</summary>
    internal static Tensor[] ZeroState(IReadOnlyList<long[]> shapes, Device device) =>
        shapes.Select(s => torch.zeros(s, device: device).DetachFromDisposeScope()).ToArray();

    internal static void CheckCounts(string name, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int expected)
    {
        if (parameters.Count != expected || gradients.Count != expected)
            throw new ArgumentException($"{name}: built for {expected} parameter tensors, got {parameters.Count} parameters and {gradients.Count} gradients");
    }
}

/// <summary>Plain SGD: θ ← θ − lr·g, no state.</summary>
internal sealed class Sgd(string name, double lr) : IParameterOptimizer
{
    public string Name => name;

    public double StateFloatsPerParameter => 0;

    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        BuiltInOptimizers.CheckCounts(name, parameters, gradients, parameters.Count);
        using var _ = torch.no_grad();
        using var minusLr = (-lr).ToScalar();
        for (int i = 0; i < parameters.Count; i++) parameters[i].add_(gradients[i], minusLr);
    }

    public void Dispose() { }
}

/// <summary>torch.optim.SGD with momentum (b ← μb + g), optionally Nesterov's look-ahead; one buffer per parameter.</summary>
internal sealed class Momentum(string name, double lr, double mu, bool nesterov, IReadOnlyList<long[]> shapes, Device device) : IParameterOptimizer
{
    private readonly Tensor[] _buffer = BuiltInOptimizers.ZeroState(shapes, device);

    public string Name => name;

    public double StateFloatsPerParameter => 1;

    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        BuiltInOptimizers.CheckCounts(name, parameters, gradients, _buffer.Length);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        using Scalar muScalar = mu.ToScalar(), minusLr = (-lr).ToScalar();
        for (int i = 0; i < parameters.Count; i++)
        {
            // PyTorch starts the buffer at the first gradient rather than at μ·0 + g; the two are equal.
            _buffer[i].mul_(muScalar).PlusInPlace(gradients[i]);
            if (nesterov) parameters[i].add_(gradients[i].add(_buffer[i], muScalar), minusLr);
            else parameters[i].add_(_buffer[i], minusLr);
        }
    }

    public void Dispose()
    {
        foreach (var b in _buffer) b.Dispose();
    }
}

/// <summary>Adam written out with TorchSharp operators, matching torch.optim.Adam; two moments per parameter.</summary>
internal sealed class Adam(string name, double lr, double beta1, double beta2, double eps, IReadOnlyList<long[]> shapes, Device device) : IParameterOptimizer
{
    private readonly Tensor[] _m = BuiltInOptimizers.ZeroState(shapes, device);
    private readonly Tensor[] _v = BuiltInOptimizers.ZeroState(shapes, device);

    public string Name => name;

    public double StateFloatsPerParameter => 2;

    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        BuiltInOptimizers.CheckCounts(name, parameters, gradients, _m.Length);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
        using Scalar b1 = beta1.ToScalar(), oneMinusB1 = (1 - beta1).ToScalar(), b2 = beta2.ToScalar(), oneMinusB2 = (1 - beta2).ToScalar(),
            sqrtBc2 = bc2Sqrt.ToScalar(), epsilon = eps.ToScalar(), minusStep = (-stepSize).ToScalar();
        for (int i = 0; i < parameters.Count; i++)
        {
            var g = gradients[i];
            _m[i].mul_(b1).add_(g, oneMinusB1);
            _v[i].mul_(b2).addcmul_(g, g, oneMinusB2);
            var denom = _v[i].sqrt().div_(sqrtBc2).add_(epsilon, TorchScalars.One);
            parameters[i].addcdiv_(_m[i], denom, minusStep);
        }
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}

/// <summary>
/// TorchSharp's <c>torch.optim.Adam</c> behind the common interface. It needs module-style parameters with a
/// <c>.grad</c>, so on the first step it wraps each parameter in a <see cref="TorchSharp.Modules.Parameter"/> that shares the
/// parameter's storage; its in-place updates therefore land in the caller's tensors.
/// </summary>
internal sealed class TorchAdam(string name, double lr, double beta1, double beta2, double eps) : IParameterOptimizer
{
    private TorchSharp.Modules.Parameter[]? _shared;
    private optim.Optimizer? _adam;

    public string Name => name;

    public double StateFloatsPerParameter => 2;

    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        if (_shared is null)
        {
            using var _ = torch.no_grad();
            _shared = parameters.Select(p => new TorchSharp.Modules.Parameter(p.detach(), requires_grad: true).DetachFromDisposeScope()).Cast<TorchSharp.Modules.Parameter>().ToArray();
            _adam = optim.Adam(_shared, lr, beta1, beta2, eps);
        }
        BuiltInOptimizers.CheckCounts(name, parameters, gradients, _shared.Length);
        for (int i = 0; i < _shared.Length; i++) _shared[i].grad = gradients[i];
        _adam!.step();
    }

    public void Dispose()
    {
        _adam?.Dispose();
        if (_shared is not null) foreach (var p in _shared) p.Dispose();
    }
}
