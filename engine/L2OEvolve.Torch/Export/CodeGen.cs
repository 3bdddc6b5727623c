using L2OEvolve.Engine.Compilation;
using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.Export;

/// <summary>
/// Generates optimizer classes from a <see cref="RuleProgram"/>, instruction by instruction, in C# (TorchSharp) or
/// Python (PyTorch). Per step and parameter tensor:
/// <code>
/// uniforms u_i (doubles: constants, t, bias corrections, operators over them)
/// registers r_i = the program's per-element instructions (moving averages updated in place)
/// update = root (a fresh tensor); ring writes: clones of their sources replace the oldest slots
/// θ += update
/// </code>
/// Ring sources are cloned before any slot is replaced and the update is materialised before θ changes, so
/// every value is read as it was at the start of the step, as in <see cref="OpChainKernel"/>.
/// </summary>
internal static class CodeGen
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private interface IDialect
    {
        bool Python { get; }
        ITensorAlgebra<string> Tensors { get; }
        ITensorAlgebra<string> Scalars { get; }
        string Full(string value);
        string Method(string receiver, string name, params string[] args);
        string Where(string cond, string a, string b);
        string Minimum(string a, string b);
        string Maximum(string a, string b);
        string Eq0(string x);
        string OnesLike(string x);
        string Gt(string a, string b);
    }

    private sealed class CSharpDialect : IDialect
    {
        public bool Python => false;
        public ITensorAlgebra<string> Tensors { get; } = new TensorCode(python: false);
        public ITensorAlgebra<string> Scalars { get; } = new ScalarCode(python: false);
        public string Full(string value) => $"full_like(g, {value})";
        public string Method(string receiver, string name, params string[] args) => $"{receiver}.{name}({string.Join(", ", args)})";
        public string Where(string cond, string a, string b) => $"where({cond}, {a}, {b})";
        public string Minimum(string a, string b) => $"minimum({a}, {b})";
        public string Maximum(string a, string b) => $"maximum({a}, {b})";
        public string Eq0(string x) => $"{x}.eq(0.0)";
        public string OnesLike(string x) => $"ones_like({x})";
        public string Gt(string a, string b) => $"{a}.gt({b}).to({a}.dtype)";
    }

    private sealed class PythonDialect : IDialect
    {
        public bool Python => true;
        public ITensorAlgebra<string> Tensors { get; } = new TensorCode(python: true);
        public ITensorAlgebra<string> Scalars { get; } = new ScalarCode(python: true);
        public string Full(string value) => $"torch.full_like(g, {value})";
        public string Method(string receiver, string name, params string[] args) => $"{receiver}.{name}({string.Join(", ", args)})";
        public string Where(string cond, string a, string b) => $"torch.where({cond}, {a}, {b})";
        public string Minimum(string a, string b) => $"torch.minimum({a}, {b})";
        public string Maximum(string a, string b) => $"torch.maximum({a}, {b})";
        public string Eq0(string x) => $"{x}.eq(0.0)";
        public string OnesLike(string x) => $"torch.ones_like({x})";
        public string Gt(string a, string b) => $"{a}.gt({b}).to({a}.dtype)";
    }

    /// <summary>The body lines (uniforms first, then per-tensor code) shared by both languages.</summary>
    private sealed record Body(List<string> Uniforms, List<string> PerTensor, int Slots);

    private static Body Emit(RuleProgram p, IDialect d)
    {
        bool py = d.Python;
        string decl = py ? "" : "double ";
        string tdecl = py ? "" : "var ";
        string end = py ? "" : ";";
        var uni = new List<string>();
        // An ema's beta is written into its update as a number: its uniform is emitted only if something else reads it.
        var read = new HashSet<int>(p.Code.SelectMany(ins => ins.Code == RuleCode.EmaUpdate ? [ins.A] : new[] { ins.A, ins.B })
            .Concat(p.LagWrites.Select(w => w.Source)).Append(p.Root).Where(o => o.IsUniform).Select(o => o.Index));
        for (int i = p.Uniforms.Length - 1; i >= 0; i--)
        {
            if (p.Uniforms[i] is UniformNode.Unary un && read.Contains(i)) read.Add(un.Arg);
            if (p.Uniforms[i] is UniformNode.Binary bi && read.Contains(i)) { read.Add(bi.Left); read.Add(bi.Right); }
        }
        for (int i = 0; i < p.Uniforms.Length; i++)
        {
            if (!read.Contains(i)) continue;
            string value = p.Uniforms[i] switch
            {
                UniformNode.Constant c => RuleExport.Number(c.Value, py),
                UniformNode.ScaledStep s => $"t * {RuleExport.Number(s.Scale, py)}",
                UniformNode.Slot s => RuleExport.Number(p.Constants[s.Index], py),
                UniformNode.BiasCorrection bc => py
                    ? $"1.0 / (1.0 - {RuleExport.Number(p.ConstantValue(bc.Beta), py)} ** t)"
                    : $"1.0 / (1.0 - Math.Pow({RuleExport.Number(p.ConstantValue(bc.Beta), py)}, t))",
                UniformNode.Unary u => u.Op.Tensor(d.Scalars, $"u{u.Arg}"),
                UniformNode.Binary b => b.Op.Tensor(d.Scalars, $"u{b.Left}", $"u{b.Right}"),
                _ => throw new InvalidOperationException("unknown uniform node"),
            };
            uni.Add($"{decl}u{i} = {value}{end}");
        }

        var body = new List<string>();
        string O(Operand o) => o.IsUniform ? $"u{o.Index}" : $"r{o.Index}";
        var aliases = new HashSet<int>(); // registers that are g, θ or a state tensor, not fresh values
        foreach (var ins in p.Code)
        {
            string value;
            switch (ins.Code)
            {
                case RuleCode.LoadGrad: value = "g"; aliases.Add(ins.Dest); break;
                case RuleCode.LoadParam: value = "p"; aliases.Add(ins.Dest); break;
                case RuleCode.Unary: value = ins.Op.Tensor(d.Tensors, O(ins.A)); break;
                case RuleCode.Binary: value = Binary(d, ins.Op, ins.A, ins.B, O); break;
                case RuleCode.EmaUpdate:
                {
                    double beta = p.ConstantValue(ins.B.Index);
                    string rest = RuleExport.Number(1.0 - beta, py);
                    string add = ins.A.IsUniform ? $"{O(ins.A)} * {rest}" : d.Method(O(ins.A), "mul", rest);
                    value = d.Method(d.Method($"s[{ins.Index}]", "mul_", RuleExport.Number(beta, py)), "add_", add);
                    aliases.Add(ins.Dest);
                    break;
                }
                case RuleCode.LagRead:
                {
                    var spec = p.LagReads[ins.Index];
                    var ring = p.Rings[spec.Ring];
                    value = $"s[{ring.BaseSlot} + _mod(t - 1 - {spec.Lag}, {ring.Length})]";
                    aliases.Add(ins.Dest);
                    break;
                }
                default: throw new InvalidOperationException($"unknown instruction {ins.Code}");
            }
            body.Add($"{tdecl}r{ins.Dest} = {value}{end}");
        }
        string root = p.Root.IsUniform ? d.Full(O(p.Root)) : aliases.Contains(p.Root.Index) ? d.Method(O(p.Root), "clone") : O(p.Root);
        body.Add($"{tdecl}update = {root}{end}");
        for (int i = 0; i < p.LagWrites.Length; i++)
        {
            var src = p.LagWrites[i].Source;
            body.Add($"{tdecl}w{i} = {(src.IsUniform ? d.Full(O(src)) : d.Method(O(src), "clone"))}{end}");
        }
        for (int i = 0; i < p.LagWrites.Length; i++)
        {
            var ring = p.Rings[p.LagWrites[i].Ring];
            string slot = $"{ring.BaseSlot} + _mod(t - 1, {ring.Length})";
            body.Add(py ? $"s[{slot}] = w{i}" : $"Replace(s, {slot}, w{i});");
        }
        body.Add(py ? "p.add_(update, alpha=lr)" : "p.add_(update, alpha: _lr);");
        return new Body(uni, body, p.StateSlots);
    }

    private static string Binary(IDialect d, Op op, Operand a, Operand b, Func<Operand, string> o)
    {
        if (a.IsUniform != b.IsUniform)
        {
            string c = a.IsUniform ? o(a) : o(b);
            string x = a.IsUniform ? o(b) : o(a);
            // Scalar forms skip the broadcast tensor, as the op chain does.
            if (op == Op.Add) return d.Method(x, "add", c);
            if (op == Op.Mul) return d.Method(x, "mul", c);
            if (op == Op.Sub) return b.IsUniform ? d.Method(x, "sub", c) : d.Method(d.Method(x, "neg"), "add", c);
            if (op == Op.Div && b.IsUniform)
                return d.Python ? $"(torch.ones_like({x}) if {c} == 0.0 else {x}.div({c}))" : $"({c} == 0.0 ? ones_like({x}) : {x}.div({c}))";
        }
        string l = a.IsUniform ? d.Full(o(a)) : o(a);
        string r = b.IsUniform ? d.Full(o(b)) : o(b);
        return op.Tensor(d.Tensors, l, r);
    }

    private static string Header(RuleDefinition rule, string comment) =>
        $"{comment} Generated by `l2oevolve export` from rule '{rule.Name}':\n" +
        $"{comment}   update = lr * ({Infix.Print(rule.Rule)}), lr = {rule.Lr.ToString("R", Inv)} by default\n" +
        $"{comment} The update is added to the parameters (theta <- theta + update): the sign is part of the rule.\n" +
        $"{comment} Features: beta1={rule.Features.Beta1.ToString("R", Inv)}, beta2={rule.Features.Beta2.ToString("R", Inv)}, " +
        $"epsilon={rule.Features.Epsilon.ToString("R", Inv)}, t_scale={rule.Features.TScale.ToString("R", Inv)}.\n";

    /// <summary>A self-contained TorchSharp optimizer class.</summary>
    public static string CSharp(RuleDefinition rule, string className)
    {
        // The program is the rule as written; the step size stays a constructor argument, as in torch.optim.
        var program = RuleProgram.Compile(rule.Rule, rule.Features);
        var b = Emit(program, new CSharpDialect());
        var sb = new StringBuilder();
        sb.Append(Header(rule, "//"));
        sb.Append($"// State per parameter: {b.Slots} tensor(s) of its shape.\n");
        sb.Append("""
using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Exported;

""");
        sb.Append('\n');
        sb.Append($"/// <summary>The rule '{rule.Name}' as an optimizer: call step() after backward(), zero_grad() before it.</summary>\n");
        sb.Append($"public sealed class {className} : IDisposable\n{{\n");
        sb.Append("    private readonly Tensor[] _params;\n    private readonly Tensor[][] _state;\n    private readonly double _lr;\n\n");
        sb.Append($"    /// <summary>Number of state tensors kept per parameter.</summary>\n    public const int StateSlots = {b.Slots};\n\n");
        sb.Append($"    /// <summary>The step size the rule was tuned with (a multiplier of the update).</summary>\n    public const double DefaultLr = {RuleExport.Number(rule.Lr, false)};\n\n");
        sb.Append($"    public {className}(IEnumerable<Tensor> parameters, double lr = DefaultLr)\n    {{\n");
        sb.Append("        if (!(lr > 0) || double.IsInfinity(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, \"lr must be finite and positive\");\n");
        sb.Append("        _lr = lr;\n");
        sb.Append("        _params = parameters.ToArray();\n");
        sb.Append("        _state = _params.Select(p => Enumerable.Range(0, StateSlots).Select(_ => zeros_like(p).detach().DetachFromDisposeScope()).ToArray()).ToArray();\n");
        sb.Append("    }\n\n");
        sb.Append("    /// <summary>Steps taken so far (t of the next step minus one).</summary>\n    public int StepCount { get; private set; }\n\n");
        sb.Append("    /// <summary>Clears the parameters' gradients.</summary>\n    public void zero_grad()\n    {\n        foreach (var p in _params) p.grad?.zero_();\n    }\n\n");
        sb.Append("    /// <summary>Applies one update to every parameter that has a gradient.</summary>\n    public void step()\n    {\n");
        sb.Append("        using var scope = NewDisposeScope();\n        using var noGrad = no_grad();\n");
        sb.Append("        int t = ++StepCount;\n");
        foreach (var l in b.Uniforms) sb.Append("        ").Append(l).Append('\n');
        sb.Append("        for (int k = 0; k < _params.Length; k++)\n        {\n");
        sb.Append("            var p = _params[k];\n            var g = p.grad;\n            if (g is null) continue;\n            var s = _state[k];\n");
        foreach (var l in b.PerTensor) sb.Append("            ").Append(l).Append('\n');
        sb.Append("        }\n    }\n\n");
        sb.Append("""
    public void Dispose()
    {
        foreach (var slots in _state) foreach (var x in slots) x.Dispose();
    }

    private static int _mod(int a, int n) => ((a % n) + n) % n;

    private static void Replace(Tensor[] s, int slot, Tensor value)
    {
        var old = s[slot];
        s[slot] = value.DetachFromDisposeScope();
        old.Dispose();
    }
}

""");
        return sb.ToString();
    }

    /// <summary>A <c>torch.optim.Optimizer</c> subclass.</summary>
    public static string Python(RuleDefinition rule, string className)
    {
        var program = RuleProgram.Compile(rule.Rule, rule.Features);
        var b = Emit(program, new PythonDialect());
        var sb = new StringBuilder();
        sb.Append(Header(rule, "#"));
        sb.Append($"# State per parameter: {b.Slots} tensor(s) of its shape.\n");
        sb.Append("""
import math

import torch


def _mod(a, n):
    return a % n


""");
        sb.Append("\n\n");
        sb.Append($"class {className}(torch.optim.Optimizer):\n");
        sb.Append($"    \"\"\"The rule '{rule.Name}' as an optimizer; lr multiplies the update (default: the value it was tuned with).\"\"\"\n\n");
        sb.Append($"    STATE_SLOTS = {b.Slots}\n\n");
        sb.Append($"    def __init__(self, params, lr={RuleExport.Number(rule.Lr, true)}):\n");
        sb.Append("        if not (0.0 < lr < math.inf):\n            raise ValueError(f\"lr must be finite and positive, got {lr}\")\n");
        sb.Append("        super().__init__(params, {\"lr\": lr})\n\n");
        sb.Append("    @torch.no_grad()\n    def step(self, closure=None):\n        loss = None\n        if closure is not None:\n");
        sb.Append("            with torch.enable_grad():\n                loss = closure()\n");
        sb.Append("        for group in self.param_groups:\n            lr = group[\"lr\"]\n            for p in group[\"params\"]:\n");
        sb.Append("                if p.grad is None:\n                    continue\n                g = p.grad\n");
        sb.Append("                state = self.state[p]\n                if len(state) == 0:\n                    state[\"step\"] = 0\n");
        sb.Append("                    state[\"slots\"] = [torch.zeros_like(p) for _ in range(self.STATE_SLOTS)]\n");
        sb.Append("                state[\"step\"] += 1\n                t = state[\"step\"]\n                s = state[\"slots\"]\n");
        foreach (var l in b.Uniforms) sb.Append("                ").Append(l).Append('\n');
        foreach (var l in b.PerTensor) sb.Append("                ").Append(l).Append('\n');
        sb.Append("        return loss\n");
        return sb.ToString();
    }
}

