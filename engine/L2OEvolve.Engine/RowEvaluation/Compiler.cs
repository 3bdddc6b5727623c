using L2OEvolve.Engine.Compilation;
using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>Compiles expression trees to flat postfix programs and rebuilds trees from them.</summary>
/// <remarks>
/// Emission is post-order, except that a binary node with a leaf child evaluates its other child first and then
/// applies a fused instruction reading the leaf in place (<see cref="OpCode.BinaryLeftF"/> and friends): leaves
/// never occupy a stack slot unless they stand alone. Constants (and ema betas) go to a side array in the tree's
/// depth-first, left-to-right order (an ema's beta before its argument), whatever the emission order.
/// </remarks>
public static class Compiler
{
    /// <summary>Compiles <paramref name="expr"/>; variable names are resolved against <paramref name="featureNames"/>.</summary>
    /// <exception cref="ArgumentException">A variable is not among the features, or a lag is negative.</exception>
    public static CompiledRule Compile(Expr expr, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        return Compile(expr, featureNames is ImmutableArray<string> immutable ? immutable : [.. featureNames]);
    }

    /// <summary>As <see cref="Compile(Expr, IReadOnlyList{string})"/>, for names already immutable (not boxed, not copied).</summary>
    public static CompiledRule Compile(Expr expr, ImmutableArray<string> names)
    {
        ArgumentNullException.ThrowIfNull(expr);
        if (names.IsDefault) throw new ArgumentNullException(nameof(names));
        // A search compiles every new candidate, often for a few hundred rows, so compiling must stay cheap: no
        // dictionary for the usual handful of features.
        // The builder's lists are reused per thread (a search compiles every child); only the final arrays are new.
        var b = t_builder ??= new Builder();
        b.Reset(names);
        b.Emit(expr);

        int depth = 0, max = 0, nodes = 0;
        foreach (var ins in b.Code)
        {
            depth += ins.StackEffect;
            max = Math.Max(max, depth);
            nodes += ins.NodeCount;
        }
        return new CompiledRule([.. b.Code], [.. b.Constants], [.. b.Kinds], names, max, b.Emas, [.. b.Lags], nodes);
    }

    /// <summary>Rebuilds the tree a program was compiled from, with the program's current constants.</summary>
    public static Expr Decompile(CompiledRule rule)
    {
        var stack = new Stack<Expr>();
        Expr F(int i) => new Expr.Var(rule.FeatureNames[i]);
        Expr C(int i) => new Expr.Const(rule.Constants[i]);
        foreach (var ins in rule.Program)
        {
            switch (ins.Code)
            {
                case OpCode.LoadFeature: stack.Push(F(ins.A)); break;
                case OpCode.LoadConst: stack.Push(C(ins.A)); break;
                case OpCode.Unary: stack.Push(new Expr.Unary(ins.Op, stack.Pop())); break;
                case OpCode.UnaryF: stack.Push(new Expr.Unary(ins.Op, F(ins.A))); break;
                case OpCode.Binary:
                    var r = stack.Pop();
                    stack.Push(new Expr.Binary(ins.Op, stack.Pop(), r));
                    break;
                case OpCode.BinaryRightF: stack.Push(new Expr.Binary(ins.Op, stack.Pop(), F(ins.A))); break;
                case OpCode.BinaryRightC: stack.Push(new Expr.Binary(ins.Op, stack.Pop(), C(ins.A))); break;
                case OpCode.BinaryLeftF: stack.Push(new Expr.Binary(ins.Op, F(ins.A), stack.Pop())); break;
                case OpCode.BinaryLeftC: stack.Push(new Expr.Binary(ins.Op, C(ins.A), stack.Pop())); break;
                case OpCode.BinaryFF: stack.Push(new Expr.Binary(ins.Op, F(ins.A), F(ins.B))); break;
                case OpCode.BinaryFC: stack.Push(new Expr.Binary(ins.Op, F(ins.A), C(ins.B))); break;
                case OpCode.BinaryCF: stack.Push(new Expr.Binary(ins.Op, C(ins.A), F(ins.B))); break;
                case OpCode.Ema: stack.Push(new Expr.Ema(rule.Constants[ins.B], ins.BiasCorrected, stack.Pop())); break;
                case OpCode.Lag: stack.Push(new Expr.Lag(ins.B, stack.Pop())); break;
                default: throw new InvalidOperationException($"unknown opcode {ins.Code}");
            }
        }
        return stack.Pop();
    }

    [ThreadStatic] private static Builder? t_builder;

    private sealed class Builder
    {
        private const int LinearSearchLimit = 24;

        public readonly List<Instruction> Code = new(16);
        public readonly List<double> Constants = new(8);
        public readonly List<ConstantKind> Kinds = new(8);
        public readonly List<int> Lags = [];
        public int Emas;
        private ImmutableArray<string> _names = [];
        private Dictionary<string, int>? _index;

