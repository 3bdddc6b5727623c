using L2OEvolve.Engine;

namespace L2OEvolve.Cli.Commands;

/// <summary>Runs a verb body so that bad input (<see cref="InputException"/>, a missing file) prints one line and exits non-zero.</summary>
internal static class CommandErrors
{
    /// <summary>Exit code for bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Runs <paramref name="body"/>; input faults become "error: ..." on stderr and exit code 2.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (InputException ex) { return Fail(ex.Message); }
        catch (FileNotFoundException ex) { return Fail($"{ex.FileName}: file not found"); }
        catch (DirectoryNotFoundException ex) { return Fail(ex.Message); }
        catch (UnauthorizedAccessException ex) { return Fail(ex.Message); }
    }

    /// <summary>Prints <paramref name="message"/> as an error and returns the bad-input exit code.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return BadInput;
    }
}
