using System.Collections.Immutable;
using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tuning;

/// <summary>
/// A rule whose constants are meta-parameters: its <see cref="RuleProgram"/> run by the TorchSharp op chain
/// (<see cref="OpChainKernel"/>) with the constant table bound to a coefficient tensor, so autograd carries a
/// meta-loss back to the constants the rule was written with (and, optionally, to the betas of the moving averages
/// written in it). The paper's features (m, v, mt, gt, mom5, ..., lags) keep their own settings (β1, β2, ε, t scale) fixed.
/// </summary>
/// <remarks>
/// The meta-parameters are the program's constant table (depth-first, as <see cref="Expr.Constants"/>), without its
/// ema betas unless <see cref="TuneBetas"/>; betas are tuned directly, as the other constants. Two equal constants
/// remain two meta-parameters. The update is added to the parameters, θ ← θ + rule: the sign is part of the rule
/// (docs/symbolic-l2o.md, 'The sign of the update').
/// </remarks>
public sealed class TunableRule
{
    private readonly RuleProgram _program;

    /// <summary>For each meta-parameter, its slot in the program's constant table.</summary>
    private readonly ImmutableArray<int> _slots;

    private TunableRule(RuleDefinition definition, bool tuneBetas, RuleProgram program)
    {
        Definition = definition;
        TuneBetas = tuneBetas;
        _program = program;
        _slots = [.. Enumerable.Range(0, program.Constants.Length).Where(i => tuneBetas || program.ConstantKinds[i] == ConstantKind.Value)];
        InitialConstants = [.. _slots.Select(i => program.Constants[i])];
        Kinds = [.. _slots.Select(i => program.ConstantKinds[i])];
    }

    /// <summary>The interval a tuned ema beta is kept in: at 1 or above a moving average stops forgetting or grows
    /// without bound, and its bias correction 1/(1 - β^t) changes sign.</summary>
    public const double BetaMin = 1e-6, BetaMax = 1 - 1e-6;

    /// <summary>The rule with its initial constants.</summary>
    public RuleDefinition Definition { get; }

    /// <summary>True when the betas of moving averages written in the rule are meta-parameters too.</summary>
    public bool TuneBetas { get; }

    /// <summary>The initial constants, in the order of <see cref="Expr.Constants"/>.</summary>
    public ImmutableArray<double> InitialConstants { get; }

    /// <summary>What each meta-parameter is (a free constant or an ema beta), in the order of <see cref="InitialConstants"/>.</summary>
    public ImmutableArray<ConstantKind> Kinds { get; }

    /// <summary>
    /// Projects meta-parameters back into their admissible set after a meta-step: each ema beta is clamped into
    /// [<see cref="BetaMin"/>, <see cref="BetaMax"/>]; free constants are left as they are.
    /// </summary>
    public void Project(Span<double> constants)
    {
        for (int i = 0; i < constants.Length; i++)
            if (Kinds[i] == ConstantKind.EmaBeta) constants[i] = Math.Clamp(constants[i], BetaMin, BetaMax);
    }

    /// <summary>Number of meta-parameters.</summary>
    public int Count => InitialConstants.Length;

    /// <summary>State tensors kept per parameter tensor (moving averages plus lag-ring slots).</summary>
    public int StateSlots => _program.StateSlots;

    /// <summary>
    /// Compiles <paramref name="definition"/> with its step size folded into the expression (so the lr is tuned as
    /// one of the constants); throws <see cref="ArgumentException"/> naming an unknown feature.
    /// </summary>
    public static TunableRule Create(RuleDefinition definition, bool tuneBetas = false)
    {
        definition = definition.Folded();
        return new TunableRule(definition, tuneBetas, RuleProgram.Compile(definition.Rule, definition.Features));
    }

    /// <summary>The rule with its constants replaced by <paramref name="constants"/> (a new definition, same name and features).</summary>
    public RuleDefinition WithConstants(ReadOnlySpan<double> constants, string? description = null) =>
        Definition with
        {
            Rule = Definition.Rule.WithConstants(constants, TuneBetas),
            Description = description ?? Definition.Description,
        };

    /// <summary>Zero state for one parameter tensor of <paramref name="shape"/>.</summary>
    public Tensor[] InitialState(long[] shape, Device device) =>
        [.. Enumerable.Range(0, StateSlots).Select(_ => zeros(shape, ScalarType.Float32, device))];

    /// <summary>
    /// One step for one parameter tensor: returns the update (to be added to <paramref name="param"/>) and the next
    /// state. <paramref name="constants"/> is a 1-D tensor of <see cref="Count"/> values (float64, usually requiring
    /// grad, on the parameters' device); <paramref name="step"/> counts from 1. Nothing is modified in place, so autograd may follow any number
    /// of steps. Slots this step leaves unchanged are returned as the same tensor objects.
    /// </summary>
    public (Tensor Update, Tensor[] State) Step(Tensor grad, Tensor param, IReadOnlyList<Tensor> state, int step, Tensor constants)
    {
        if (state.Count != StateSlots) throw new ArgumentException($"expected {StateSlots} state tensors, got {state.Count}", nameof(state));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        var plan = _program.NewPlan();
        _program.Fill(plan, step);
        var bound = new Tensor?[_program.Constants.Length];
        for (int i = 0; i < _slots.Length; i++) bound[_slots[i]] = constants[i];
        return OpChainKernel.Evaluate(_program, plan, grad, state, param, slots: bound);
    }
}
