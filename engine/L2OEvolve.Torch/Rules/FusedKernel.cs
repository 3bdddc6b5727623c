using L2OEvolve.Engine.Compilation;
using System.Numerics;
using System.Numerics.Tensors;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Torch.Rules;

/// <summary>
/// Runs a <see cref="RuleProgram"/> as one pass over raw float32 memory (parameters, gradients, state), block by
/// block: each block of <see cref="Block"/> coordinates goes through the whole program in registers that stay in
/// L1, vectorised with <see cref="Vector{T}"/> and <see cref="TensorPrimitives"/>. One pass replaces the chain of
/// TorchSharp operators (each a native call and a full sweep over memory) that the rule would otherwise be.
/// </summary>
/// <remarks>
/// Operators run their own span kernels (<see cref="Op.Kernel(ReadOnlySpan{float}, Span{float}, Span{float})"/>), the
/// same as the row evaluator's, so both share the numerical care (small-|x| tanh and sinh, SIMD erfc). State layout: slot <c>s</c> of coordinate <c>i</c> lives at <c>state[s*count + i]</c>.
/// </remarks>
public static unsafe class FusedKernel
{
    /// <summary>Coordinates per block.</summary>
    /// <remarks>Each instruction costs a dispatch and a loop set-up per block, so larger blocks amortise them; 512 keeps
    /// a typical rule's registers (about ten, 2 KB each) in L1. Measured against 256 on mlp-mnist-rp's Adam step:
    /// experiments/operators/before-after-fused-block.txt.</remarks>
    public const int Block = 512;

    /// <summary>Floats of scratch <see cref="Apply"/> needs for <paramref name="program"/>.</summary>
    public static int WorkspaceFloats(RuleProgram program) => (program.Registers + 3) * Block;

    /// <summary>
    /// Applies one step: <c>param[i] += rule(...)</c> for <c>i</c> in <c>[0, count)</c>, updating the state.
    /// Returns false when any updated parameter is not finite (the update is still written).
    /// </summary>
    public static bool Apply(RuleProgram program, StepPlan plan, float* param, float* grad, float* state, long count, Span<float> workspace)
    {
        if (workspace.Length < WorkspaceFloats(program))
            throw new ArgumentException("workspace too small", nameof(workspace));
        fixed (float* ws = workspace) return Run(program, plan, param, grad, state, count, ws, null);
    }

    /// <summary>
    /// Evaluates every output of <paramref name="program"/> (<see cref="RuleProgram.Outputs"/>) for <c>i</c> in
    /// <c>[0, count)</c> into <paramref name="outputs"/>, row-major <c>[count, outputs]</c> (value j of coordinate i at
    /// <c>outputs[i*K + j]</c>), advancing the state as a step does. No parameter is read or written, so the program
    /// must not read <c>p</c>.
    /// </summary>
    public static void Evaluate(RuleProgram program, StepPlan plan, float* grad, float* state, long count, float* outputs, Span<float> workspace)
    {
        if (workspace.Length < WorkspaceFloats(program))
            throw new ArgumentException("workspace too small", nameof(workspace));
        if (program.Code.Any(i => i.Code == RuleCode.LoadParam))
            throw new ArgumentException("the program reads the parameter (p), which Evaluate does not have", nameof(program));
        fixed (float* ws = workspace) Run(program, plan, null, grad, state, count, ws, outputs);
    }

