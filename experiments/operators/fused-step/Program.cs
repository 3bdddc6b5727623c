// The Adam step (fused kernel, then the TorchSharp op chain) on mlp-mnist-rp's parameter shapes and on one tensor of 100,000, and a teacher's
// feature step (FeatureComputer) for three token sets over mlp-mnist-rp's 24,380 coordinates, built against one
// revision of the engine (see fused-step-ab.sh). Reports the best of 40 timings after a warm-up (tiered JIT
// settled), as wall time and as this thread's CPU time: on a shared machine the thread's CPU time leaves out the
// time other processes hold the core, so it is the steadier of the two.
using System.Diagnostics;
using System.Runtime.InteropServices;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Teachers;
using TorchSharp;
using static TorchSharp.torch;

torch.set_num_threads(1);
long[][] mlp = [[784, 30], [30], [30, 20], [20], [20, 10], [10]];
var cases = new (string Label, long[][] Shapes)[] { ("mlp-mnist-rp (24380, 6 tensors)", mlp), ("one tensor of 100000", [[100_000]]) };
var line = new List<string>();
foreach (var backend in new[] { RuleBackend.Fused, RuleBackend.OpChain })
foreach (var (label, shapes) in cases)
{
    var program = RuleProgram.Compile(Infix.Parse("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)"));
    var gen = new Generator(7);
    var grads = shapes.Select(s => randn(s, generator: gen) * 0.01).ToList();
    var ps = shapes.Select(s => zeros(s)).ToList();
    using var opt = new RuleOptimizer("adam", program, shapes, CPU, backend);
    int step = 0;
    for (int i = 0; i < 600; i++) opt.Step(ps, grads, ++step);
    double wall = double.MaxValue, cpu = double.MaxValue;
    for (int r = 0; r < 40; r++)
    {
        long c0 = ThreadCpu.Ns();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 200; i++) opt.Step(ps, grads, ++step);
        wall = Math.Min(wall, sw.Elapsed.TotalMicroseconds / 200);
        cpu = Math.Min(cpu, (ThreadCpu.Ns() - c0) / 1000.0 / 200);
    }
    line.Add($"{backend} {label}: {cpu:F1} us cpu, {wall:F1} us wall");
}
Console.WriteLine(string.Join(" | ", line));
line.Clear();
foreach (var tokens in new[] { new[] { "mt", "gt" }, new[] { "mt", "g", "mom5", "mom9", "mom99" }, new[] { "mt", "gt", "mp2", "mp2h", "mp3" } })
{
    var computer = new FeatureComputer(tokens, 0.95, 0.95);
    var g = randn(24380, generator: new Generator(3));
    double wall = double.MaxValue, cpu = double.MaxValue;
    for (int r = 0; r < 40; r++)
    {
        var s = computer.Initial(24380, CPU);
        long c0 = ThreadCpu.Ns();
        var sw = Stopwatch.StartNew();
        for (int k = 1; k <= 20; k++)
        {
            using var scope = NewDisposeScope();
            var (_, next) = computer.Step(g, s, k);
            foreach (var t in next.Tensors()) t.MoveToOuterDisposeScope();
            foreach (var t in s.Tensors()) t.Dispose();
            s = next;
        }
        if (r > 0) { wall = Math.Min(wall, sw.Elapsed.TotalMicroseconds / 20); cpu = Math.Min(cpu, (ThreadCpu.Ns() - c0) / 1000.0 / 20); }
        foreach (var t in s.Tensors()) t.Dispose();
    }
    line.Add($"features {string.Join('+', tokens)}: {cpu:F0} us cpu, {wall:F0} us wall");
}
Console.WriteLine("    " + string.Join(" | ", line));

static class ThreadCpu
{
    [DllImport("libc")] private static extern int clock_gettime(int clock, out TimeSpec t);
    private struct TimeSpec { public long Sec; public long Nsec; }
    // CLOCK_THREAD_CPUTIME_ID
    public static long Ns() { clock_gettime(3, out var t); return t.Sec * 1_000_000_000 + t.Nsec; }
}

// Before the folder renames RuleProgram lived in L2OEvolve.Torch.Rules; declaring the newer namespace lets one
// source build against either revision.
namespace L2OEvolve.Engine.Compilation { }
