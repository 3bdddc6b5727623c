using L2OEvolve.Engine.Compilation;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Export;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Export;

public class RuleExportTests
{
    // Every kind of instruction: moving averages with bias correction, features, lag rings (also of a lag),
    // uniforms over t, the parameter, protected division and the signed pow.
    private static readonly string[] Rules =
    [
        "-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)",
        "-0.0001 * sign(ema(0.99, g) + 0.1 * g) - 0.001 * p",
        "-0.01 * (mt + g1 + gt_2 + mom99 + t * lag(3, mom5) + tanh(ema_bc(0.7, abs(g)))) + exp(-0.5) * 0.001 * lag(1, lag(1, g))",
        "-0.01 * pow(g, 0.5) / (g1 - g1) + min(g, 0.001) * greater(m, 0.0) - 0.001 * lag(2, p)",
        "lag(1, g) * -0.01",
    ];

    // Each rule's step size; the exported classes take it as their default lr.
    private static readonly double[] Lrs = [1, 1, 0.5, 1, 3];

    private static RuleDefinition Gen(int i) => Def(Rules[i], "gen").WithLr(Lrs[i]);

    private static List<float[]> Reference(IOptimizee problem, RuleDefinition def, int steps)
    {
        using var opt = new RuleOptimizer("r", def.Compile(), problem.ParameterShapes, CPU, RuleBackend.OpChain);
        return Trajectory(problem, steps, opt);
    }

    private static Assembly? _compiled;

    // One compilation holds a class per rule (Roslyn's first compilation dominates the cost).
    private static Type CompiledClass(int index)
    {
        _compiled ??= CompileAll(Rules.Select((r, i) => RuleExport.Export(Gen(i), ExportFormat.TorchSharp, $"Generated{i}")));
        return _compiled.GetType($"L2OEvolve.Exported.Generated{index}")!;
    }

    [TestCase(0), TestCase(1), TestCase(2), TestCase(3), TestCase(4)]
    public void TorchSharp_GeneratedClass_CompilesAndTrainsLikeRuleOptimizer(int index)
    {
        var def = Gen(index);
        var type = CompiledClass(index);
        using var problem = OptimizeeRegistry.Create("logreg", 4, CPU);
        object? opt = null;
        var ours = Trajectory(problem, 40, (ps, _) =>
        {
            // Constructed the way users write it, without the optional lr: the rule's own step size applies.
            opt ??= Activator.CreateInstance(type, BindingFlags.CreateInstance | BindingFlags.Public | BindingFlags.Instance | BindingFlags.OptionalParamBinding,
                null, [ps.ToArray().AsEnumerable(), Type.Missing], CultureInfo.InvariantCulture);
            type.GetMethod("step")!.Invoke(opt, null);
        });
        ((IDisposable)opt!).Dispose();
        var expected = Reference(problem, def, 40);
        Assert.That(MaxRelativeDeviation(ours, expected), Is.LessThan(1e-5), Rules[index]);
        Assert.That(type.GetField("StateSlots")!.GetValue(null), Is.EqualTo(def.Compile().StateSlots));
        Assert.That(type.GetField("DefaultLr")!.GetValue(null), Is.EqualTo(Lrs[index]));
    }

