using L2OEvolve.Engine.Compilation;
using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.Export;

/// <summary>The export targets of <see cref="RuleExport"/>.</summary>
public enum ExportFormat
{
    /// <summary>LaTeX math (the LANG printer), as <c>\Delta\theta = ...</c>.</summary>
    Latex,
    /// <summary>A Python snippet building the rule as a sympy expression.</summary>
    Sympy,
    /// <summary>A self-contained TorchSharp optimizer class (C# source).</summary>
    TorchSharp,
    /// <summary>A <c>torch.optim.Optimizer</c> subclass (Python source).</summary>
    PyTorch,
}

/// <summary>
/// Turns a rule into source others can use. The optimizer classes are generated from the same compiled
/// <see cref="RuleProgram"/> the rule executors run, so they keep exactly the rule's state (one tensor per moving
/// average, K per lag ring) and agree with <see cref="RuleOptimizer"/> step by step. The update is added:
/// θ ← θ + rule (the sign is part of the rule).
/// </summary>
public static class RuleExport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The source for <paramref name="rule"/> in <paramref name="format"/>; <paramref name="className"/> overrides the generated class name.</summary>
    /// <exception cref="ArgumentException"><paramref name="className"/> is not an identifier of the target language.</exception>
    public static string Export(RuleDefinition rule, ExportFormat format, string? className = null)
    {
        if (className is not null && format is ExportFormat.TorchSharp or ExportFormat.PyTorch && ClassNameFault(className, format) is { } fault)
            throw new ArgumentException($"--class '{className}': {fault}");
        return format switch
        {
            ExportFormat.Latex => $@"\Delta\theta = {Latex.Print(rule.Rule)}" + "\n",
            ExportFormat.Sympy => SympyExport.Source(rule),
            ExportFormat.TorchSharp => CodeGen.CSharp(rule, className ?? ClassName(rule.Name) + "Optimizer"),
            ExportFormat.PyTorch => CodeGen.Python(rule, className ?? Unreserved(ClassName(rule.Name), ExportFormat.PyTorch)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown export format"),
        };
    }

    // Keywords a PascalCase name can collide with; C#'s keywords are all lower-case, so only a given --class can.
    private static readonly HashSet<string> PythonKeywords = new(StringComparer.Ordinal)
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
        "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield",
    };

    private static readonly HashSet<string> CSharpKeywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue", "decimal",
        "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally", "fixed", "float", "for",
        "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock", "long", "namespace", "new", "null",
        "object", "operator", "out", "override", "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte",
        "sealed", "short", "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>Why <paramref name="name"/> cannot name the generated class in <paramref name="format"/>'s language, or null.</summary>
    public static string? ClassNameFault(string name, ExportFormat format)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            return "not an identifier (ASCII letters, digits and _, not starting with a digit)";
        if ((format == ExportFormat.PyTorch ? PythonKeywords : CSharpKeywords).Contains(name))
            return $"a keyword of {(format == ExportFormat.PyTorch ? "Python" : "C#")}";
        return null;
    }

    private static string Unreserved(string name, ExportFormat format) => ClassNameFault(name, format) is null ? name : "Rule" + name;

    /// <summary>Parses <c>latex</c>, <c>sympy</c>, <c>torchsharp</c> or <c>pytorch</c>.</summary>
    public static ExportFormat ParseFormat(string text) => text.Trim().ToLowerInvariant() switch
    {
        "latex" or "tex" => ExportFormat.Latex,
        "sympy" => ExportFormat.Sympy,
        "torchsharp" or "csharp" or "cs" => ExportFormat.TorchSharp,
        "pytorch" or "torch" or "python" => ExportFormat.PyTorch,
        _ => throw new ArgumentException($"export format '{text}': expected latex, sympy, torchsharp or pytorch"),
    };

    /// <summary>A PascalCase identifier from a rule name (<c>adam-tuned</c> → <c>AdamTuned</c>).</summary>
    public static string ClassName(string name)
    {
        var sb = new StringBuilder();
        bool upper = true;
        foreach (var ch in name)
        {
            if (char.IsAsciiLetterOrDigit(ch))
            {
                sb.Append(upper ? char.ToUpperInvariant(ch) : ch);
                upper = false;
            }
            else upper = true;
        }
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0])) sb.Insert(0, "Rule");
        return sb.ToString();
    }

    /// <summary>A double literal valid in both C# and Python source (always with a '.' or an exponent).</summary>
    internal static string Number(double v, bool python)
    {
        if (double.IsNaN(v)) return python ? "math.nan" : "double.NaN";
        if (double.IsPositiveInfinity(v)) return python ? "math.inf" : "double.PositiveInfinity";
        if (double.IsNegativeInfinity(v)) return python ? "(-math.inf)" : "double.NegativeInfinity";
        var s = v.ToString("R", Inv);
        if (!s.Contains('.') && !s.Contains('E') && !s.Contains('e')) s += ".0";
        return v < 0 ? $"({s})" : s;
    }
}

/// <summary>The sympy form: features are symbols, stateful operators undefined functions <c>ema</c>, <c>ema_bc</c>, <c>lag</c>.</summary>
internal static class SympyExport
{
    public static string Source(RuleDefinition rule)
    {
        var vars = rule.Rule.Variables();
        var sb = new StringBuilder();
        sb.Append("# Rule '").Append(rule.Name).Append("' as a sympy expression (l2oevolve export). The update is added: theta <- theta + expr.\n");
        sb.Append("# Division is written plainly (the runtime protects x/0 = 1); sqrt and log act on |x|; pow is sign(x)|x|^y.\n");
        sb.Append("# Features: beta1=").Append(rule.Features.Beta1.ToString("R", CultureInfo.InvariantCulture))
          .Append(", beta2=").Append(rule.Features.Beta2.ToString("R", CultureInfo.InvariantCulture))
          .Append(", epsilon=").Append(rule.Features.Epsilon.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("import sympy as sp\n\n");
        foreach (var v in vars) sb.Append(Id(v)).Append(" = sp.Symbol(\"").Append(v).Append("\")\n");
        sb.Append("ema = sp.Function(\"ema\")\nema_bc = sp.Function(\"ema_bc\")\nlag = sp.Function(\"lag\")\n\n");
        sb.Append("expr = ").Append(Render(rule.Rule)).Append('\n');
        return sb.ToString();
    }

    private static string Id(string name) => name is "lambda" or "sp" or "expr" or "ema" or "ema_bc" or "lag" ? name + "_" : name;

    private static string N(double v) => $"sp.Float({RuleExport.Number(v, python: true)})";

    private static string Render(Expr e) => e switch
    {
        Expr.Const c => N(c.Value),
        Expr.Var v => Id(v.Name),
        Expr.Unary u => u.Op.SymPy([Render(u.Arg)]),
        Expr.Binary b => b.Op.SymPy([Render(b.Left), Render(b.Right)]),
        Expr.Ema m => $"{(m.BiasCorrected ? "ema_bc" : "ema")}({N(m.Beta)}, {Render(m.Arg)})",
        Expr.Lag l => $"lag({l.Steps.ToString(CultureInfo.InvariantCulture)}, {Render(l.Arg)})",
        _ => throw new InvalidOperationException("unknown node"),
    };
}
