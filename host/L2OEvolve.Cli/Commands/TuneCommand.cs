using System.CommandLine;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tuning;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// <c>tune</c>: meta-tunes the constants of a rule file by truncated backpropagation through unrolled training
/// (docs/symbolic-l2o.md, 'Meta-tuning the constants') and writes <c>tuned.rule.json</c>, <c>constants.csv</c> and <c>checkpoint.json</c> into <c>--out</c>.
/// Running the same command again resumes from the checkpoint; <c>--epochs</c> may be raised to continue a finished run.
/// </summary>
/// <remarks>
/// Sign (docs/symbolic-l2o.md, 'The sign of the update'): the update is added, θ ← θ + rule, so a descent rule carries its own minus sign
/// (<c>-0.01 * g</c>). Tuning never inserts one: the paper's June rule written without it is gradient ascent at
/// its initial constants, and <c>tune</c> warns when the first window raises the loss.
/// </remarks>
public static class TuneCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var rule = new Option<string>("--rule") { Description = "Rule file (*.rule.json) whose constants are tuned.", Required = true };
        var optimizee = new Option<string>("--optimizee") { Description = "Optimizee family to tune on (quadratic, logreg, mlp-fashion, ...; settings after ':').", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Epochs; each trains a fresh optimizee instance.", DefaultValueFactory = _ => 20 };
        var steps = new Option<int>("--steps") { Description = "Optimizee steps per epoch.", DefaultValueFactory = _ => 200 };
        var unroll = new Option<int>("--unroll") { Description = "Truncation length: steps per meta-update.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "Meta learning rate (relative to each constant's initial magnitude unless --absolute).", DefaultValueFactory = _ => 0.01 };
        var absolute = new Option<bool>("--absolute") { Description = "Step on the constants themselves instead of relative to their initial magnitudes." };
        var meta = new Option<string>("--meta-optimizer") { Description = "adam, or sgd (with --momentum, as the paper's stage 3).", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<double>("--momentum") { Description = "Momentum of the sgd meta-optimizer.", DefaultValueFactory = _ => 0.9 };
        var seed = new Option<long>("--seed") { Description = "Seed of the per-epoch optimizee seeds.", DefaultValueFactory = _ => 0 };
        var tuneBetas = new Option<bool>("--tune-betas") { Description = "Also tune the betas of ema(...) nodes written in the rule." };
        var evalSeeds = new Option<int>("--eval-seeds") { Description = "Held-out optimizee seeds on which the meta-loss before and after tuning is reported (0: skip).", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0: libtorch's default).", DefaultValueFactory = _ => 1 };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with MNIST-format IDX files (default: Debian's Fashion-MNIST)." };
        var batch = new Option<int>("--batch") { Description = "Minibatch size.", DefaultValueFactory = _ => 128 };
        var init = new Option<string?>("--init") { Description = "Parameter init: normal:STD (default normal:0.01), zeros, fan-in." };
        var objective = new Option<string>("--objective") { Description = "log (default: differentiate log of the window meta-loss) or sum (the paper: the meta-loss itself).", DefaultValueFactory = _ => "log" };
        var restart = new Option<bool>("--restart") { Description = "Ignore an existing checkpoint in --out and start over." };
        var output = new Option<string>("--out") { Description = "Output folder (checkpoint, constants.csv, tuned.rule.json).", Required = true };

        var cmd = new Command("tune", "Meta-tune a rule's constants by truncated backpropagation through unrolled training; writes the tuned rule file.");
        foreach (var o in new Option[] { rule, optimizee, epochs, steps, unroll, lr, meta, momentum, seed, tuneBetas, evalSeeds, device, threads, dataDir, batch, init, objective, absolute, restart, output })
            cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var kind = parse.GetValue(meta)!.ToLowerInvariant() switch
                {
                    "adam" => MetaOptimizerKind.Adam,
                    "sgd" => MetaOptimizerKind.Sgd,
                    var other => throw new ArgumentException($"--meta-optimizer '{other}': expected adam or sgd"),
                };
                var obj = parse.GetValue(objective)!.ToLowerInvariant() switch
                {
                    "log" => MetaObjective.Log,
                    "sum" => MetaObjective.Sum,
                    var other => throw new ArgumentException($"--objective '{other}': expected log or sum"),
                };
                var settings = new TuneSettings(parse.GetValue(optimizee)!, parse.GetValue(epochs), parse.GetValue(steps), parse.GetValue(unroll),
                    parse.GetValue(lr), kind, parse.GetValue(momentum), parse.GetValue(seed), parse.GetValue(tuneBetas),
                    parse.GetValue(dataDir), parse.GetValue(batch), parse.GetValue(init), obj, !parse.GetValue(absolute));
                TorchSetup.SetThreads(parse.GetValue(threads));
                var definition = RuleFile.Load(parse.GetValue(rule)!);
                var result = RuleTuning.Run(definition, settings, parse.GetValue(output)!, TorchSetup.ParseDevice(parse.GetValue(device)!),
                    parse.GetValue(restart), parse.GetValue(evalSeeds), stderr, ct,
                    log => ProgressDisplay.Start("tune", log, TimeSpan.FromSeconds(10)));
                parse.InvocationConfiguration.Output.WriteLine(result);
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is ArgumentException or InputException or FileNotFoundException or InvalidDataException or IOException)
            {
                stderr.WriteLine($"tune: error: {e.Message}");
                return Task.FromResult(2);
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine("tune: cancelled; run the same command again to resume from the last finished epoch");
                return Task.FromResult(130);
            }
        });
        return cmd;
    }
}