    [Test]
    public void TorchSharp_GeneratedClass_TakesAnLrThatScalesTheUpdate()
    {
        var type = CompiledClass(0);
        using var problem = OptimizeeRegistry.Create("logreg", 4, CPU);
        object? opt = null;
        var ours = Trajectory(problem, 30, (ps, _) =>
        {
            opt ??= Activator.CreateInstance(type, [ps.ToArray().AsEnumerable(), 7.0]);
            type.GetMethod("step")!.Invoke(opt, null);
        });
        ((IDisposable)opt!).Dispose();
        Assert.That(MaxRelativeDeviation(ours, Reference(problem, Gen(0).WithLr(7.0), 30)), Is.LessThan(1e-5));
        var bad = Assert.Throws<TargetInvocationException>(() => Activator.CreateInstance(type, [Array.Empty<Tensor>().AsEnumerable(), -1.0]));
        Assert.That(bad!.InnerException, Is.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>Exported TorchSharp sources compiled together (one header; Roslyn's first compilation dominates the cost).</summary>
    internal static Assembly CompileAll(IEnumerable<string> sources) =>
        Compile(string.Join("\n", sources.Select((src, i) => i == 0 ? src : src[src.IndexOf("namespace L2OEvolve.Exported;", StringComparison.Ordinal)..]
            .Replace("namespace L2OEvolve.Exported;", ""))));

    private static Assembly Compile(string source) => Assembly.Load(TestCompiler.Emit(source, "exported_" + Guid.NewGuid().ToString("N")));

    [Test]
    public void PyTorch_GeneratedClasses_MatchTheCSharpExecutorUnderPython()
    {
        var python = PythonWith("torch") ?? throw new IgnoreException("python3 with torch is not installed (apt-get install python3-torch); the PyTorch export comparison is skipped");
        var dir = Path.Combine(Path.GetTempPath(), "l2o-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            for (int i = 0; i < Rules.Length; i++)
                File.WriteAllText(Path.Combine(dir, $"gen_rule{i}.py"), RuleExport.Export(Gen(i), ExportFormat.PyTorch, "GenRule"));
            const int d = 6, steps = 30;
            var rng = new L2OEvolve.Engine.Random.Rng(11);
            var w = Enumerable.Range(0, d * d).Select(_ => (float)(rng.NextGaussian() / Math.Sqrt(d))).ToArray();
            var y = Enumerable.Range(0, d).Select(_ => (float)rng.NextGaussian()).ToArray();
            var theta0 = Enumerable.Range(0, d).Select(_ => (float)(0.1 * rng.NextGaussian())).ToArray();
            File.WriteAllText(Path.Combine(dir, "data.json"), JsonSerializer.Serialize(new { w, y, theta0, steps, rules = Rules.Length }));
            File.WriteAllText(Path.Combine(dir, "drive.py"), """
import importlib, json, sys
import torch
sys.path.insert(0, sys.argv[1])
data = json.load(open(sys.argv[1] + "/data.json"))
d = len(data["y"])
W = torch.tensor(data["w"], dtype=torch.float32).reshape(d, d)
y = torch.tensor(data["y"], dtype=torch.float32)
for i in range(data["rules"]):
    theta = torch.tensor(data["theta0"], dtype=torch.float32, requires_grad=True)
    opt = importlib.import_module(f"gen_rule{i}").GenRule([theta])
    for _ in range(data["steps"]):
        opt.zero_grad()
        loss = ((W @ theta - y) ** 2).sum()
        loss.backward()
        opt.step()
    print(json.dumps([float(v) for v in theta.detach()]))
""");
            var psi = new ProcessStartInfo(python, [Path.Combine(dir, "drive.py"), dir]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var proc = Process.Start(psi)!;
            string stdout = proc.StandardOutput.ReadToEnd(), stderr = proc.StandardError.ReadToEnd();
            proc.WaitForExit();
            Assert.That(proc.ExitCode, Is.EqualTo(0), stderr);
            var lines = stdout.Trim().Split('\n');
            Assert.That(lines, Has.Length.EqualTo(Rules.Length), stdout + stderr);

            for (int r = 0; r < Rules.Length; r++)
            {
                var fromPython = JsonSerializer.Deserialize<double[]>(lines[r])!;
                using var wt = tensor(w, [d, d]);
                using var yt = tensor(y);
                using var theta = tensor(theta0).requires_grad_(true);
                using var opt = new RuleOptimizer("r", Gen(r).Compile(), [[d]], CPU, RuleBackend.OpChain);
                for (int k = 1; k <= steps; k++)
                {
                    using var scope = NewDisposeScope();
                    theta.grad?.zero_();
                    wt.matmul(theta).sub(yt).square().sum().backward();
                    opt.Step([theta], [theta.grad!], k);
                }
                var ours = theta.detach().data<float>().ToArray();
                double num = 0, den = 0;
                for (int i = 0; i < d; i++) { num += Math.Pow(ours[i] - fromPython[i], 2); den += Math.Pow(ours[i], 2); }
                Assert.That(Math.Sqrt(num / den), Is.LessThan(1e-4), $"{Rules[r]}\nC#: {string.Join(", ", ours)}\nPython: {string.Join(", ", fromPython)}");
                Assert.That(ours, Is.Not.EqualTo(theta0), "the parameters must move");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Sympy_StatelessRule_EvaluatesLikeTheReferenceSemantics()
    {
        var python = PythonWith("sympy") ?? throw new IgnoreException("python3 with sympy is not installed (apt-get install python3-sympy)");
        var rule = Infix.Parse("-0.01 * g / sqrt(g1 * g1 + 0.5) + tanh(pow(mt, 2)) * greater(g, g1) - log(relu(g1))");
        var def = new RuleDefinition("s", rule, "", FeatureSettings.Default);
        var env = new Dictionary<string, double> { ["g"] = 0.3, ["g1"] = -0.7, ["mt"] = 1.5 };
        var path = Path.Combine(Path.GetTempPath(), "l2o-sympy-" + Guid.NewGuid().ToString("N") + ".py");
        File.WriteAllText(path, RuleExport.Export(def, ExportFormat.Sympy) +
            "print(float(expr.subs({g: 0.3, g1: -0.7, mt: 1.5})))\n");
        try
        {
            using var p = Process.Start(new ProcessStartInfo(python, [path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.EqualTo(0), stderr);
            double expected = rule.Fold<double>((e, c) => e switch
            {
                Expr.Const k => k.Value,
                Expr.Var v => env[v.Name],
                Expr.Unary u => Ops.Apply(u.Op, c[0]),
                Expr.Binary b => Ops.Apply(b.Op, c[0], c[1]),
                _ => throw new InvalidOperationException(),
            });
            Assert.That(double.Parse(stdout.Trim(), CultureInfo.InvariantCulture), Is.EqualTo(expected).Within(1e-9));
        }
        finally { File.Delete(path); }
    }

    private static string? PythonWith(string module)
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(candidate, ["-c", $"import {module}"]) { RedirectStandardError = true, RedirectStandardOutput = true });
                if (p is null) continue;
                p.WaitForExit();
                if (p.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    [Test]
    public void Latex_AdamRule_UsesTheLanguagePrinter()
    {
        var def = RuleFile.Parse("""{"name": "a", "rule": "-0.01 * g1"}""", "test");
        Assert.That(RuleExport.Export(def, ExportFormat.Latex), Is.EqualTo($@"\Delta\theta = {Latex.Print(def.Rule)}" + "\n"));
    }

    [TestCase("adam-tuned", "AdamTuned")]
    [TestCase("3rules", "Rule3rules")]
    [TestCase("my rule.v2", "MyRuleV2")]
    public void ClassName_RuleNames_BecomeIdentifiers(string name, string expected) =>
        Assert.That(RuleExport.ClassName(name), Is.EqualTo(expected));
}