/// <summary>Tensor primitives printed as TorchSharp (C#) or PyTorch method chains.</summary>
internal sealed class TensorCode(bool python) : ITensorAlgebra<string>
{
    private string N(double v) => RuleExport.Number(v, python);
    private string T => python ? "torch." : "";

    public string Constant(string like, double value) => $"{T}full_like({like}, {N(value)})";
    public string AddScalar(string x, double c) => $"{x}.add({N(c)})";
    public string MulScalar(string x, double c) => $"{x}.mul({N(c)})";
    public string Neg(string x) => $"{x}.neg()";
    public string Abs(string x) => $"{x}.abs()";
    public string Sign(string x) => $"{x}.sign()";
    public string Sqrt(string x) => $"{x}.sqrt()";
    public string Log(string x) => $"{x}.log()";
    public string Exp(string x) => $"{x}.exp()";
    public string Tanh(string x) => $"{x}.tanh()";
    public string Sinh(string x) => $"{x}.sinh()";
    public string Asinh(string x) => $"{x}.asinh()";
    public string Erfc(string x) => $"{x}.erfc()";
    public string Sin(string x) => $"{x}.sin()";
    public string Cos(string x) => $"{x}.cos()";
    public string Relu(string x) => $"{x}.relu()";
    public string Add(string x, string y) => $"{x}.add({y})";
    public string Sub(string x, string y) => $"{x}.sub({y})";
    public string Mul(string x, string y) => $"{x}.mul({y})";
    public string Div(string x, string y) => $"{x}.div({y})";
    public string Pow(string x, string y) => $"{x}.pow({y})";
    public string Minimum(string x, string y) => $"{T}minimum({x}, {y})";
    public string Maximum(string x, string y) => $"{T}maximum({x}, {y})";
    public string Greater(string x, string y) => $"{x}.gt({y}).to({x}.dtype)";
    public string IsZero(string x) => $"{x}.eq(0.0)";
    public string Where(string mask, string a, string b) => $"{T}where({mask}, {a}, {b})";
    public string OnesLike(string x) => $"{T}ones_like({x})";
}

