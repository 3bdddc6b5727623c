using L2OEvolve.Engine.Compilation;
using System.Globalization;
using System.Reflection;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Export;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tests.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

/// <summary>
/// Every operator through every tensor backend against its scalar reference: one optimizer step with the fused
/// kernel, the TorchSharp op chain and the generated TorchSharp class (uniform and per-element instructions
/// alike), and autograd through the tensor mapping against the operator's derivative. New operators, built in or
/// defined, are covered without a test of their own.
/// </summary>
public class OperatorBackendTests
{
    private static readonly IReadOnlyList<Op> Defined = CompositeOp.DefineAll(
    [
        new("backendtest_softsign(x)", "x / (1 + abs(x))"),
        new("backendtest_mix(a, b)", "a * tanh(b) - 0.5 * b"),
    ]);

    private static readonly Op[] Every = [.. Ops.BuiltIn, .. Defined];

    private static IEnumerable<TestCaseData> Cases() => Every.Select((o, i) => new TestCaseData(i).SetArgDisplayNames(o.Name));

    private static readonly float[] Xs = [-2.5f, -1.3f, -0.3f, 0f, 0.013f, 0.2f, 0.8f, 3f, 0.7f, -0.05f, 1.5f];
    private static readonly float[] Ys = [1.5f, 0.4f, 2f, 0f, -1f, 0.5f, -2f, 0.25f, 0.7f, 3f, -0.4f];

    // The update op(g[, p]) plus a uniform op(0.7[, -0.4]) so that the per-step scalar code runs too.
    private static RuleDefinition Rule(Op op) => new($"op_{op.Name}", op.Arity == 1
        ? new Expr.Binary(Op.Add, new Expr.Unary(op, new Expr.Var("g")), new Expr.Binary(Op.Mul, new Expr.Const(0.001), new Expr.Unary(op, new Expr.Const(0.7))))
        : new Expr.Binary(Op.Add, new Expr.Binary(op, new Expr.Var("g"), new Expr.Var("p")),
            new Expr.Binary(Op.Mul, new Expr.Const(0.001), new Expr.Binary(op, new Expr.Const(0.7), new Expr.Const(-0.4)))), "", FeatureSettings.Default);

    private static double Reference(Op op, int i) => Ys[i] + (op.Arity == 1
        ? op.Apply(Xs[i]) + 0.001 * op.Apply(0.7)
        : op.Apply(Xs[i], Ys[i]) + 0.001 * op.Apply(0.7, -0.4));

    private static void AssertStep(Op op, float[] got, string backend)
    {
        for (int i = 0; i < Xs.Length; i++)
        {
            double want = Reference(op, i);
            if (!double.IsFinite(want)) { Assert.That(float.IsFinite(got[i]), Is.False, $"{backend}: {op} at {Xs[i]}"); continue; }
            Assert.That(got[i], Is.EqualTo(want).Within(2e-5 * Math.Max(1, Math.Abs(want))), $"{backend}: {op}({Xs[i]}, {Ys[i]})");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Operator_FusedKernelAndOpChain_StepLikeTheScalarReference(int index)
    {
        var op = Every[index];
        var program = Rule(op).Compile();
        foreach (var backend in new[] { RuleBackend.Fused, RuleBackend.OpChain })
        {
            using var opt = new RuleOptimizer("op", program, [[Xs.Length]], CPU, backend);
            using var p = tensor(Ys);
            using var g = tensor(Xs);
            opt.Step([p], [g], 1);
            AssertStep(op, p.data<float>().ToArray(), backend.ToString());
        }
    }

    private static Assembly? _generated;

    [TestCaseSource(nameof(Cases))]
    public void Operator_GeneratedTorchSharpClass_StepsLikeTheScalarReference(int index)
    {
        var op = Every[index];
        _generated ??= RuleExportTests.CompileAll(Every.Select((o, i) => RuleExport.Export(Rule(o), ExportFormat.TorchSharp, $"Op{i}")));
        var type = _generated.GetType($"L2OEvolve.Exported.Op{index}")!;
        using var p = tensor(Ys).requires_grad_(true);
        using (var loss = p.mul(tensor(Xs)).sum()) loss.backward(); // p.grad = Xs
        var opt = (IDisposable)Activator.CreateInstance(type, BindingFlags.CreateInstance | BindingFlags.Public | BindingFlags.Instance | BindingFlags.OptionalParamBinding,
            null, [new[] { p }.AsEnumerable(), Type.Missing], CultureInfo.InvariantCulture)!;
        type.GetMethod("step")!.Invoke(opt, null);
        opt.Dispose();
        AssertStep(op, p.detach().data<float>().ToArray(), "generated C#");
    }

    [TestCaseSource(nameof(Cases))]
    public void Operator_TensorMappingGradients_MatchTheDerivative(int index)
    {
        var op = Every[index];
        using var scope = NewDisposeScope();
        var x = tensor(Xs.Select(v => (double)v).ToArray(), ScalarType.Float64).requires_grad_(true);
        var y = tensor(Ys.Select(v => (double)v).ToArray(), ScalarType.Float64).requires_grad_(true);
        var value = op.Arity == 1 ? op.Tensor(TorchAlgebra.Instance, x) : op.Tensor(TorchAlgebra.Instance, x, y);
        // A piecewise-constant mapping (greater) builds no graph: its gradient is zero everywhere.
        if (value.requires_grad) value.sum().backward();
        var zeros = new double[Xs.Length];
        var gx = x.grad?.data<double>().ToArray() ?? zeros;
        var gy = op.Arity == 2 ? y.grad?.data<double>().ToArray() ?? zeros : null;
        var v = value.detach().data<double>().ToArray();
        for (int i = 0; i < Xs.Length; i++)
        {
            double xi = Xs[i], yi = Ys[i];
            // Kinks (0 for abs, sign, relu; ±1 for clip; x = y for min, max, greater) have no single derivative.
            if (Math.Abs(xi) < 1e-3 || Math.Abs(Math.Abs(xi) - 1) < 1e-3 || op.Arity == 2 && (Math.Abs(yi) < 1e-3 || Math.Abs(xi - yi) < 1e-3)) continue;
            if (op.Arity == 1)
            {
                double want = op.Apply(xi);
                Assert.That(v[i], Is.EqualTo(want).Within(1e-6 * Math.Max(1, Math.Abs(want))), $"{op}({xi}) value");
                double d = op.Derivative(xi, want);
                Assert.That(gx[i], Is.EqualTo(d).Within(1e-5 * Math.Max(1, Math.Abs(d))), $"{op}'({xi})");
            }
            else
            {
                double want = op.Apply(xi, yi);
                if (!double.IsFinite(want)) continue;
                Assert.That(v[i], Is.EqualTo(want).Within(1e-6 * Math.Max(1, Math.Abs(want))), $"{op}({xi}, {yi}) value");
                var (dx, dy) = op.Partials(xi, yi, want);
                Assert.That(gx[i], Is.EqualTo(dx).Within(1e-5 * Math.Max(1, Math.Abs(dx))), $"∂{op}/∂x({xi}, {yi})");
                Assert.That(gy![i], Is.EqualTo(dy).Within(1e-5 * Math.Max(1, Math.Abs(dy))), $"∂{op}/∂y({xi}, {yi})");
            }
        }
    }
}
