using System.CommandLine;
using L2OEvolve.Engine;
using L2OEvolve.Torch.Export;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>export</c>: writes a rule file as LaTeX, a sympy expression, a TorchSharp optimizer class (C#) or a PyTorch
/// <c>torch.optim.Optimizer</c> subclass (Python), to <c>--out</c> or standard output.
/// </summary>
public static class ExportCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var rule = new Option<string>("--rule") { Description = "Rule file (*.rule.json).", Required = true };
        var to = new Option<string>("--to") { Description = "latex, sympy, torchsharp (C# class) or pytorch (Python class).", Required = true };
        var output = new Option<string?>("--out") { Description = "Output file (default: standard output)." };
        var className = new Option<string?>("--class") { Description = "Class name of the generated optimizer (default from the rule's name)." };
        var cmd = new Command("export", "Export a rule as LaTeX, sympy, a TorchSharp optimizer class or a PyTorch optimizer class.");
        foreach (var o in new Option[] { rule, to, output, className }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            try
            {
                var format = RuleExport.ParseFormat(parse.GetValue(to)!);
                var source = RuleExport.Export(RuleFile.Load(parse.GetValue(rule)!), format, parse.GetValue(className));
                if (parse.GetValue(output) is { } path)
                {
                    if (string.IsNullOrWhiteSpace(path)) throw new InputException("--out: the output file name is empty");
                    if (Directory.Exists(path)) throw new InputException("a directory; --out names the file to write", path, "--out");
                    if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
                    File.WriteAllText(path, source);
                    parse.InvocationConfiguration.Error.WriteLine($"export: wrote {path}");
                }
                else parse.InvocationConfiguration.Output.Write(source);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InputException or IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"export: error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