/// <summary>Scalar (double) primitives printed as C# or Python expressions, for the per-step uniforms.</summary>
internal sealed class ScalarCode(bool python) : ITensorAlgebra<string>
{
    private string N(double v) => RuleExport.Number(v, python);
    private string M(string f, string x) => python ? $"math.{f}({x})" : $"Math.{char.ToUpperInvariant(f[0])}{f[1..]}({x})";

    public string Constant(string like, double value) => N(value);
    public string AddScalar(string x, double c) => $"({x} + {N(c)})";
    public string MulScalar(string x, double c) => $"({x} * {N(c)})";
    public string Neg(string x) => $"(-{x})";
    public string Abs(string x) => python ? $"abs({x})" : $"Math.Abs({x})";
    public string Sign(string x) => python ? $"(((({x}) > 0) - (({x}) < 0)) if ({x}) == ({x}) else math.nan)" : $"(double.IsNaN({x}) ? double.NaN : Math.Sign({x}))";
    public string Sqrt(string x) => M("sqrt", x);
    public string Log(string x) => M("log", x);
    public string Exp(string x) => M("exp", x);
    public string Tanh(string x) => M("tanh", x);
    public string Sinh(string x) => M("sinh", x);
    public string Asinh(string x) => M("asinh", x);
    public string Erfc(string x) => python ? $"math.erfc({x})" : $"torch.tensor({x}, ScalarType.Float64).erfc().item<double>()";
    public string Sin(string x) => M("sin", x);
    public string Cos(string x) => M("cos", x);
    public string Relu(string x) => python ? $"({x} if {x} > 0 else 0.0)" : $"({x} > 0 ? {x} : 0.0)";
    public string Add(string x, string y) => $"({x} + {y})";
    public string Sub(string x, string y) => $"({x} - {y})";
    public string Mul(string x, string y) => $"({x} * {y})";
    public string Div(string x, string y) => $"({x} / {y})";
    public string Pow(string x, string y) => python ? $"math.pow({x}, {y})" : $"Math.Pow({x}, {y})";
    public string Minimum(string x, string y) => python ? $"min({x}, {y})" : $"Math.Min({x}, {y})";
    public string Maximum(string x, string y) => python ? $"max({x}, {y})" : $"Math.Max({x}, {y})";
    public string Greater(string x, string y) => python ? $"(1.0 if {x} > {y} else 0.0)" : $"({x} > {y} ? 1.0 : 0.0)";
    public string IsZero(string x) => $"({x} == 0.0)";
    public string Where(string mask, string a, string b) => python ? $"({a} if {mask} else {b})" : $"({mask} ? {a} : {b})";
    public string OnesLike(string x) => "1.0";
}
