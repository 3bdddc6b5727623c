using L2OEvolve.Engine;

namespace L2OEvolve.Cli.Commands;

/// <summary>Runs a verb body so that bad input (<see cref="InputException"/>, a missing file) prints one line and exits non-zero.</summary>
internal static class CommandErrors
{
    /// <summary>
    /// Exit code for bad usage or input (an unknown option, a missing file, a malformed grammar, an unknown job): every
    /// verb uses it, so a script can tell it from 1, a run that went wrong on good input (no finite candidate, no result yet).
    /// </summary>
    public const int BadInput = InputException.ExitCode;

    /// <summary>Runs <paramref name="body"/>; input faults become "error: ..." on stderr and exit code 2, other I/O failures exit 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (InputException ex) { return Fail(ex.Message); }
        catch (FileNotFoundException ex) { return Fail($"{ex.FileName}: file not found"); }
        catch (DirectoryNotFoundException ex) { return Fail(ex.Message); }
        catch (UnauthorizedAccessException ex) { return Fail(ex.Message); }
        catch (IOException ex)
        {
            // Not the user's input (a full disk, a vanished mount), but still one line rather than a stack trace.
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Runs a synchronous verb body under the same rules as <see cref="Guard(Func{Task{int}})"/>.</summary>
    public static int Guard(Func<int> body) => Guard(() => Task.FromResult(body())).GetAwaiter().GetResult();

    /// <summary>Prints <paramref name="message"/> as an error and returns the bad-input exit code.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }

    /// <summary>
    /// Runs a long verb's body: a fault in its settings or files prints <c>VERB: error: ...</c> on
    /// <paramref name="stderr"/> and exits 2, a cancellation prints <c>VERB: cancelled</c> and exits 130.
    /// </summary>
    public static int Verb(string verb, TextWriter stderr, Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is InputException or ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{verb}: error: {e.Message}");
            return BadInput;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine($"{verb}: cancelled");
            return 130;
        }
    }
}
