using L2OEvolve.Engine.Compilation;
using System.Diagnostics;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Optimizers;
using L2OEvolve.Torch.Rollouts;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Benchmarks;

/// <summary>
/// Wall-clock figures for the rule executor and population rollouts, each beside its baseline measured in the same
/// run (a plain stopwatch script rather than BenchmarkDotNet: the quantities are whole rollouts of seconds, and the
/// machine is shared, so the best of a few interleaved repetitions is reported). Run: <c>./run.sh bench rules [--quick]</c>.
/// </summary>
public static class RulesTiming
{
    /// <summary>Runs every section and prints its table.</summary>
    public static void Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        torch.set_num_threads(1);
        Console.WriteLine($"# rule executor and population rollouts (libtorch threads: 1, Vector<float>: {System.Numerics.Vector<float>.Count} lanes{(quick ? ", quick" : "")})");
        Rollouts("quadratic", quick ? 100 : 200, [1, 8, 32, 128], null, quick ? 3 : 5);
        Rollouts("mlp-mnist-rp", quick ? 5 : 20, quick ? [1, 8, 32] : [1, 8, 32, 128], null, quick ? 2 : 3);
        StepTimes(quick);
        Memory();
    }

    /// <summary>A population of distinct rules: Adam/momentum/SGD variants and paper-feature rules with varied constants.</summary>
    private static List<Expr> Population(int p)
    {
        var rules = new List<Expr>();
        for (int i = 0; i < p; i++)
        {
            double c = 0.001 * (1 + i % 7);
            string text = (i % 4) switch
            {
                0 => $"-{c} * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)",
                1 => $"-{10 * c} * ema(0.9, g)",
                2 => $"-{c} * (mt + 0.1 * g1)",
                _ => $"-{c} * tanh(gt + mom5 / (abs(mom99) + 0.001))",
            };
            rules.Add(Infix.Parse(text));
        }
        return rules;
    }

    private static void Rollouts(string optimizee, int steps, int[] sizes, OptimizeeOptions? options, int repeats)
    {
        IOptimizeeFamily family;
        try { family = OptimizeeRegistry.Family(optimizee, options); using var _ = family.Create(1, CPU); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.WriteLine($"\n## rollouts on {optimizee}: skipped ({e.Message})");
            return;
        }
        Console.WriteLine($"\n## population rollouts on {optimizee}, {steps} steps, 1 seed (candidate-steps per second, best of interleaved repeats)");
        Console.WriteLine("| P | population (steps/s) | one after another (steps/s) | speed-up |");
        Console.WriteLine("|---:|---:|---:|---:|");
        var settings = new RolloutSettings(steps, [1]);
        // Warm-up: JIT, libtorch kernels, data load.
        var warm = settings.Compile(Population(2));
        PopulationRollout.Run(warm, family, settings);
        PopulationRollout.RunSequential(warm, family, settings);
        foreach (int p in sizes)
        {
            var programs = settings.Compile(Population(p));
            // Interleaved repetitions, best of each: on a shared machine the minimum is the least disturbed run.
            double tPop = double.MaxValue, tSeq = double.MaxValue;
            for (int r = 0; r < repeats; r++)
            {
                tPop = Math.Min(tPop, Time(() => PopulationRollout.Run(programs, family, settings)));
                tSeq = Math.Min(tSeq, Time(() => PopulationRollout.RunSequential(programs, family, settings)));
            }
            double work = (double)p * steps;
            Console.WriteLine($"| {p} | {work / tPop:N0} | {work / tSeq:N0} | {tSeq / tPop:F1}x |");
        }
    }

    private static void StepTimes(bool quick)
    {
        Console.WriteLine("\n## optimizer step time (gradients fixed; parameters updated in place; best of 7 runs)");
        Console.WriteLine("| parameters | torch.optim.Adam | Adam rule, fused kernel | Adam rule, TorchSharp op chain | fused / torch |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        int reps = quick ? 200 : 1000;
        IReadOnlyList<long[]>? mlpShapes = null;
        try { using var mlp = OptimizeeRegistry.Create("mlp-mnist-rp", 1, CPU); mlpShapes = mlp.ParameterShapes; }
        catch (Exception e) when (e is not OutOfMemoryException) { Console.WriteLine($"| mlp-mnist-rp: skipped ({e.Message}) |||||"); }
        if (mlpShapes is not null) StepRow("mlp-mnist-rp (" + mlpShapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)) + ", 6 tensors)", mlpShapes, reps);
        StepRow("one tensor of 100000", [[100_000]], reps);
    }

    private static void StepRow(string label, IReadOnlyList<long[]> shapes, int reps)
    {
        var rule = Infix.Parse("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)");
        var program = RuleProgram.Compile(rule);
        var gen = new Generator(7);
        var grads = shapes.Select(s => (randn(s, generator: gen) * 0.01).DetachFromDisposeScope()).ToList();
        double TimeRule(RuleBackend backend)
        {
            var ps = shapes.Select(s => zeros(s).DetachFromDisposeScope()).ToList();
            using var opt = new RuleOptimizer("adam", program, shapes, CPU, backend);
            int step = 0;
            for (int i = 0; i < 20; i++) opt.Step(ps, grads, ++step);
            double t = Best(7, () => { for (int i = 0; i < reps; i++) opt.Step(ps, grads, ++step); }) / reps;
            foreach (var p in ps) p.Dispose();
            return t;
        }
        double TimeTorch()
        {
            var ps = shapes.Select(s => new TorchSharp.Modules.Parameter(zeros(s))).ToList();
            for (int k = 0; k < ps.Count; k++) ps[k].grad = grads[k].clone();
            using var opt = optim.Adam(ps, 0.001);
            for (int i = 0; i < 20; i++) opt.step();
            double t = Best(7, () => { for (int i = 0; i < reps; i++) { using var scope = NewDisposeScope(); opt.step(); } }) / reps;
            foreach (var p in ps) p.Dispose();
            return t;
        }
        double torchT = TimeTorch(), fused = TimeRule(RuleBackend.Fused), chain = TimeRule(RuleBackend.OpChain);
        Console.WriteLine($"| {label} | {Us(torchT)} | {Us(fused)} | {Us(chain)} | {fused / torchT:F2}x |");
        foreach (var g in grads) g.Dispose();
    }

    private static void Memory()
    {
        Console.WriteLine("\n## optimizer memory (state floats per parameter; the fused kernel's scratch is a fixed few KB per rule)");
        Console.WriteLine("| rule | state floats / parameter | scratch floats (independent of size) |");
        Console.WriteLine("|---|---:|---:|");
        var dir = FindShipped();
        if (dir is null) { Console.WriteLine("| grammars/optimizers not found | | |"); return; }
        foreach (var file in Directory.GetFiles(dir, "*" + RuleFile.Extension).Order())
        {
            var def = RuleFile.Load(file);
            var prog = def.Compile();
            Console.WriteLine($"| {def.Name}: `{Infix.Print(def.Rule)}` | {prog.StateSlots} | {FusedKernel.WorkspaceFloats(prog)} |");
        }
        var paper = RuleProgram.Compile(Infix.Parse("-0.01 * (mt + 0.1 * g1 + 0.01 * g2)"));
        Console.WriteLine($"| paper features, `-0.01 * (mt + 0.1 * g1 + 0.01 * g2)` | {paper.StateSlots} | {FusedKernel.WorkspaceFloats(paper)} |");
        Console.WriteLine("| torch.optim.Adam (exp_avg, exp_avg_sq) | 2 | |");
    }

    private static string? FindShipped()
    {
        for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null; d = d.Parent)
        {
            var c = Path.Combine(d.FullName, "grammars", "optimizers");
            if (Directory.Exists(c)) return c;
        }
        return null;
    }

    private static string Us(double seconds) => $"{seconds * 1e6:F1} µs";

    private static double Time(Action run)
    {
        var sw = Stopwatch.StartNew();
        run();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Time(Func<object> run) => Time(() => { run(); });

    private static double Best(int n, Action run)
    {
        double best = double.MaxValue;
        for (int i = 0; i < n; i++) best = Math.Min(best, Time(run));
        return best;
    }
}
