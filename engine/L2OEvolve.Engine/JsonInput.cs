using System.Text;
using System.Text.Json;

namespace L2OEvolve.Engine;

/// <summary>Parses the project's hand-written JSON inputs (grammars, rule files, job files, data sidecars) with one leniency and one error form.</summary>
public static class JsonInput
{
    // Hand-edited files: comments and a trailing comma are not worth an error; anything else is.
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads (at most <see cref="InputFiles.JsonBytes"/>) and parses the <paramref name="kind"/> at <paramref name="path"/>.</summary>
    public static JsonDocument Load(string path, string kind) => Parse(InputFiles.ReadText(path, InputFiles.JsonBytes, kind), path);

    /// <summary>Parses <paramref name="json"/>; a syntax error or a key given twice in one object becomes an
    /// <see cref="InputException"/> naming <paramref name="file"/>, the line and column, and the fault.</summary>
    public static JsonDocument Parse(string json, string? file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            string? where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : null;
            throw new InputException($"malformed JSON: {FirstSentence(e.Message)}", file, where, e);
        }
        catch (ArgumentException e) // text that is not valid UTF-16 (a lone surrogate), from a string built in code
        {
            throw new InputException($"malformed JSON: {e.Message}", file, inner: e);
        }
        // The parser keeps both values of a repeated key and lookups see the last one: an edit that adds a second
        // "operators" would silently replace the first, so a repeated key is an error, like a syntax error.
        try { RejectDuplicateKeys(json, file); }
        catch { doc.Dispose(); throw; }
        return doc;
    }

    private static void RejectDuplicateKeys(string json, string? file)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var scopes = new Stack<HashSet<string>?>();
        var paths = new Stack<string>();
        string path = "$";
        string? pendingKey = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    paths.Push(path);
                    if (scopes.Count > 0) path = scopes.Peek() is null ? $"{path}[]" : $"{path}.{pendingKey}";
                    scopes.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                    pendingKey = null;
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    scopes.Pop();
                    path = paths.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    string key = reader.GetString()!;
                    if (!scopes.Peek()!.Add(key))
                    {
                        var (line, column) = LineColumn(bytes, reader.TokenStartIndex);
                        throw new InputException($"duplicate key '{key}' in {path} (each key may appear once per object)", file, $"line {line}, column {column}");
                    }
                    pendingKey = key;
                    break;
                default:
                    pendingKey = null;
                    break;
            }
        }
    }

    private static (int Line, int Column) LineColumn(byte[] bytes, long offset)
    {
        int line = 1;
        long lineStart = 0;
        for (long i = 0; i < offset; i++)
            if (bytes[i] == '\n') { line++; lineStart = i + 1; }
        return (line, (int)(offset - lineStart) + 1);
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
