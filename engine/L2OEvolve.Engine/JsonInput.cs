using System.Text.Json;

namespace L2OEvolve.Engine;

/// <summary>Parses the project's hand-written JSON inputs (grammars, rule files, data sidecars) with one leniency and one error form.</summary>
public static class JsonInput
{
    // Hand-edited files: comments and a trailing comma are not worth an error; anything else is.
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Parses <paramref name="json"/>; a syntax error becomes an <see cref="InputException"/> naming
    /// <paramref name="file"/>, the line and column, and System.Text.Json's description of the fault.</summary>
    public static JsonDocument Parse(string json, string? file)
    {
        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            string? where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : null;
            throw new InputException($"malformed JSON: {FirstSentence(e.Message)}", file, where, e);
        }
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: $ | LineNumber: 3 | BytePositionInLine: 7." (or only the last two), which
        // the location already says, in zero-based numbers that would contradict it.
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
