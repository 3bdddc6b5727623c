namespace L2OEvolve.Engine;

/// <summary>
/// Bad input from a user-supplied file or string (a grammar, a dataset, an equation): it names the file, the place
/// in it and the fault, so the CLI can print one clean line instead of a stack trace.
/// </summary>
public sealed class InputException : Exception
{
    /// <summary>Creates an error; <see cref="Exception.Message"/> reads <c>FILE: LOCATION: FAULT</c> with empty parts left out.</summary>
    public InputException(string fault, string? file = null, string? location = null, Exception? inner = null)
        : base(Compose(fault, file, location), inner)
    {
        Fault = fault;
        File = file;
        Location = location;
    }

    /// <summary>The file at fault, or null for input that did not come from a file (a command-line equation).</summary>
    public string? File { get; }

    /// <summary>Where in the input: <c>line 3, column 7</c>, <c>column 12</c>, a JSON path such as <c>$.operators[2]</c>.</summary>
    public string? Location { get; }

    /// <summary>What is wrong, without the file and location.</summary>
    public string Fault { get; }

    /// <summary>The same fault attributed to <paramref name="file"/> (used when a parser of strings runs inside a file reader).</summary>
    public InputException InFile(string file, string? location = null) =>
        new(Fault, file, location is null ? Location : Location is null ? location : $"{location}, {Location}", this);

    private static string Compose(string fault, string? file, string? location) =>
        string.Join(": ", new[] { file, location, fault }.Where(s => !string.IsNullOrEmpty(s)));
}
