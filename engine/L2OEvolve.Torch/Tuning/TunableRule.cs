using L2OEvolve.Engine.Compilation;
using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tuning;

/// <summary>
/// A rule as a differentiable TorchSharp program whose constants are meta-parameters: the constant leaves the rule
/// was written with (and, optionally, the betas of the moving averages written in it) are read from a tensor, so
/// autograd carries a meta-loss back to them. The paper's features (m, v, mt, gt, mom5, ..., lags) are expanded
/// as in <see cref="RuleFeatures"/>; their own settings (β1, β2, ε, t scale) stay fixed.
/// </summary>
/// <remarks>
/// Same semantics as <see cref="RuleProgram"/> and the rule executors (protected division, sqrt and log of |x|,
/// signed pow, zero-initialised moving averages and lag history), but the constants are not folded: two equal
/// constants remain two meta-parameters. Compilation (pseudocode):
/// <code>
/// walk the rule in preorder, numbering each constant (and each written ema's beta when tuning betas) in the
///   order of Expr.Constants(includeBetas): constant i → Param(i)
/// a feature variable → its expansion over g, p, t with fixed constants
/// build a DAG sharing equal nodes; one moving-average slot per distinct (beta, argument), one lag ring per
///   lagged argument (length = its largest lag)
/// step(g, θ, state, t, c): evaluate the DAG; update = root; ring writes after all reads
/// </code>
/// The update is added to the parameters, θ ← θ + rule: the sign is part of the rule (docs/symbolic-l2o.md, 'The sign of the update').
/// </remarks>
public sealed class TunableRule
{
    private readonly ImmutableArray<Node> _nodes;
    private readonly ImmutableArray<(int Length, int Source)> _rings;
    private readonly int _emaSlots;
    private readonly int _root;

    private TunableRule(RuleDefinition definition, bool tuneBetas, ImmutableArray<Node> nodes, int emaSlots,
        ImmutableArray<(int, int)> rings, int root)
    {
        Definition = definition;
        TuneBetas = tuneBetas;
        _nodes = nodes;
        _emaSlots = emaSlots;
        _rings = rings;
        _root = root;
        InitialConstants = definition.Rule.Constants(tuneBetas);
    }

    /// <summary>The rule with its initial constants.</summary>
    public RuleDefinition Definition { get; }

    /// <summary>True when the betas of moving averages written in the rule are meta-parameters too.</summary>
    public bool TuneBetas { get; }

    /// <summary>The initial constants, in the order of <see cref="Expr.Constants"/>.</summary>
    public ImmutableArray<double> InitialConstants { get; }

    /// <summary>Number of meta-parameters.</summary>
    public int Count => InitialConstants.Length;

    /// <summary>State tensors kept per parameter tensor (moving averages plus lag-ring slots).</summary>
    public int StateSlots => _emaSlots + _rings.Sum(r => r.Length);

