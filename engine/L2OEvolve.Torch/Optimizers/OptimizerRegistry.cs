using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizers;

/// <summary>
/// Turns an optimizer spec from the command line (<c>adam:lr=0.01</c>, <c>path/to/rule.rule.json</c>, a teacher
/// checkpoint, ...) into a factory. Immutable: other areas extend it with <see cref="With"/> at the composition root
/// (<see cref="Standard"/> is the one the CLI and the pipeline use), and resolvers are asked in order. A resolver returns null for specs it does not recognise and throws
/// for specs it recognises but finds faulty, so the error names the real problem.
/// </summary>
public sealed class OptimizerRegistry
{
    private readonly IReadOnlyList<Func<string, Device, ParameterOptimizerFactory?>> _resolvers;

    private OptimizerRegistry(IReadOnlyList<Func<string, Device, ParameterOptimizerFactory?>> resolvers) => _resolvers = resolvers;

    /// <summary>The registry of <see cref="BuiltInOptimizers"/> (sgd, momentum, nesterov, adam, torch-adam).</summary>
    public static OptimizerRegistry BuiltIn { get; } = new([(spec, _) => BuiltInOptimizers.TryResolve(spec)]);

    /// <summary>
    /// Every optimizer this library knows by name: the built-in ones, the shipped rule files (<c>lion</c>), rule
    /// files by path and teachers (<c>teacher:DIR</c>). The CLI's verbs and the pipeline resolve names with it.
    /// </summary>
    public static OptimizerRegistry Standard { get; } = BuiltIn
        .With(Rules.RuleFile.TryResolveShipped)
        .With(Rules.RuleFile.TryResolve)
        .With(Teachers.TeacherResolver.TryResolve);

    /// <summary>This registry with <paramref name="resolver"/> asked after the existing ones.</summary>
    public OptimizerRegistry With(Func<string, Device, ParameterOptimizerFactory?> resolver) => new([.. _resolvers, resolver]);

    /// <summary>The factory for <paramref name="spec"/>, or null when no resolver recognises it.</summary>
    public ParameterOptimizerFactory? TryResolve(string spec, Device device)
    {
        foreach (var resolve in _resolvers)
            if (resolve(spec, device) is { } factory) return factory;
        return null;
    }

    /// <summary>The factory for <paramref name="spec"/>; an unrecognised spec fails listing the built-in names.</summary>
    public ParameterOptimizerFactory Resolve(string spec, Device device) =>
        TryResolve(spec, device)
        ?? throw new ArgumentException(
            $"unknown optimizer '{spec}': expected one of {string.Join(", ", BuiltInOptimizers.Catalogue.Select(c => c.Name))} " +
            "(with settings such as adam:lr=0.01) or a path to a rule file (*.rule.json)" +
            (LooksLikePath(spec) && !File.Exists(spec) ? $"; the file '{spec}' does not exist" : ""));

    private static bool LooksLikePath(string spec) => spec.Contains('/') || spec.Contains('\\') || spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
}
