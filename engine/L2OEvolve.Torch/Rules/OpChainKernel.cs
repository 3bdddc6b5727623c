using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Rules;

/// <summary>
/// Runs a <see cref="RuleProgram"/> as a chain of TorchSharp operators: one tensor per register. This path runs on
/// any device (CUDA included) and is differentiable, since it is pure: the state it is given is left untouched and
/// the next state is returned, so autograd can follow a rule through many steps (meta-tuning).
/// </summary>
/// <remarks>Each operator runs its own tensor mapping (<see cref="Op.Tensor{T}(ITensorAlgebra{T}, T)"/> over
/// <see cref="TorchAlgebra"/>); division is protected without producing NaN gradients (the denominator is replaced
/// before dividing, not after).</remarks>
public static class OpChainKernel
{
    /// <summary>
    /// Evaluates the rule for one step. <paramref name="state"/> has <see cref="RuleProgram.StateSlots"/> tensors
    /// shaped like <paramref name="grad"/>. Returns the update (to be added to the parameters) and the next state;
    /// slots the step does not change are returned as the same tensor objects. <paramref name="param"/> is needed
    /// only by rules that read the feature <c>p</c>. <paramref name="coefficients"/>, when given, are 0-dim tensors
    /// for the program's <see cref="RuleProgram.Coefficients"/> (gradients flow into them: meta-tuning); otherwise the
    /// plan's <see cref="StepPlan.Coefficients"/> values are used. Likewise <paramref name="slots"/>, when given, binds
    /// slots of the constant table (<see cref="RuleProgram.Constants"/>, ema betas included) to 0-dim tensors; a null
    /// entry keeps the program's value. <paramref name="outputs"/>, when given, receives the value of every
    /// <see cref="RuleProgram.Outputs"/> entry, shaped like <paramref name="grad"/> (the first is the update).
    /// </summary>
    public static (Tensor Update, Tensor[] State) Evaluate(RuleProgram program, StepPlan plan, Tensor grad, IReadOnlyList<Tensor> state,
        Tensor? param = null, IReadOnlyList<Tensor>? coefficients = null, IReadOnlyList<Tensor?>? slots = null, Tensor[]? outputs = null)
    {
        if (state.Count != program.StateSlots)
            throw new ArgumentException($"expected {program.StateSlots} state tensors, got {state.Count}", nameof(state));
        if (coefficients is not null && coefficients.Count != program.Coefficients.Length)
            throw new ArgumentException($"expected {program.Coefficients.Length} coefficient tensors, got {coefficients.Count}", nameof(coefficients));
        if (slots is not null && slots.Count != program.Constants.Length)
            throw new ArgumentException($"expected {program.Constants.Length} constant slots, got {slots.Count}", nameof(slots));
        var u = plan.Uniforms;
        var tu = coefficients is null && slots is null ? null : TensorUniforms(program, u, coefficients ?? [], slots ?? [], plan.Step);
        var regs = new Tensor[program.Registers];
        var next = state.ToArray();
        // A uniform that depends on a coefficient or slot tensor is a 0-dim tensor and broadcasts like a register.
        Tensor? T(Operand o) => o.IsUniform ? tu?[o.Index] : regs[o.Index];
        Tensor Full(Operand o) => T(o) is { } t ? (o.IsUniform ? zeros_like(grad).Plus(t) : t) : TorchScalars.FullLike(grad, u[o.Index]);
        // The program's guards were dropped for the signs of its own constants; a bound slot (a meta-parameter) may
        // take any sign, so every guard stays on.
        bool trustGuards = slots is null;
        foreach (var ins in program.Code)
        {
            bool unguarded = ins.Unguarded && trustGuards;
            bool tensorUniform = tu is not null && ins.Code == RuleCode.Binary
                && ((ins.A.IsUniform && tu[ins.A.Index] is not null) || (ins.B.IsUniform && tu[ins.B.Index] is not null));
            regs[ins.Dest] = ins.Code switch
            {
                RuleCode.Binary when tensorUniform => BinaryTensors(ins.Op, T(ins.A) ?? TorchScalars.FullLike(grad, u[ins.A.Index]), T(ins.B) ?? TorchScalars.FullLike(grad, u[ins.B.Index])),
                RuleCode.LoadGrad => grad,
                RuleCode.LoadParam => param ?? throw new ArgumentException("this rule reads the parameter (p); pass it", nameof(param)),
                RuleCode.Unary when unguarded && ins.Op == Op.Sqrt => regs[ins.A.Index].sqrt(),
                RuleCode.Unary when unguarded && ins.Op == Op.Log => regs[ins.A.Index].Plus(Ops.LogEpsilon).log(),
                RuleCode.Unary => ins.Op.Tensor(TorchAlgebra.Instance, regs[ins.A.Index]),
                RuleCode.Binary when unguarded && ins.Op == Op.Div && !ins.B.IsUniform => (ins.A.IsUniform ? TorchScalars.FullLike(grad, u[ins.A.Index]) : regs[ins.A.Index]).div(regs[ins.B.Index]),
                RuleCode.Binary => Binary(ins.Op, ins.A, ins.B, regs, u, grad),
                RuleCode.EmaUpdate => next[ins.Index] = Ema(state[ins.Index], T(ins.B), u[ins.B.Index], ins.A.IsUniform, T(ins.A), ins.A.IsUniform ? u[ins.A.Index] : 0),
                RuleCode.LagRead => state[plan.LagReadSlots[ins.Index]],
                _ => throw new InvalidOperationException($"unknown instruction {ins.Code}"),
            };
        }
        for (int i = 0; i < program.LagWrites.Length; i++)
        {
            var src = program.LagWrites[i].Source;
            // A copy, so a ring slot never aliases the gradient or another slot.
            next[plan.LagWriteSlots[i]] = src.IsUniform ? Full(src) : regs[src.Index].clone();
        }
        var update = Full(program.Root);
        if (outputs is not null)
        {
            if (outputs.Length != program.Outputs.Length)
                throw new ArgumentException($"expected room for {program.Outputs.Length} outputs, got {outputs.Length}", nameof(outputs));
            for (int j = 0; j < outputs.Length; j++) outputs[j] = j == 0 ? update : Full(program.Outputs[j]);
        }
        return (update, next);
    }

