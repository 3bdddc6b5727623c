using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Progress;
using L2OEvolve.Torch;
using L2OEvolve.Torch.OptimizerEvaluation;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Plots;
using TorchSharp;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>eval</c>: trains an optimizee with several optimizers over several seeds and writes losses.csv, runs.csv,
/// summary.md and loss.png into <c>--out</c>, printing the summary. With <c>--tune-lr</c> each tunable optimizer's
/// learning rate is first chosen on separate tuning seeds.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var optimizee = new Option<string>("--optimizee") { Description = "Optimizee family: " + string.Join(", ", OptimizeeRegistry.Names) + " (settings after ':', e.g. rosenbrock:dim=10).", Required = true };
        var optimizer = new Option<string[]>("--optimizer") { Description = "Optimizer to compare (repeatable): sgd, momentum, nesterov, adam, torch-adam with settings like adam:lr=0.01, or a rule file.", Required = true, AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.OneOrMore };
        var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => 1000 };
        var seeds = new Option<int>("--seeds") { Description = "Number of evaluation seeds (problem instances).", DefaultValueFactory = _ => 10 };
        var seedBase = new Option<long>("--seed-base") { Description = "First evaluation seed.", DefaultValueFactory = _ => 0 };
        var tuneLr = new Option<bool>("--tune-lr") { Description = "Tune each optimizer's learning rate on a log grid first (on separate tuning seeds)." };
        var tuneSeeds = new Option<int>("--tune-seeds") { Description = "Tuning seeds (1000000, 1000001, ...).", DefaultValueFactory = _ => 3 };
        var tuneSteps = new Option<int?>("--tune-steps") { Description = "Steps per tuning run (default: --steps)." };
        var lrMin = new Option<double?>("--lr-min") { Description = "Smallest learning rate of the tuning grid (with --lr-max; default: --lr-decades around each optimizer's own rate, grown past an edge that holds the best)." };
        var lrMax = new Option<double?>("--lr-max") { Description = "Largest learning rate of the tuning grid (with --lr-min)." };
        var lrPoints = new Option<int>("--lr-points") { Description = "Grid points, log-spaced.", DefaultValueFactory = _ => 17 };
        var lrDecades = new Option<double>("--lr-decades") { Description = "Span of the default grid in decades, centred on each optimizer's own rate (a rule's is its lr, 1 as written).", DefaultValueFactory = _ => 2.0 };
        var workers = new Option<int>("--workers") { Description = "Training runs at once, each on its own thread (results do not depend on it).", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0: libtorch's default).", DefaultValueFactory = _ => 1 };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Folder with MNIST-format IDX files (default: {Torch.Data.MnistData.DebianFashionMnistDir})." };
        var batch = new Option<int>("--batch") { Description = "Minibatch size.", DefaultValueFactory = _ => 128 };
        var init = new Option<string?>("--init") { Description = "Parameter init: normal:STD (default normal:0.01), zeros, fan-in." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };

        var cmd = new Command("eval", "Compare optimizers on an optimizee over several seeds: CSV losses, a summary table and loss plots.");
        foreach (var o in new Option[] { optimizee, optimizer, steps, seeds, seedBase, tuneLr, tuneSeeds, tuneSteps, lrMin, lrMax, lrPoints, lrDecades, device, threads, workers, dataDir, batch, init, output })
            cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            var request = new EvalRequest(parse.GetValue(optimizee)!, parse.GetValue(optimizer)!, parse.GetValue(output)!, parse.GetValue(steps), parse.GetValue(seeds),
                parse.GetValue(seedBase), parse.GetValue(tuneLr), parse.GetValue(tuneSeeds), parse.GetValue(tuneSteps),
                parse.GetValue(lrMin), parse.GetValue(lrMax), parse.GetValue(lrPoints), parse.GetValue(lrDecades), parse.GetValue(device)!, parse.GetValue(threads), parse.GetValue(workers),
                parse.GetValue(dataDir), parse.GetValue(batch), parse.GetValue(init));
            return Task.FromResult(Run(request, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, ct));
        });
        return cmd;
    }

    /// <summary>Runs <paramref name="request"/> (<see cref="OptimizerEval"/>) and prints its summary.</summary>
    private static int Run(EvalRequest request, TextWriter stdout, TextWriter stderr, CancellationToken ct) =>
        CommandErrors.Verb("eval", stderr, () =>
        {
            stdout.WriteLine(OptimizerEval.Run(request, stderr, ct, log => ProgressDisplay.Start("eval", log, TimeSpan.FromSeconds(10))));
            return 0;
        });
}