        /// <summary>Empties the program for a new tree over <paramref name="features"/> (the name index is kept for the same names).</summary>
        public void Reset(ImmutableArray<string> features)
        {
            Code.Clear();
            Constants.Clear();
            Kinds.Clear();
            Lags.Clear();
            Emas = 0;
            if (features != _names) _index = null;
            _names = features;
        }

        /// <summary>The first column with this name.</summary>
        private int Feature(string name)
        {
            if (_names.Length <= LinearSearchLimit)
            {
                for (int i = 0; i < _names.Length; i++)
                    if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
            }
            else
            {
                if (_index is null)
                {
                    _index = new Dictionary<string, int>(_names.Length, StringComparer.Ordinal);
                    for (int i = 0; i < _names.Length; i++) _index.TryAdd(_names[i], i);
                }
                if (_index.TryGetValue(name, out int found)) return found;
            }
            throw new ArgumentException($"unknown variable '{name}' (features: {string.Join(", ", _names)})", nameof(name));
        }

        private int Constant(double value, ConstantKind kind)
        {
            Constants.Add(value);
            Kinds.Add(kind);
            return Constants.Count - 1;
        }

        private void Add(OpCode code, Op? op = null, int a = 0, int b = 0, int flag = 0) =>
            Code.Add(new Instruction(code, op is null ? (ushort)0 : Ops.Slot(op), a, b, flag));

        public void Emit(Expr e)
        {
            int arity = e switch { Expr.Unary => 1, Expr.Binary => 2, _ => 0 };
            var op = e switch { Expr.Unary u => u.Op, Expr.Binary b => b.Op, _ => null };
            if (op is not null && op.Arity != arity)
                throw new ArgumentException($"operator {op} takes {op.Arity} argument(s), used with {arity}", nameof(e));
            switch (e)
            {
                case Expr.Const c: Add(OpCode.LoadConst, a: Constant(c.Value, ConstantKind.Value)); break;
                case Expr.Var v: Add(OpCode.LoadFeature, a: Feature(v.Name)); break;
                case Expr.Unary { Arg: Expr.Var v } u: Add(OpCode.UnaryF, u.Op, Feature(v.Name)); break;
                case Expr.Unary u:
                    Emit(u.Arg);
                    Add(OpCode.Unary, u.Op);
                    break;
                case Expr.Binary bin: EmitBinary(bin); break;
                case Expr.Ema ema:
                    int beta = Constant(ema.Beta, ConstantKind.EmaBeta);
                    Emit(ema.Arg);
                    Add(OpCode.Ema, a: Emas++, b: beta, flag: ema.BiasCorrected ? 1 : 0);
                    break;
                case Expr.Lag lag:
                    if (lag.Steps < 0) throw new ArgumentException($"lag steps must be >= 0, got {lag.Steps}", nameof(e));
                    Emit(lag.Arg);
                    Add(OpCode.Lag, a: Lags.Count, b: lag.Steps);
                    Lags.Add(lag.Steps);
                    break;
                default: throw new ArgumentException($"unsupported node {e.GetType().Name}", nameof(e));
            }
        }

        private void EmitBinary(Expr.Binary bin)
        {
            var op = bin.Op;
            switch (bin.Left, bin.Right)
            {
                case (Expr.Var l, Expr.Var r): Add(OpCode.BinaryFF, op, Feature(l.Name), Feature(r.Name)); break;
                case (Expr.Var l, Expr.Const r): Add(OpCode.BinaryFC, op, Feature(l.Name), Constant(r.Value, ConstantKind.Value)); break;
                case (Expr.Const l, Expr.Var r):
                    int lc = Constant(l.Value, ConstantKind.Value);
                    Add(OpCode.BinaryCF, op, lc, Feature(r.Name));
                    break;
                case (_, Expr.Var r):
                    Emit(bin.Left);
                    Add(OpCode.BinaryRightF, op, Feature(r.Name));
                    break;
                case (_, Expr.Const r):
                    Emit(bin.Left);
                    Add(OpCode.BinaryRightC, op, Constant(r.Value, ConstantKind.Value));
                    break;
                case (Expr.Var l, _):
                    Emit(bin.Right);
                    Add(OpCode.BinaryLeftF, op, Feature(l.Name));
                    break;
                case (Expr.Const l, _):
                    int c = Constant(l.Value, ConstantKind.Value);
                    Emit(bin.Right);
                    Add(OpCode.BinaryLeftC, op, c);
                    break;
                default:
                    Emit(bin.Left);
                    Emit(bin.Right);
                    Add(OpCode.Binary, op);
                    break;
            }
        }
    }
}