    /// <summary>
    /// <c>β*s + (1-β)*x</c>; β and x are tensors when they depend on meta-parameters, else the plain values.
    /// A uniform x is a value (or a 0-dim tensor); otherwise it is the register tensor <paramref name="xTensor"/>.
    /// </summary>
    private static Tensor Ema(Tensor s, Tensor? betaTensor, double beta, bool xUniform, Tensor? xTensor, double x)
    {
        if (betaTensor is not null)
        {
            var rest = betaTensor.neg().Plus(1.0);
            return xTensor is null ? s.mul(betaTensor).Plus(rest.Times(x)) : s.mul(betaTensor).Plus(xTensor.mul(rest));
        }
        if (xTensor is null) return s.Times(beta).Plus(x * (1.0 - beta));
        return xUniform ? s.Times(beta).Plus(xTensor.Times(1.0 - beta)) : s.Times(beta).AddScaled(xTensor, 1.0 - beta);
    }

    private static Tensor?[] TensorUniforms(RuleProgram program, double[] u, IReadOnlyList<Tensor> coefficients, IReadOnlyList<Tensor?> slots, int step)
    {
        var tu = new Tensor?[program.Uniforms.Length];
        var like = coefficients.Concat(slots).FirstOrDefault(t => t is not null);
        Tensor Of(int i) => tu[i] ?? torch.tensor(u[i], like!.dtype, like.device);
        for (int i = 0; i < tu.Length; i++)
        {
            tu[i] = program.Uniforms[i] switch
            {
                UniformNode.Coefficient k => coefficients[k.Index],
                UniformNode.Slot s when s.Index < slots.Count => slots[s.Index],
                UniformNode.Unary un when tu[un.Arg] is { } a => un.Op.Tensor(TorchAlgebra.Instance, a),
                UniformNode.Binary bi when tu[bi.Left] is not null || tu[bi.Right] is not null => BinaryTensors(bi.Op, Of(bi.Left), Of(bi.Right)),
                UniformNode.BiasCorrection bc when tu[bc.Beta] is { } beta => beta.Power(step).neg().Plus(1.0).reciprocal(),
                _ => null,
            };
        }
        return tu;
    }

    private static Tensor Binary(Op op, Operand a, Operand b, Tensor[] regs, double[] u, Tensor like)
    {
        if (a.IsUniform != b.IsUniform)
        {
            double c = a.IsUniform ? u[a.Index] : u[b.Index];
            var x = a.IsUniform ? regs[b.Index] : regs[a.Index];
            // Scalar forms skip the broadcast tensor (lr * x, x + eps, c - x, x / c).
            if (op == Op.Add) return x.Plus(c);
            if (op == Op.Mul) return x.Times(c);
            if (op == Op.Sub) return b.IsUniform ? x.Plus(-c) : x.SubtractedFrom(c);
            if (op == Op.Div && b.IsUniform) return c == 0.0 ? ones_like(x) : x.DividedBy(c);
        }
        return BinaryTensors(op, a.IsUniform ? TorchScalars.FullLike(like, u[a.Index]) : regs[a.Index], b.IsUniform ? TorchScalars.FullLike(like, u[b.Index]) : regs[b.Index]);
    }

    private static Tensor BinaryTensors(Op op, Tensor l, Tensor r) => op.Tensor(TorchAlgebra.Instance, l, r);
}
