using System.CommandLine;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>sanity-data</c>: the synthetic recovery problems of the paper's sanity table (docs/symbolic-l2o.md, 'Sanity problems'): noisy AR(1) gradient
/// sequences, 20 lags as features, and five known rules as targets, as tables and (for the stateful forms) as trajectories.
/// </summary>
internal static class SanityDataCommand
{
    public static Command Create()
    {
        var @out = new Option<string>("--out") { Description = "Directory to write the datasets into", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0UL };
        var coordinates = new Option<int>("--coordinates") { Description = "Independent gradient sequences", DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Recorded steps per sequence (after the burn-in)", DefaultValueFactory = _ => 70 };
        var cmd = new Command("sanity-data", "Write the AR(1) gradient sanity datasets (tables with lags g0..g19, and trajectories).") { @out, seed, coordinates, steps };
        cmd.SetAction((parse, _) => CommandErrors.Guard(() =>
        {
            int c = parse.GetValue(coordinates), s = parse.GetValue(steps);
            if (c < 1) return Task.FromResult(CommandErrors.Fail($"--coordinates must be positive, got {c}"));
            if (s < 1) return Task.FromResult(CommandErrors.Fail($"--steps must be positive, got {s}"));
            if (File.Exists(parse.GetValue(@out))) return Task.FromResult(CommandErrors.Fail($"{parse.GetValue(@out)}: --out: a file, not a directory"));
            var written = SanityData.Write(parse.GetValue(@out)!, parse.GetValue(seed), c, s);
            foreach (var line in written) Console.WriteLine(line);
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