    /// <summary>
    /// Compiles <paramref name="definition"/> with its step size folded into the expression (so the lr is tuned as
    /// one of the constants); throws <see cref="ArgumentException"/> naming an unknown feature.
    /// </summary>
    public static TunableRule Create(RuleDefinition definition, bool tuneBetas = false)
    {
        definition = definition.Folded();
        var b = new Builder(definition.Features, tuneBetas);
        int root = b.User(definition.Rule);
        return new TunableRule(definition, tuneBetas, [.. b.Nodes], b.EmaSlots, [.. b.Rings], root);
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
    /// grad); <paramref name="step"/> counts from 1. Nothing is modified in place, so autograd may follow any number
    /// of steps. Slots this step leaves unchanged are returned as the same tensor objects.
    /// </summary>
    public (Tensor Update, Tensor[] State) Step(Tensor grad, Tensor param, IReadOnlyList<Tensor> state, int step, Tensor constants)
    {
        if (state.Count != StateSlots) throw new ArgumentException($"expected {StateSlots} state tensors, got {state.Count}", nameof(state));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        var values = new Value[_nodes.Length];
        var next = state.ToArray();
        for (int i = 0; i < _nodes.Length; i++)
        {
            values[i] = _nodes[i] switch
            {
                Node.Param p => new Value(constants[p.Index]),
                Node.Fixed f => new Value(f.Value),
                Node.StepFeature s => new Value(step * s.Scale),
                Node.Grad => new Value(grad),
                Node.Theta => new Value(param),
                Node.Unary u => Unary(u.Op, values[u.Arg]),
                Node.Binary bn => Binary(bn.Op, values[bn.Left], values[bn.Right]),
                Node.EmaRaw e => new Value(next[e.Slot] = Ema(state[e.Slot], values[e.Beta], values[e.Arg])),
                Node.BiasCorrection bc => BiasCorrection(values[bc.Beta], step),
                Node.LagRead l => new Value(state[RingSlot(l.Ring, step - 1 - l.Lag)]),
                _ => throw new InvalidOperationException("unknown node"),
            };
        }
        for (int r = 0; r < _rings.Length; r++)
            next[RingSlot(r, step - 1)] = values[_rings[r].Source].AsTensor(grad).clone();
        var root = values[_root];
        var update = root.IsScalar ? root.AsTensor(grad) : root.Tensor!;
        return (update, next);
    }

    // Ring position p holds the value written at the step s with (s - 1) mod K = p; unwritten slots are zero,
    // the value a lag has before the history starts.
    private int RingSlot(int ring, int position)
    {
        int baseSlot = _emaSlots;
        for (int r = 0; r < ring; r++) baseSlot += _rings[r].Length;
        int k = _rings[ring].Length;
        return baseSlot + ((position % k) + k) % k;
    }

    private static Tensor Ema(Tensor s, Value beta, Value x)
    {
        if (beta.IsDouble)
        {
            double b = beta.Double;
            return x.IsDouble ? s.mul(b).add(x.Double * (1 - b)) : s.mul(b).add(x.Tensor!.mul(1 - b));
        }
        var bt = beta.Tensor!;
        var rest = bt.neg().add(1.0);
        return x.IsDouble ? s.mul(bt).add(rest.mul(x.Double)) : s.mul(bt).add(x.Tensor!.mul(rest));
    }

    private static Value BiasCorrection(Value beta, int step) => beta.IsDouble
        ? new Value(1.0 / (1.0 - Math.Pow(beta.Double, step)))
        : new Value(beta.Tensor!.pow(step).neg().add(1.0).reciprocal());

    private static Value Unary(Op op, Value x) =>
        x.IsDouble ? new Value(op.Apply(x.Double)) : new Value(op.Tensor(TorchAlgebra.Instance, x.Tensor!));

    private static Value Binary(Op op, Value a, Value b)
    {
        if (a.IsDouble && b.IsDouble) return new Value(op.Apply(a.Double, b.Double));
        if (a.IsDouble || b.IsDouble)
        {
            double c = a.IsDouble ? a.Double : b.Double;
            var x = a.IsDouble ? b.Tensor! : a.Tensor!;
            // Scalar forms skip the broadcast constant (lr * x, x + eps, c - x, x / c).
            if (op == Op.Add) return new Value(x.add(c));
            if (op == Op.Mul) return new Value(x.mul(c));
            if (op == Op.Sub) return new Value(b.IsDouble ? x.sub(c) : x.neg().add(c));
            if (op == Op.Div && b.IsDouble) return new Value(c == 0.0 ? ones_like(x) : x.div(c));
        }
        // A 0-d constant broadcasts against a parameter-shaped tensor; type promotion keeps the latter's float32.
        var l = a.IsDouble ? tensor(a.Double, ScalarType.Float64) : a.Tensor!;
        var r = b.IsDouble ? tensor(b.Double, ScalarType.Float64) : b.Tensor!;
        return new Value(op.Tensor(TorchAlgebra.Instance, l, r));
    }

    /// <summary>A node value: a plain double (all-constant subtrees with fixed constants) or a tensor.</summary>
    private readonly struct Value
    {
        public Value(double d) { Double = d; Tensor = null; }
        public Value(Tensor t) { Double = 0; Tensor = t; }
        public double Double { get; }
        public Tensor? Tensor { get; }
        public bool IsDouble => Tensor is null;

        /// <summary>True for doubles and 0-d tensors (meta-parameters before they meet a coordinate).</summary>
        public bool IsScalar => Tensor is null || Tensor.dim() == 0;

        public Tensor AsTensor(Tensor like) => Tensor is null
            ? full_like(like, Double)
            : Tensor.dim() == 0 ? zeros_like(like).add(Tensor) : Tensor;
    }

    private abstract record Node
    {
        public sealed record Param(int Index) : Node;
        public sealed record Fixed(double Value) : Node;
        public sealed record StepFeature(double Scale) : Node;
        public sealed record Grad : Node;
        public sealed record Theta : Node;
        public sealed record Unary(Op Op, int Arg) : Node;
        public sealed record Binary(Op Op, int Left, int Right) : Node;
        public sealed record EmaRaw(int Slot, int Beta, int Arg) : Node;
        public sealed record BiasCorrection(int Beta) : Node;
        public sealed record LagRead(int Ring, int Lag) : Node;
    }

    private sealed class Builder(FeatureSettings settings, bool tuneBetas)
    {
        public readonly List<Node> Nodes = [];
        public readonly List<(int Length, int Source)> Rings = [];
        public int EmaSlots;
        private int _nextConstant;
        private readonly Dictionary<Node, int> _index = [];
        private readonly Dictionary<(int Beta, int Arg), int> _emas = [];
        private readonly Dictionary<int, int> _ringOf = [];

        /// <summary>A node of the rule as written: its constants (and betas, when tuned) become meta-parameters.</summary>
        public int User(Expr e)
        {
            switch (e)
            {
                case Expr.Const:
                    return Add(new Node.Param(_nextConstant++));
                case Expr.Var v:
                    // Features carry fixed constants of their own (ε, the betas of m and v, ...).
                    return Fixed(RuleFeatures.Expand(v, settings));
                case Expr.Unary u:
                    return Add(new Node.Unary(u.Op, User(u.Arg)));
                case Expr.Binary bn:
                {
                    int l = User(bn.Left);
                    return Add(new Node.Binary(bn.Op, l, User(bn.Right)));
                }
                case Expr.Ema em:
                {
                    // Preorder: the beta comes before the constants of the argument (Expr.Constants).
                    int beta = tuneBetas ? Add(new Node.Param(_nextConstant++)) : Add(new Node.Fixed(em.Beta));
                    return EmaOf(beta, User(em.Arg), em.BiasCorrected);
                }
                case Expr.Lag l:
                    return LagOf(l.Steps, User(l.Arg));
                default:
                    throw new ArgumentException($"unsupported node {e.GetType().Name}");
            }
        }

        private int Fixed(Expr e) => e switch
        {
            Expr.Const c => Add(new Node.Fixed(c.Value)),
            Expr.Var { Name: RuleFeatures.Gradient } => Add(new Node.Grad()),
            Expr.Var { Name: RuleFeatures.Parameter } => Add(new Node.Theta()),
            Expr.Var { Name: RuleFeatures.Step } => Add(new Node.StepFeature(settings.TScale)),
            Expr.Var v => throw new ArgumentException($"unknown feature '{v.Name}'"),
            Expr.Unary u => Add(new Node.Unary(u.Op, Fixed(u.Arg))),
            Expr.Binary bn => Add(new Node.Binary(bn.Op, Fixed(bn.Left), Fixed(bn.Right))),
            Expr.Ema em => EmaOf(Add(new Node.Fixed(em.Beta)), Fixed(em.Arg), em.BiasCorrected),
            Expr.Lag l => LagOf(l.Steps, Fixed(l.Arg)),
            _ => throw new ArgumentException($"unsupported node {e.GetType().Name}"),
        };

        private int EmaOf(int beta, int arg, bool biasCorrected)
        {
            // ema and ema_bc of one argument and beta share one moving average.
            if (!_emas.TryGetValue((beta, arg), out var raw))
            {
                raw = AddUnshared(new Node.EmaRaw(EmaSlots++, beta, arg));
                _emas[(beta, arg)] = raw;
            }
            return biasCorrected ? Add(new Node.Binary(Op.Mul, raw, Add(new Node.BiasCorrection(beta)))) : raw;
        }

        private int LagOf(int steps, int arg)
        {
            if (steps < 0) throw new ArgumentException($"lag({steps}, ...): lags must be non-negative");
            if (steps == 0) return arg;
            if (!_ringOf.TryGetValue(arg, out var ring))
            {
                ring = Rings.Count;
                _ringOf[arg] = ring;
                Rings.Add((0, arg));
            }
            Rings[ring] = (Math.Max(Rings[ring].Length, steps), arg);
            return Add(new Node.LagRead(ring, steps));
        }

        private int Add(Node node)
        {
            if (_index.TryGetValue(node, out var i)) return i;
            Nodes.Add(node);
            return _index[node] = Nodes.Count - 1;
        }

        private int AddUnshared(Node node)
        {
            Nodes.Add(node);
            return Nodes.Count - 1;
        }
    }
}