    // One pass over the blocks: a step (param += root, returns whether it stayed finite) when outputs is null,
    // otherwise the outputs are written and param is not touched.
    private static bool Run(RuleProgram program, StepPlan plan, float* param, float* grad, float* state, long count, float* ws, float* outputs)
    {
        bool finite = true;
        var code = program.Code;
        var u = plan.UniformsF;
        int scratchA = program.Registers * Block, scratchB = scratchA + Block, scratchC = scratchB + Block;
        // Register r normally lives in the workspace; a loaded gradient and a moving average are read where they
        // already are (the gradient and the state slot), saving a copy each. Neither memory is written again
        // before the block's update, so the aliases stay valid. Parameters and lag reads are copied: the update
        // and the ring writes overwrite their memory.
        float** regs = stackalloc float*[Math.Max(1, program.Registers)];
        for (int r = 0; r < program.Registers; r++) regs[r] = ws + r * Block;
        for (long start = 0; start < count; start += Block)
        {
            int n = (int)Math.Min(Block, count - start);
            float* Slot(int s) => state + s * count + start;

            foreach (var ins in code)
            {
                switch (ins.Code)
                {
                    case RuleCode.LoadGrad:
                        regs[ins.Dest] = grad + start;
                        break;
                    case RuleCode.LoadParam:
                        new ReadOnlySpan<float>(param + start, n).CopyTo(new Span<float>(regs[ins.Dest], n));
                        break;
                    case RuleCode.Unary:
                        ins.Op.Kernel(new ReadOnlySpan<float>(regs[ins.A.Index], n), new Span<float>(regs[ins.Dest], n), new Span<float>(ws + scratchC, n));
                        break;
                    case RuleCode.Binary when ins.Unguarded && ins.Op == Op.Div && !ins.A.IsUniform && !ins.B.IsUniform:
                        TensorPrimitives.Divide(new ReadOnlySpan<float>(regs[ins.A.Index], n), new ReadOnlySpan<float>(regs[ins.B.Index], n), new Span<float>(regs[ins.Dest], n));
                        break;
                    case RuleCode.Binary:
                        Binary(ins.Op, ins.A, ins.B, u, regs, ws, n, scratchA, scratchB, new Span<float>(ws + scratchC, n), new Span<float>(regs[ins.Dest], n));
                        break;
                    case RuleCode.EmaUpdate:
                    {
                        var sp = Slot(ins.Index);
                        var s = new Span<float>(sp, n);
                        double b = plan.Uniforms[ins.B.Index];
                        float beta = (float)b, w = (float)(1.0 - b);
                        if (ins.A.IsUniform)
                        {
                            TensorPrimitives.Multiply(s, beta, s);
                            TensorPrimitives.Add(s, u[ins.A.Index] * w, s);
                        }
                        else
                        {
                            Ema(s, new ReadOnlySpan<float>(regs[ins.A.Index], n), beta, w);
                        }
                        regs[ins.Dest] = sp;
                        break;
                    }
                    case RuleCode.LagRead:
                        new ReadOnlySpan<float>(Slot(plan.LagReadSlots[ins.Index]), n).CopyTo(new Span<float>(regs[ins.Dest], n));
                        break;
                }
            }
            // Ring writes come after every read of the block: the written slot is the one the largest lag just read.
            for (int i = 0; i < program.LagWrites.Length; i++)
            {
                var src = program.LagWrites[i].Source;
                var slot = new Span<float>(Slot(plan.LagWriteSlots[i]), n);
                if (src.IsUniform) slot.Fill(u[src.Index]);
                else new ReadOnlySpan<float>(regs[src.Index], n).CopyTo(slot);
            }
            if (outputs is not null)
            {
                WriteOutputs(program.Outputs, u, regs, outputs + start * program.Outputs.Length, n);
                continue;
            }
            var p = new Span<float>(param + start, n);
            if (program.Root.IsUniform) finite &= AddChecked(p, u[program.Root.Index]);
            else finite &= AddChecked(p, new ReadOnlySpan<float>(regs[program.Root.Index], n));
        }
        return finite;
    }

    // Interleaves the block's output columns into rows (the layout a network reads its inputs in).
    private static void WriteOutputs(System.Collections.Immutable.ImmutableArray<Operand> outs, float[] u, float** regs, float* rows, int n)
    {
        int k = outs.Length;
        for (int j = 0; j < k; j++)
        {
            var o = outs[j];
            if (o.IsUniform)
            {
                float c = u[o.Index];
                for (int i = 0; i < n; i++) rows[i * k + j] = c;
            }
            else
            {
                float* r = regs[o.Index];
                for (int i = 0; i < n; i++) rows[i * k + j] = r[i];
            }
        }
    }

    private static void Ema(Span<float> s, ReadOnlySpan<float> x, float beta, float w)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && s.Length >= Vector<float>.Count)
        {
            var vb = new Vector<float>(beta);
            var vw = new Vector<float>(w);
            for (; i <= s.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vs = new Vector<float>(s[i..]);
                var vx = new Vector<float>(x[i..]);
                (vs * vb + vx * vw).CopyTo(s[i..]);
            }
        }
        for (; i < s.Length; i++) s[i] = s[i] * beta + x[i] * w;
    }

    private static bool AddChecked(Span<float> p, ReadOnlySpan<float> d)
    {
        int i = 0;
        var bad = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated && p.Length >= Vector<float>.Count)
        {
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var r = new Vector<float>(p[i..]) + new Vector<float>(d[i..]);
                r.CopyTo(p[i..]);
                // r - r is 0 exactly when r is finite; NaN otherwise.
                var z = r - r;
                bad = Vector.BitwiseOr(bad, Vector.AsVectorSingle(Vector.OnesComplement(Vector.Equals(z, Vector<float>.Zero))));
            }
        }
        bool ok = bad == Vector<float>.Zero;
        for (; i < p.Length; i++)
        {
            p[i] += d[i];
            ok &= float.IsFinite(p[i]);
        }
        return ok;
    }

    private static bool AddChecked(Span<float> p, float d)
    {
        bool ok = true;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] += d;
            ok &= float.IsFinite(p[i]);
        }
        return ok;
    }

    private static void Binary(Op op, Operand a, Operand b, float[] u, float** regs, float* ws, int n, int scratchA, int scratchB,
        Span<float> scratch, Span<float> dst)
    {
        // A uniform operand is broadcast by the operator's kernel itself (lr * x, x + eps, c - x need no fill).
        if (a.IsUniform && !b.IsUniform) op.Kernel(u[a.Index], new ReadOnlySpan<float>(regs[b.Index], n), dst, scratch);
        else if (b.IsUniform && !a.IsUniform) op.Kernel(new ReadOnlySpan<float>(regs[a.Index], n), u[b.Index], dst, scratch);
        else op.Kernel(Resolve(a, u, regs, ws, n, scratchA), Resolve(b, u, regs, ws, n, scratchB), dst, scratch);
    }

    private static ReadOnlySpan<float> Resolve(Operand o, float[] u, float** regs, float* ws, int n, int scratch)
    {
        if (!o.IsUniform) return new(regs[o.Index], n);
        var s = new Span<float>(ws + scratch, n);
        s.Fill(u[o.Index]);
        return s;
    }
}
