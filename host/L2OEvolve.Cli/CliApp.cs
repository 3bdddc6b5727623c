using System.CommandLine;

namespace L2OEvolve.Cli;

/// <summary>The command-line entry point: one verb per file under <c>Commands/</c>, assembled here.</summary>
public static class CliApp
{
    /// <summary>Parses <paramref name="args"/> and runs the chosen verb; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("L2OEvolve: discover interpretable optimizer update rules.");
        var plugins = new Option<string[]>("--plugin")
        {
            Description = "An assembly of operators (classes deriving from L2OEvolve.Engine.Expressions.Op) to load first (repeatable)",
            Recursive = true,
            AllowMultipleArgumentsPerToken = false,
        };
        root.Options.Add(plugins);
        foreach (var command in Commands()) root.Subcommands.Add(command);
        var parse = root.Parse(args);
        // Bad usage (an unknown option, a missing or malformed value) exits with the same code as bad input found by
        // a verb (CommandErrors.BadInput), not System.CommandLine's 1, so scripts can tell bad input from a failed run.
        if (parse.Errors.Count > 0 && !parse.Tokens.Any(t => t.Value is "-h" or "--help" or "-?"))
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {Readable(error.Message)}");
            Console.Error.WriteLine($"(see: l2oevolve {(parse.CommandResult.Command is RootCommand ? "" : parse.CommandResult.Command.Name + " ")}--help)");
            return L2OEvolve.Cli.Commands.CommandErrors.BadInput;
        }
        // Plug-in operators are registered before any verb reads a grammar, rule file or checkpoint that names them.
        foreach (var path in parse.GetValue(plugins) ?? [])
        {
            try
            {
                L2OEvolve.Engine.Expressions.Plugins.Load(path);
            }
            catch (L2OEvolve.Engine.InputException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return L2OEvolve.Cli.Commands.CommandErrors.BadInput;
            }
        }
        var config = new InvocationConfiguration();
        // The daemon's Generic Host handles SIGTERM/SIGINT itself and needs its ShutdownTimeout for final
        // checkpoints; System.CommandLine's own handler would end the process after its 2 s grace period.
        if (parse.CommandResult.Command.Name == "daemon") config.ProcessTerminationTimeout = null;
        return await parse.InvokeAsync(config);
    }

    /// <summary>System.CommandLine names the CLR type a value failed to parse as; users read "an integer", not Nullable`1[Int32].</summary>
    internal static string Readable(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '(?:System\.Nullable`1\[)?System\.(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" => "as an integer",
            "UInt64" => "as a non-negative integer",
            "Double" => "as a number",
            "Boolean" => "as true or false",
            var t => $"as a {t}",
        });

    private static IEnumerable<Command> Commands()
    {
        yield return Commands_.Version();
        yield return L2OEvolve.Cli.Commands.EvalCommand.Create();
        yield return L2OEvolve.Cli.Commands.TuneCommand.Create();
        yield return L2OEvolve.Cli.Commands.ExportCommand.Create();
        yield return L2OEvolve.Cli.Commands.RunCommand.Create();
        yield return L2OEvolve.Cli.Commands.RunCommand.CreateEvolve();
        yield return L2OEvolve.Cli.Commands.SrCommand.Create();
        yield return L2OEvolve.Cli.Commands.ScoreCommand.Create();
        yield return L2OEvolve.Cli.Commands.SanityDataCommand.Create();
        yield return L2OEvolve.Cli.Commands.TeacherCommand.Create();
        yield return L2OEvolve.Cli.Commands.DaemonCommand.Create();
        yield return L2OEvolve.Cli.Commands.SubmitCommand.Create();
        yield return L2OEvolve.Cli.Commands.StatusCommand.Create();
        yield return L2OEvolve.Cli.Commands.StopCommand.Create();
        yield return L2OEvolve.Cli.Commands.ResumeCommand.Create();
        yield return L2OEvolve.Cli.Commands.ResultCommand.Create();
    }

    private static class Commands_
    {
        public static Command Version()
        {
            var cmd = new Command("version", "Print the version.");
            cmd.SetAction(_ => Console.WriteLine(typeof(CliApp).Assembly.GetName().Version));
            return cmd;
        }
    }
}
