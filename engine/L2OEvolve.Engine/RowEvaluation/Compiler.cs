using System.Collections.Immutable;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.RowEvaluation;

/// <summary>Compiles expression trees to flat postfix programs (by lowering the rule's <see cref="RuleProgram"/>) and rebuilds trees from them.</summary>
/// <remarks>
/// The front end is <see cref="RuleProgram.CompileOverColumns(Expr, ImmutableArray{string})"/> (validation, columns,
/// constant table, state, shared subexpressions); this is instruction selection for the row evaluator (pseudocode):
/// <code>
/// lower(operand) = match the instruction or uniform that defines it with
///   column c                      → LoadFeature c
///   constant-table slot k         → LoadConst k
///   op(a), a a column             → UnaryF op a               (leaves are read in place, never pushed)
///   op(a)                         → lower(a); Unary op
///   op(a, b), a or b a leaf       → the fused Binary{FF,FC,CF,LeftF,LeftC,RightF,RightC} after lowering the other
///   op(a, b)                      → lower(a); lower(b); Binary op
///   raw ema (and ×1/(1-β^t))      → lower(arg); Ema (new state slot, β's slot, bias corrected or not)
///   lag k of a                    → lower(a); Lag k (new state rows)
/// </code>
/// A program without shared values is lowered in one pass over its instructions instead (they are in the tree's
/// post-order, so each value is on top of the stack when its one user comes; <c>ema</c> × bias correction is the
/// instruction pair raw ema, multiply); the walk from the root above is kept for the programs where that fails.
/// A subexpression the program shares (only constant-free ones are) is lowered again at each use, so the postfix
/// program is the tree as written: every occurrence keeps its own ema/lag state, the constant table (constants and
/// ema betas in the tree's depth-first, left-to-right order, an ema's beta before its argument) is the IR's
/// whatever the emission order, and <see cref="CompiledRule.NodeCount"/> and <see cref="Decompile"/> see the tree.
/// (Storing a shared value once in a scratch block would save its recomputation, but the postfix program would no
/// longer be a tree, which Decompile, NodeCount and forward mode read it as.)
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
        return RuleProgram.CompileOverColumns(expr, names, s_lower);
    }

    private static readonly RuleProgramLowering<CompiledRule> s_lower = Lower;

    /// <summary>The postfix program of a rule compiled over data columns (<see cref="RuleProgram.CompileOverColumns(Expr, ImmutableArray{string})"/>).</summary>
    public static CompiledRule Lower(RuleProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!program.OverColumns) throw new ArgumentException("only a program over data columns has a row-evaluator form", nameof(program));
        return Lower(program.View);
    }

    private static CompiledRule Lower(in RuleProgramView program)
    {
        // The output lists are reused per thread (a search compiles every child); only the final arrays are new.
        var o = t_output ??= new Output();
        o.Clear();
        if (!new Lowering(program, o).TryEmitInOrder(program.Root))
        {
            o.Clear();
            new Lowering(program, o).Emit(program.Root);
        }
        // Every constant slot of a program over columns is used exactly once (subtrees holding one are never
        // shared), in the tree's depth-first order, so the postfix program keeps the IR's constant table as it is.
        return new CompiledRule(o.Code.AsSpan(0, o.Count).ToArray(), [.. program.Constants], [.. program.ConstantKinds], program.Columns, o.MaxDepth, o.Emas,
            [.. o.Lags], o.Nodes);
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
        // The registers the postfix program has on its stack, while lowering in instruction order.
        public int[] Stack = new int[16];

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

    private readonly ref struct Lowering(in RuleProgramView program, Output output)
    {
        private readonly ReadOnlySpan<RuleInstruction> _code = program.Code;
        private readonly ReadOnlySpan<UniformNode> _uniforms = program.Uniforms;
        private readonly ReadOnlySpan<LagReadSpec> _lagReads = program.LagReads;

        private bool IsColumn(Operand o, out int column)
        {
            column = !o.IsUniform && _code[o.Index].Code == RuleCode.LoadColumn ? _code[o.Index].Index : -1;
            return column >= 0;
        }

        /// <summary>True when <paramref name="o"/> is a constant of the rule, <paramref name="slot"/> its constant-table slot.</summary>
        private bool IsConstant(Operand o, out int slot)
        {
            var c = o.IsUniform ? _uniforms[o.Index] as UniformNode.Slot : null;
            slot = c?.Index ?? -1;
            return c is not null;
        }

        private void Add(OpCode code, Op? op = null, int a = 0, int b = 0, int flag = 0) =>
            output.Add(code, op is null ? (ushort)0 : Ops.Slot(op), a, b, flag);

        private void Add(OpCode code, ushort op, int a, int b = 0) => output.Add(code, op, a, b, 0);

        // The IR names an instruction's operator by its table slot plus one; the postfix program by the slot.
        private void Add(OpCode code, in RuleInstruction ins, int a = 0) => output.Add(code, (ushort)(ins.OpKey - 1), a, 0, 0);

        /// <summary>
        /// Lowers the program in one pass over its instructions, which are in the tree's post-order: a column is read
        /// where it is used (fused, or loaded just before an ema or lag), a constant-table slot is fused, and every
        /// other register must be on top of the postfix stack, in operand order, when its one user comes. False when
        /// that does not hold (a value the program shares, or a constant-only left operand of a computed right one,
        /// which would have to be pushed first): the caller then lowers from the root instead.
        /// </summary>
        public bool TryEmitInOrder(Operand root)
        {
            var code = _code;
            if (output.Stack.Length < code.Length + 1) output.Stack = new int[Math.Max(code.Length + 1, 2 * output.Stack.Length)];
            var stack = output.Stack;
            int top = 0;
            for (int i = 0; i < code.Length; i++)
            {
                ref readonly var ins = ref code[i];
                switch (ins.Code)
                {
                    case RuleCode.LoadColumn: continue;
                    case RuleCode.Unary:
                        if (IsColumn(ins.A, out int column)) Add(OpCode.UnaryF, ins, column);
                        else if (ins.A.IsUniform || top == 0 || stack[--top] != ins.A.Index) return false;
                        else Add(OpCode.Unary, ins);
                        break;
                    case RuleCode.Binary:
                        if (!TryEmitBinaryInOrder(in ins, stack, ref top)) return false;
                        break;
                    case RuleCode.EmaUpdate:
                        if (!TryEmitOperandInOrder(ins.A, stack, ref top) || !IsConstant(ins.B, out int beta)) return false;
                        // An ema_bc is the raw average times its bias correction, the next instruction.
                        bool corrected = i + 1 < code.Length && code[i + 1].Code == RuleCode.Binary && code[i + 1].A.Bits == i
                            && code[i + 1].B.IsUniform && _uniforms[code[i + 1].B.Index] is UniformNode.BiasCorrection;
                        Add(OpCode.Ema, a: output.Emas++, b: beta, flag: corrected ? 1 : 0);
                        if (corrected) i++;
                        break;
                    case RuleCode.LagRead:
                        if (!TryEmitOperandInOrder(ins.A, stack, ref top)) return false;
                        int steps = _lagReads[ins.Index].Lag;
                        Add(OpCode.Lag, a: output.Lags.Count, b: steps);
                        output.Lags.Add(steps);
                        break;
                    default: return false;
                }
                stack[top++] = i;
            }
            if (root.IsUniform || _code[root.Index].Code == RuleCode.LoadColumn)
            {
                if (top != 0) return false;
                Emit(root);
                return true;
            }
            return top == 1 && stack[0] == root.Index;
        }

        // Puts the operand of an ema or lag on the stack: a column or constant is loaded now, a register must be on top.
        private bool TryEmitOperandInOrder(Operand a, int[] stack, ref int top)
        {
            if (a.IsUniform || _code[a.Index].Code == RuleCode.LoadColumn) Emit(a);
            else if (top == 0 || stack[--top] != a.Index) return false;
            return true;
        }

        private bool TryEmitBinaryInOrder(in RuleInstruction ins, int[] stack, ref int top)
        {
            ushort op = (ushort)(ins.OpKey - 1);
            Operand left = ins.A, right = ins.B;
            // A register of the rule's own values (not a column) is on the stack; a uniform other than a slot is
            // pushed by its own code. At least one operand is a register (an operator over uniforms is a uniform).
            bool leftColumn = IsColumn(left, out int lf), rightColumn = IsColumn(right, out int rf);
            bool leftSlot = IsConstant(left, out int lc), rightSlot = IsConstant(right, out int rc);
            if (right.IsUniform && !rightSlot && _uniforms[right.Index] is UniformNode.BiasCorrection) return false;
            if (leftColumn || leftSlot)
            {
                if (rightColumn) Add(leftColumn ? OpCode.BinaryFF : OpCode.BinaryCF, op, leftColumn ? lf : lc, rf);
                else if (rightSlot) Add(OpCode.BinaryFC, op, lf, rc); // two slots would be a uniform
                else
                {
                    if (right.IsUniform) Emit(right);
                    else if (top == 0 || stack[--top] != right.Index) return false;
                    Add(leftColumn ? OpCode.BinaryLeftF : OpCode.BinaryLeftC, op, leftColumn ? lf : lc);
                }
                return true;
            }
            if (left.IsUniform)
            {
                // A constant-only left operand: only a column or slot on the right lets it be pushed here.
                if (!rightColumn) return false;
                Emit(left);
                Add(OpCode.BinaryRightF, op, rf);
                return true;
            }
            if (rightColumn || rightSlot)
            {
                if (top == 0 || stack[--top] != left.Index) return false;
                Add(rightColumn ? OpCode.BinaryRightF : OpCode.BinaryRightC, op, rightColumn ? rf : rc);
                return true;
            }
            if (right.IsUniform)
            {
                if (top == 0 || stack[--top] != left.Index) return false;
                Emit(right);
            }
            else if (top < 2 || stack[--top] != right.Index || stack[--top] != left.Index) return false;
            Add(OpCode.Binary, op, 0);
            return true;
        }

        public void Emit(Operand o)
        {
            if (o.IsUniform)
            {
                switch (_uniforms[o.Index])
                {
                    case UniformNode.Slot c: Add(OpCode.LoadConst, a: c.Index); break;
                    case UniformNode.Unary u:
                        Emit(Operand.Uni(u.Arg));
                        Add(OpCode.Unary, u.Op);
                        break;
                    case UniformNode.Binary bin: EmitBinary(Ops.Slot(bin.Op), Operand.Uni(bin.Left), Operand.Uni(bin.Right)); break;
                    case var other: throw new InvalidOperationException($"uniform {other} has no row-evaluator form");
                }
                return;
            }
            ref readonly var ins = ref _code[o.Index];
            switch (ins.Code)
            {
                case RuleCode.LoadColumn: Add(OpCode.LoadFeature, a: ins.Index); break;
                case RuleCode.Unary when IsColumn(ins.A, out int column): Add(OpCode.UnaryF, ins, column); break;
                case RuleCode.Unary:
                    Emit(ins.A);
                    Add(OpCode.Unary, ins);
                    break;
                // An ema_bc is the raw moving average times its bias correction; the evaluator runs both in one pass.
                case RuleCode.Binary when ins.B.IsUniform && _uniforms[ins.B.Index] is UniformNode.BiasCorrection:
                    EmitEma(_code[ins.A.Index], biasCorrected: true);
                    break;
                case RuleCode.Binary: EmitBinary((ushort)(ins.OpKey - 1), ins.A, ins.B); break;
                case RuleCode.EmaUpdate: EmitEma(ins, biasCorrected: false); break;
                case RuleCode.LagRead:
                    int steps = _lagReads[ins.Index].Lag;
                    Emit(ins.A);
                    Add(OpCode.Lag, a: output.Lags.Count, b: steps);
                    output.Lags.Add(steps);
                    break;
                default: throw new InvalidOperationException($"{ins.Code} has no row-evaluator form");
            }
        }

        private void EmitEma(in RuleInstruction raw, bool biasCorrected)
        {
            int beta = IsConstant(raw.B, out int slot) ? slot : throw new InvalidOperationException("an ema over columns has its beta in the constant table");
            Emit(raw.A);
            Add(OpCode.Ema, a: output.Emas++, b: beta, flag: biasCorrected ? 1 : 0);
        }
        private void EmitBinary(ushort op, Operand left, Operand right)
        {
            if (IsColumn(left, out int lf))
            {
                if (IsColumn(right, out int rf)) Add(OpCode.BinaryFF, op, lf, rf);
                else if (IsConstant(right, out int rc)) Add(OpCode.BinaryFC, op, lf, rc);
                else
                {
                    Emit(right);
                    Add(OpCode.BinaryLeftF, op, lf);
                }
            }
            else if (IsConstant(left, out int c))
            {
                if (IsColumn(right, out int rf)) Add(OpCode.BinaryCF, op, c, rf);
                else if (IsConstant(right, out int rc))
                {
                    // Two constants: push the left, fuse the right.
                    Add(OpCode.LoadConst, a: c);
                    Add(OpCode.BinaryRightC, op, rc);
                }
                else
                {
                    Emit(right);
                    Add(OpCode.BinaryLeftC, op, c);
                }
            }
            else if (IsColumn(right, out int rf))
            {
                Emit(left);
                Add(OpCode.BinaryRightF, op, rf);
            }
            else if (IsConstant(right, out int rc))
            {
                Emit(left);
                Add(OpCode.BinaryRightC, op, rc);
            }
            else
            {
                Emit(left);
                Emit(right);
                Add(OpCode.Binary, op, 0);
            }
        }
    }
}
