namespace L2OEvolve.Engine;

/// <summary>
/// Bad input from a user-supplied file or string (a grammar, a dataset, an equation): it names the file, the place
/// in it and the fault, so the CLI can print one clean line instead of a stack trace.
/// </summary>
public sealed class InputException : Exception
{
    /// <summary>
    /// The exit code of a program stopped by bad input (every CLI verb, the daemon's option check), so a script can
    /// tell it from 1, a run that went wrong on good input.
    /// </summary>
    public const int ExitCode = 2;

    /// <summary>Creates an error; <see cref="Exception.Message"/> reads <c>FILE: LOCATION: FAULT</c> with empty parts left out.</summary>
    public InputException(string fault, string? file = null, string? location = null, Exception? inner = null)
        : base(Compose(OneLine(fault), file, location), inner)
    {
        Fault = OneLine(fault);
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
        OneLine(string.Join(": ", new[] { file, location, fault }.Where(s => !string.IsNullOrEmpty(s))));

    // The error is one line: a fault that quotes the input (a name, an equation) shows its line breaks and other
    // control characters escaped, so they cannot split the message or hide part of it.
    private static string OneLine(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        var sb = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }
}
