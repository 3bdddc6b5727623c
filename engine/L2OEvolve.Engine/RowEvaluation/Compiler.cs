using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>Compiles expression trees to flat postfix programs (by lowering the rule's <see cref="RuleProgram"/>) and rebuilds trees from them.</summary>
/// <remarks>
/// The front end is <see cref="RuleProgram.CompileOverColumns(Expr, ImmutableArray{string})"/> (validation, columns,
/// constant table, state, shared subexpressions); this is instruction selection for the row evaluator. Each value
/// of the program is translated from the instruction or uniform that defines it, once per occurrence in the tree,
/// children first (pseudocode):
/// <code>
/// node(value) = match its definition with
///   op(a), a a column             → UnaryF op a               (leaves are read in place, never pushed)
///   op(a)                         → [load a if a constant]; Unary op
///   op(a, b), a or b a leaf       → the fused Binary{FF,FC,CF,LeftF,LeftC,RightF,RightC}
///   op(a, b)                      → Binary op
///   raw ema (and ×1/(1-β^t))      → [load arg if a leaf]; Ema (new state slot, β's slot, bias corrected or not)
///   lag k of a                    → [load a if a leaf]; Lag k (new state rows)
/// a root that is a column or constant → LoadFeature or LoadConst
/// </code>
/// Compiling a tree runs this as the IR is built (<see cref="IRuleProgramSink"/>: the builder reports each node in
/// post-order), so there is no second pass; <see cref="Lower(RuleProgram)"/> walks a finished program instead,
/// revisiting a shared value at each use. Either way the postfix program is the tree as written: every occurrence
/// keeps its own ema/lag state, the constant table (constants and ema betas in the tree's depth-first,
/// left-to-right order, an ema's beta before its argument) is the IR's whatever the emission order, and
/// <see cref="CompiledRule.NodeCount"/> and <see cref="Decompile"/> see the tree. (Storing a shared value once in a
/// scratch block would save its recomputation, but the postfix program would no longer be a tree, which Decompile,
/// NodeCount and forward mode read it as.)
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
        // The output buffers are reused per thread (a search compiles every child); only the final arrays are new.
        var sink = new Sink(Rent());
        var program = RuleProgram.CompileOverColumns(expr, names, ref sink);
        return sink.Finish(program);
    }

    /// <summary>The postfix program of a rule compiled over data columns (<see cref="RuleProgram.CompileOverColumns(Expr, ImmutableArray{string})"/>).</summary>
    public static CompiledRule Lower(RuleProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!program.OverColumns) throw new ArgumentException("only a program over data columns has a row-evaluator form", nameof(program));
        var view = program.View;
        var output = Rent();
        Walk(view.Root, view, output);
        return new Sink(output).Finish(view);
    }

    private static Output Rent()
    {
        var o = t_output ??= new Output();
        o.Clear();
        return o;
    }

    // The tree's post-order over a finished program: the operands of a value (a constant-only operand too), then the value.
    private static void Walk(Operand value, in RuleProgramView program, Output output)
    {
        var code = program.Code;
        if (value.IsUniform)
        {
            switch (program.Uniforms[value.Index])
            {
                case UniformNode.Slot: return;
                case UniformNode.Unary u: Walk(Operand.Uni(u.Arg), program, output); break;
                case UniformNode.Binary bin:
                    Walk(Operand.Uni(bin.Left), program, output);
                    Walk(Operand.Uni(bin.Right), program, output);
                    break;
            }
        }
        else
        {
            ref readonly var ins = ref code[value.Index];
            switch (ins.Code)
            {
                case RuleCode.LoadColumn: return;
                case RuleCode.Binary when ins.B.IsUniform && program.Uniforms[ins.B.Index] is UniformNode.BiasCorrection:
                    Walk(code[ins.A.Index].A, program, output); // an ema_bc: the raw average's argument
                    break;
                case RuleCode.Binary:
                    Walk(ins.A, program, output);
                    Walk(ins.B, program, output);
                    break;
                default: Walk(ins.A, program, output); break;
            }
        }
        Node(value, code, program.Uniforms, program.LagReads, output);
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

    [ThreadStatic] private static Output? t_output;

    private sealed class Output
    {
        // The program so far: Code[..Count].
        public Instruction[] Code = new Instruction[32];
        public int Count;
        public readonly List<int> Lags = [];
        public int Emas;
        // Stack height, its maximum and the tree nodes so far, counted as instructions are added.
        public int Depth, MaxDepth, Nodes;

        public void Clear()
        {
            Count = 0;
            Lags.Clear();
            Emas = Depth = MaxDepth = Nodes = 0;
        }

        public void Add(OpCode code, ushort op, int a, int b, int flag)
        {
            if (Count == Code.Length) Array.Resize(ref Code, 2 * Count);
            Code[Count++] = new Instruction(code, op, a, b, flag);
            Depth += Instruction.StackEffectOf(code);
            if (Depth > MaxDepth) MaxDepth = Depth;
            Nodes += Instruction.NodeCountOf(code);
        }
    }

    /// <summary>Translates each value the IR builder reports (<see cref="IRuleProgramSink"/>) into postfix instructions.</summary>
    private readonly struct Sink(Output output) : IRuleProgramSink
    {
        public void Node(Operand value, in RuleProgramSoFar program) =>
            Compiler.Node(value, program.Code, program.Uniforms, program.LagReads, output);

        public CompiledRule Finish(in RuleProgramView program)
        {
            // A lone column or constant is never reported as a node: the root is its only user.
            LoadIfLeaf(program.Root, program.Code, program.Uniforms, output);
            // Every constant slot of a program over columns is used exactly once (subtrees holding one are never
            // shared), in the tree's depth-first order, so the postfix program keeps the IR's constant table as it is.
            return new CompiledRule(output.Code.AsSpan(0, output.Count).ToArray(), [.. program.Constants], KindsOf(program.ConstantKinds), program.Columns,
                output.MaxDepth, output.Emas, output.Lags.Count == 0 ? [] : [.. output.Lags], output.Nodes);
        }
    }

    // Most candidates have no ema, so their constant kinds are all Value: those tables are shared (they are immutable).
    private static readonly ImmutableArray<ConstantKind>[] s_valueKinds =
        [.. Enumerable.Range(0, 33).Select(n => ImmutableArray.CreateRange(Enumerable.Repeat(ConstantKind.Value, n)))];

    private static ImmutableArray<ConstantKind> KindsOf(ReadOnlySpan<ConstantKind> kinds)
    {
        if (kinds.Length >= s_valueKinds.Length) return [.. kinds];
        foreach (var kind in kinds)
            if (kind != ConstantKind.Value) return [.. kinds];
        return s_valueKinds[kinds.Length];
    }

    // What an operand is to its user: a leaf read in place (a column or a constant-table slot), or a value on the stack.
    private enum Leaf { None, Column, Constant }

    private static Leaf LeafOf(Operand o, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms, out int index)
    {
        if (o.IsUniform)
        {
            var slot = uniforms[o.Index] as UniformNode.Slot;
            index = slot?.Index ?? 0;
            return slot is null ? Leaf.None : Leaf.Constant;
        }
        ref readonly var ins = ref code[o.Index];
        index = ins.Index;
        return ins.Code == RuleCode.LoadColumn ? Leaf.Column : Leaf.None;
    }

    // Pushes a leaf its user cannot read in place; any other operand is on the stack already.
    private static void LoadIfLeaf(Operand o, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms, Output output)
    {
        var leaf = LeafOf(o, code, uniforms, out int index);
        if (leaf != Leaf.None) output.Add(leaf == Leaf.Column ? OpCode.LoadFeature : OpCode.LoadConst, 0, index, 0, 0);
    }

    /// <summary>The postfix instructions of one value, its computed operands being on the stack in order.</summary>
    private static void Node(Operand value, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms,
        ReadOnlySpan<LagReadSpec> lagReads, Output output)
    {
        // The operators of a searched candidate here, the rest (constant-only values, ema, lag) in NodeOther.
        if (!value.IsUniform)
        {
            ref readonly var ins = ref code[value.Index];
            // The IR names an instruction's operator by its table slot plus one; the postfix program by the slot.
            ushort op = (ushort)(ins.OpKey - 1);
            if (ins.Code == RuleCode.Binary && !(ins.B.IsUniform && uniforms[ins.B.Index] is UniformNode.BiasCorrection))
            {
                Binary(op, ins.A, ins.B, code, uniforms, output);
                return;
            }
            if (ins.Code == RuleCode.Unary)
            {
                // A unary operator over a uniform is a uniform: the operand is a column or on the stack.
                bool column = LeafOf(ins.A, code, uniforms, out int index) == Leaf.Column;
                output.Add(column ? OpCode.UnaryF : OpCode.Unary, op, column ? index : 0, 0, 0);
                return;
            }
        }
        NodeOther(value, code, uniforms, lagReads, output);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NodeOther(Operand value, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms,
        ReadOnlySpan<LagReadSpec> lagReads, Output output)
    {
        if (value.IsUniform)
        {
            switch (uniforms[value.Index])
            {
                case UniformNode.Unary u:
                    LoadIfLeaf(Operand.Uni(u.Arg), code, uniforms, output);
                    output.Add(OpCode.Unary, Ops.Slot(u.Op), 0, 0, 0);
                    break;
                case UniformNode.Binary bin: Binary(Ops.Slot(bin.Op), Operand.Uni(bin.Left), Operand.Uni(bin.Right), code, uniforms, output); break;
                case var other: throw NoForm(other);
            }
            return;
        }
        ref readonly var ins = ref code[value.Index];
        switch (ins.Code)
        {
            // An ema_bc is the raw moving average times its bias correction; the evaluator runs both in one pass.
            case RuleCode.Binary: Ema(code[ins.A.Index], biasCorrected: true, code, uniforms, output); break;
            case RuleCode.EmaUpdate: Ema(ins, biasCorrected: false, code, uniforms, output); break;
            case RuleCode.LagRead:
                int steps = lagReads[ins.Index].Lag;
                LoadIfLeaf(ins.A, code, uniforms, output);
                output.Add(OpCode.Lag, 0, output.Lags.Count, steps, 0);
                output.Lags.Add(steps);
                break;
            default: throw NoForm(ins.Code);
        }
    }

    // Kept out of the translation, whose frame it would enlarge.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException NoForm(object what) => new($"{what} has no row-evaluator form");

    private static void Ema(in RuleInstruction raw, bool biasCorrected, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms, Output output)
    {
        if (LeafOf(raw.B, code, uniforms, out int beta) != Leaf.Constant)
            throw NoForm("an ema whose beta is not in the constant table");
        LoadIfLeaf(raw.A, code, uniforms, output);
        output.Add(OpCode.Ema, 0, output.Emas++, beta, biasCorrected ? 1 : 0);
    }

    // The instruction for op(left, right) by what each operand is (Leaf: none, column, constant), left major; two
    // constants push the left one first and then fuse the right one.
    private static ReadOnlySpan<byte> BinaryForms =>
    [
        (byte)OpCode.Binary, (byte)OpCode.BinaryRightF, (byte)OpCode.BinaryRightC,
        (byte)OpCode.BinaryLeftF, (byte)OpCode.BinaryFF, (byte)OpCode.BinaryFC,
        (byte)OpCode.BinaryLeftC, (byte)OpCode.BinaryCF, (byte)OpCode.BinaryRightC,
    ];

    private static void Binary(ushort op, Operand left, Operand right, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms, Output output)
    {
        var l = LeafOf(left, code, uniforms, out int li);
        var r = LeafOf(right, code, uniforms, out int ri);
        var form = (OpCode)BinaryForms[3 * (int)l + (int)r];
        if (l == Leaf.Constant && r == Leaf.Constant)
        {
            output.Add(OpCode.LoadConst, 0, li, 0, 0);
            l = Leaf.None;
        }
        // A leaf operand is named in the instruction: the left one first.
        output.Add(form, op, l != Leaf.None ? li : r != Leaf.None ? ri : 0, l != Leaf.None && r != Leaf.None ? ri : 0, 0);
    }
}
