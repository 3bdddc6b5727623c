using L2OEvolve.Cli;

namespace L2OEvolve.Torch.Tests.Cli;

/// <summary>Runs CLI verbs in-process, capturing stdout and stderr, in a scratch directory removed afterwards.</summary>
internal sealed class CliRunner : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("l2o-cli-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Dir, name);

    public (int Code, string Out, string Err) Run(params string[] args) => RunAsync(args).GetAwaiter().GetResult();

    public async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = await CliApp.RunAsync(args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>A small table x0, x1, y = x0·x1 + 0.5 on a grid, and a minimal arithmetic grammar.</summary>
    public (string Data, string Grammar) ProductProblem()
    {
        var lines = new List<string> { "x0,x1,y" };
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                double a = -1 + i * 0.3, b = -1 + j * 0.25;
                lines.Add(FormattableString.Invariant($"{a},{b},{a * b + 0.5}"));
            }
        File.WriteAllLines(PathOf("product.csv"), lines);
        File.WriteAllText(PathOf("grammar.json"), """
            { "name": "tiny", "features": "from-data", "operators": { "+": 1, "-": 1, "*": 1, "/": 1 }, "maxsize": 12, "parsimony": 0.001 }
            """);
        return (PathOf("product.csv"), PathOf("grammar.json"));
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
