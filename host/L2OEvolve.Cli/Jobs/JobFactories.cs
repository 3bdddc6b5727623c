namespace L2OEvolve.Cli.Jobs;

/// <summary>The job kinds a daemon can run, by the <c>kind</c> value of their job files.</summary>
public sealed class JobFactories(IEnumerable<ISearchJobFactory> factories)
{
    private readonly Dictionary<string, ISearchJobFactory> _byKind = factories.ToDictionary(f => f.Kind, StringComparer.Ordinal);

    /// <summary>The factory for <paramref name="kind"/>, or null.</summary>
    public ISearchJobFactory? Find(string kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>The known kinds, for error messages.</summary>
    public IEnumerable<string> Kinds => _byKind.Keys.Order(StringComparer.Ordinal);

    /// <summary>Every fault of a spec: the generic checks, an unknown kind, then the kind's own checks.</summary>
    public IReadOnlyList<JobFault> Validate(JobSpec spec, string file)
    {
        var faults = spec.Validate(file).ToList();
        if (Find(spec.Kind) is not { } factory)
            faults.Add(new(file, "kind", $"unknown job kind '{spec.Kind}' (known: {string.Join(", ", Kinds)})"));
        else
            faults.AddRange(factory.Validate(spec).Select(f => f with { File = file }));
        return faults;
    }
}
