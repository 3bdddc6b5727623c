using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Compilation;

/// <summary>What a per-element instruction does.</summary>
public enum RuleCode : byte
{
    /// <summary>dest = g.</summary>
    LoadGrad,
    /// <summary>dest = θ (the parameter before this step's update).</summary>
    LoadParam,
    /// <summary>dest = Op(A).</summary>
    Unary,
    /// <summary>dest = Op(A, B).</summary>
    Binary,
    /// <summary>state[Slot] = Beta*state[Slot] + (1-Beta)*A; dest = state[Slot] (raw, not bias-corrected).</summary>
    EmaUpdate,
    /// <summary>dest = the ring slot holding the value <c>Lag</c> steps ago (slot chosen per step, see <see cref="StepPlan"/>).</summary>
    LagRead,
}

/// <summary>An operand: a per-element register or a uniform (one value per step for all coordinates).</summary>
public readonly record struct Operand(bool IsUniform, int Index)
{
    /// <summary>Register operand.</summary>
    public static Operand Reg(int i) => new(false, i);

    /// <summary>Uniform operand.</summary>
    public static Operand Uni(int i) => new(true, i);
}

/// <summary>One per-element instruction of a <see cref="RuleProgram"/>.</summary>
/// <param name="Index">For <see cref="RuleCode.EmaUpdate"/> the state slot; for <see cref="RuleCode.LagRead"/> the index of its read in <see cref="StepPlan.LagReadSlots"/>.</param>
/// <param name="Unguarded">The operator's guard is provably unnecessary, so executors may skip it: a division whose
/// divisor is positive (such as <c>sqrt(v) + 1e-8</c>; x/0 = 1 costs five extra operators in the TorchSharp chain),
/// or a sqrt or log of a non-negative argument (no |x| needed).</param>
public sealed record RuleInstruction(RuleCode Code, int Dest, Op Op, Operand A, Operand B, int Index, double Beta, bool Unguarded = false);

/// <summary>A uniform value: computed once per step in double precision, shared by all coordinates.</summary>
public abstract record UniformNode
{
    private UniformNode() { }

    /// <summary>A constant.</summary>
    public sealed record Constant(double Value) : UniformNode;

    /// <summary><c>step * scale</c>, the feature <c>t</c>.</summary>
    public sealed record ScaledStep(double Scale) : UniformNode;

    /// <summary>A coefficient: a named scalar supplied by the caller (<see cref="StepPlan.Coefficients"/>, or tensors
    /// in the TorchSharp op chain (<c>OpChainKernel</c>) so that meta-tuning can differentiate with respect to it).</summary>
    public sealed record Coefficient(int Index) : UniformNode;

    /// <summary>The bias correction <c>1/(1 - Beta^step)</c> of an <c>ema_bc</c>.</summary>
    public sealed record BiasCorrection(double Beta) : UniformNode;

    /// <summary>A pure unary operator over an earlier uniform.</summary>
    public sealed record Unary(Op Op, int Arg) : UniformNode;

    /// <summary>A pure binary operator over earlier uniforms.</summary>
    public sealed record Binary(Op Op, int Left, int Right) : UniformNode;
}

/// <summary>A lag ring: <c>Length</c> consecutive state slots from <c>BaseSlot</c> holding the last values of one subexpression.</summary>
public readonly record struct LagRing(int BaseSlot, int Length);

/// <summary>A read from a lag ring at a fixed lag.</summary>
public readonly record struct LagReadSpec(int Ring, int Lag);

/// <summary>At the end of each step, the current value of <c>Source</c> is written into its ring's oldest slot.</summary>
public readonly record struct LagWriteSpec(int Ring, Operand Source);

/// <summary>The per-step values a program needs besides the tensors: uniforms and which ring slots the lags use.</summary>
public sealed class StepPlan
{
    internal StepPlan(RuleProgram program)
    {
        Uniforms = new double[program.Uniforms.Length];
        UniformsF = new float[program.Uniforms.Length];
        Coefficients = new double[program.Coefficients.Length];
        LagReadSlots = new int[program.LagReads.Length];
        LagWriteSlots = new int[program.LagWrites.Length];
    }

    /// <summary>The step this plan was filled for (from 1).</summary>
    public int Step { get; internal set; }

    /// <summary>Values of the program's coefficients (by position in <see cref="RuleProgram.Coefficients"/>); set before <see cref="RuleProgram.Fill"/>.</summary>
    public double[] Coefficients { get; }

    /// <summary>Uniform values in double precision.</summary>
    public double[] Uniforms { get; }

    /// <summary>Uniform values rounded to float32 (what the fused kernel uses).</summary>
    public float[] UniformsF { get; }

    /// <summary>Absolute state slot read by each lag read this step.</summary>
    public int[] LagReadSlots { get; }

    /// <summary>Absolute state slot written by each lag write this step.</summary>
    public int[] LagWriteSlots { get; }
}

/// <summary>
/// A rule compiled for execution as an optimizer: a straight-line register program over one coordinate, the
/// uniforms it needs each step, and the exact state it keeps (one slot per distinct moving average, one ring of K
/// slots per distinct lagged subexpression with largest lag K). Both executors (the fused CPU kernel and the
/// TorchSharp operator chain) run this same program, so they agree by construction.
/// </summary>
/// <remarks>
/// Compilation (pseudocode):
/// <code>
/// e ← expand features of rule into trees over g and t (RuleFeatures.Expand)
/// visit e bottom-up, sharing equal subtrees (common-subexpression elimination):
///   Const, t, or an operator over uniforms → a uniform node
///   g → LoadGrad;  p → LoadParam;  op(x[, y]) → Unary/Binary
///   ema(β, x), ema_bc(β, x) → one EmaUpdate per distinct (β, x); ema_bc multiplies by the uniform 1/(1-β^t)
///   lag(k, x) → LagRead from the ring of x (ring length = largest k used on x); ring written after all reads
/// update = value of the root;  θ ← θ + update
/// </code>
/// </remarks>
public sealed class RuleProgram
{
    private RuleProgram(
        Expr source, FeatureSettings settings, ImmutableArray<string> coefficients, ImmutableArray<UniformNode> uniforms, ImmutableArray<RuleInstruction> code,
        int registers, int emaSlots, ImmutableArray<LagRing> rings, ImmutableArray<LagReadSpec> reads,
        ImmutableArray<LagWriteSpec> writes, ImmutableArray<Operand> outputs)
    {
        Source = source; Settings = settings; Coefficients = coefficients; Uniforms = uniforms; Code = code; Registers = registers;
        EmaSlots = emaSlots; Rings = rings; LagReads = reads; LagWrites = writes; Outputs = outputs; Root = outputs[0];
    }

    /// <summary>The rule as given (before feature expansion); for a program of several outputs, the first.</summary>
    public Expr Source { get; }

    /// <summary>The feature settings it was compiled with.</summary>
    public FeatureSettings Settings { get; }

    /// <summary>Names of the caller-supplied coefficients, in the order their values are given.</summary>
    public ImmutableArray<string> Coefficients { get; }

    /// <summary>Uniform nodes in dependency order.</summary>
    public ImmutableArray<UniformNode> Uniforms { get; }

    /// <summary>Per-element instructions in execution order.</summary>
    public ImmutableArray<RuleInstruction> Code { get; }

    /// <summary>Number of per-element registers.</summary>
    public int Registers { get; }

    /// <summary>Number of moving-average state slots (slots 0..EmaSlots-1).</summary>
    public int EmaSlots { get; }

    /// <summary>Lag rings (their slots follow the moving averages).</summary>
    public ImmutableArray<LagRing> Rings { get; }

    /// <summary>Lag reads, indexed by <see cref="RuleInstruction.Index"/> of <see cref="RuleCode.LagRead"/>.</summary>
    public ImmutableArray<LagReadSpec> LagReads { get; }

    /// <summary>Ring writes done at the end of every step.</summary>
    public ImmutableArray<LagWriteSpec> LagWrites { get; }

    /// <summary>The update value (the first output).</summary>
    public Operand Root { get; }

    /// <summary>The value of every expression compiled into the program, in the order given (one, the update, for a rule).</summary>
    public ImmutableArray<Operand> Outputs { get; }

    /// <summary>State floats kept per optimizee parameter: moving averages plus ring slots.</summary>
    public int StateSlots => EmaSlots + Rings.Sum(r => r.Length);

    /// <summary>
    /// The longest lag a rule may use: the optimizer keeps that many floats per parameter, so a typo such as
    /// <c>lag(100000000, g)</c> would exhaust memory on any real model instead of failing.
    /// </summary>
    public const int MaxLag = 10_000;

    /// <summary>
    /// Compiles <paramref name="rule"/>; throws <see cref="ArgumentException"/> naming an unknown feature or a negative
    /// or overlong lag. Variables named in <paramref name="coefficients"/> are caller-supplied scalars rather than features: write a
    /// rule's tunable constants as such variables to meta-tune them (the TorchSharp op chain (<c>OpChainKernel</c>) takes them as tensors).
    /// </summary>
    public static RuleProgram Compile(Expr rule, FeatureSettings? settings = null, IReadOnlyList<string>? coefficients = null)
    {
        settings ??= FeatureSettings.Default;
        var names = (coefficients ?? []).ToImmutableArray();
        var clash = names.FirstOrDefault(n => RuleFeatures.IsKnown(n) || n == RuleFeatures.Gradient);
        if (clash is not null) throw new ArgumentException($"coefficient name '{clash}' is a feature name");
        return Build([rule], settings, names);
    }

    /// <summary>
    /// Compiles several expressions into one program whose <see cref="Outputs"/> are their values, in order: shared
    /// subexpressions and moving averages are computed and kept once (the teachers' input features: <c>mt</c>,
    /// <c>gt</c> and <c>vs</c> share one <c>v</c>). Throws <see cref="ArgumentException"/> as <see cref="Compile"/> does.
    /// </summary>
    public static RuleProgram CompileOutputs(IReadOnlyList<Expr> outputs, FeatureSettings? settings = null)
    {
        if (outputs.Count == 0) throw new ArgumentException("a program needs at least one output", nameof(outputs));
        return Build(outputs, settings ?? FeatureSettings.Default, []);
    }

    private static RuleProgram Build(IReadOnlyList<Expr> outputs, FeatureSettings settings, ImmutableArray<string> names)
    {
        var b = new Builder(settings, names);
        var keep = names.ToHashSet();
        var roots = outputs.Select(o => b.Visit(RuleFeatures.Expand(o, settings, keep))).ToImmutableArray();
        // Ring slots come after the moving averages; ring lengths are final only now.
        var rings = ImmutableArray.CreateBuilder<LagRing>();
        int slot = b.EmaCount;
        foreach (var len in b.RingLengths) { rings.Add(new LagRing(slot, len)); slot += len; }
        return new RuleProgram(outputs[0], settings, names, [.. b.Uniforms], [.. b.Code], b.RegisterCount, b.EmaCount, rings.ToImmutable(),
            [.. b.Reads], [.. b.RingSources.Select((src, i) => new LagWriteSpec(i, src))], roots);
    }

    /// <summary>A reusable plan buffer for this program.</summary>
    public StepPlan NewPlan() => new(this);

    /// <summary>Fills <paramref name="plan"/> for <paramref name="step"/> (from 1).</summary>
    public void Fill(StepPlan plan, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        plan.Step = step;
        var u = plan.Uniforms;
        for (int i = 0; i < Uniforms.Length; i++)
        {
            u[i] = Uniforms[i] switch
            {
                UniformNode.Constant c => c.Value,
                UniformNode.ScaledStep s => step * s.Scale,
                UniformNode.Coefficient k => plan.Coefficients[k.Index],
                UniformNode.BiasCorrection bc => 1.0 / (1.0 - Math.Pow(bc.Beta, step)),
                UniformNode.Unary un => Ops.Apply(un.Op, u[un.Arg]),
                UniformNode.Binary bi => Ops.Apply(bi.Op, u[bi.Left], u[bi.Right]),
                _ => throw new InvalidOperationException("unknown uniform node"),
            };
            plan.UniformsF[i] = (float)u[i];
        }
        // Ring position p holds the value written at a step s with (s-1) mod K = p; slots never written are zero,
        // which is the value a lag has before the history starts.
        for (int i = 0; i < LagReads.Length; i++)
        {
            var ring = Rings[LagReads[i].Ring];
            plan.LagReadSlots[i] = ring.BaseSlot + Mod(step - 1 - LagReads[i].Lag, ring.Length);
        }
        for (int i = 0; i < LagWrites.Length; i++)
        {
            var ring = Rings[LagWrites[i].Ring];
            plan.LagWriteSlots[i] = ring.BaseSlot + Mod(step - 1, ring.Length);
        }
    }

    private static int Mod(int a, int n) => ((a % n) + n) % n;

    private sealed class Builder(FeatureSettings settings, ImmutableArray<string> coefficients)
    {
        public readonly List<UniformNode> Uniforms = [];
        public readonly List<RuleInstruction> Code = [];
        public readonly List<LagReadSpec> Reads = [];
        public readonly List<int> RingLengths = [];
        public readonly List<Operand> RingSources = [];
        public int RegisterCount;
        public int EmaCount;
        private readonly Dictionary<Expr, Operand> _seen = [];
        private readonly Dictionary<UniformNode, int> _uniformIndex = [];
        private readonly Dictionary<(double, Expr), Operand> _emas = [];
        private readonly Dictionary<Expr, int> _rings = [];
        private readonly Dictionary<(int, int), Operand> _lagReads = [];

        public Operand Visit(Expr e)
        {
            if (_seen.TryGetValue(e, out var known)) return known;
            var result = e switch
            {
                Expr.Const c => Constant(Operand.Uni(Uniform(new UniformNode.Constant(c.Value))), c.Value),
                Expr.Var { Name: RuleFeatures.Step } => Signed(Operand.Uni(Uniform(new UniformNode.ScaledStep(settings.TScale))),
                    settings.TScale > 0 ? Sign.Positive : Sign.Unknown),
                Expr.Var { Name: RuleFeatures.Gradient } => Emit(RuleCode.LoadGrad, null, default, default, 0, 0),
                Expr.Var { Name: RuleFeatures.Parameter } => Emit(RuleCode.LoadParam, null, default, default, 0, 0),
                Expr.Var v when coefficients.Contains(v.Name) => Operand.Uni(Uniform(new UniformNode.Coefficient(coefficients.IndexOf(v.Name)))),
                Expr.Var v => throw new ArgumentException($"unknown feature '{v.Name}'"),
                Expr.Unary u => UnaryOf(u.Op, Visit(u.Arg)),
                Expr.Binary bin => BinaryOf(bin.Op, Visit(bin.Left), Visit(bin.Right)),
                Expr.Ema em => EmaOf(em),
                Expr.Lag l => LagOf(l),
                _ => throw new ArgumentException($"unsupported node {e.GetType().Name}"),
            };
            _seen[e] = result;
            return result;
        }

        private Operand UnaryOf(Op op, Operand a)
        {
            var result = a.IsUniform
                ? Operand.Uni(Uniform(new UniformNode.Unary(op, a.Index)))
                : Emit(RuleCode.Unary, op, a, default, 0, 0, unguarded: (op == Op.Sqrt || op == Op.Log) && SignOf(a) >= Sign.NonNeg);
            if (_constants.TryGetValue(a, out var ca)) return Constant(result, Ops.Apply(op, ca));
            Note(result, UnarySign(op, SignOf(a)));
            return result;
        }

        private Operand BinaryOf(Op op, Operand a, Operand b)
        {
            var result = a.IsUniform && b.IsUniform
                ? Operand.Uni(Uniform(new UniformNode.Binary(op, a.Index, b.Index)))
                : Emit(RuleCode.Binary, op, a, b, 0, 0, unguarded: op == Op.Div && SignOf(b) == Sign.Positive);
            if (_constants.TryGetValue(a, out var ca) && _constants.TryGetValue(b, out var cb))
                return Constant(result, Ops.Apply(op, ca, cb));
            Note(result, BinarySign(op, SignOf(a), SignOf(b), a == b));
            return result;
        }

        // Sign facts are an optimisation (guards that provably never fire are skipped): an operator without one
        // here is simply never unguarded.
        private static Sign BinarySign(Op op, Sign a, Sign b, bool same)
        {
            bool bothNonNeg = a >= Sign.NonNeg && b >= Sign.NonNeg;
            if (op == Op.Add && bothNonNeg) return (Sign)Math.Max((int)a, (int)b);
            // Products and quotients of non-negatives may underflow to zero: non-negative, not positive.
            if ((op == Op.Mul || op == Op.Div) && bothNonNeg) return Sign.NonNeg;
            if (op == Op.Mul && same) return Sign.NonNeg;
            if (op == Op.Max && (a == Sign.Positive || b == Sign.Positive)) return Sign.Positive;
            if (op == Op.Max && (a >= Sign.NonNeg || b >= Sign.NonNeg)) return Sign.NonNeg;
            if (op == Op.Min) return (Sign)Math.Min((int)a, (int)b);
            if (op == Op.Greater) return Sign.NonNeg;
            return Sign.Unknown;
        }

        // What is known about an operand's sign at compile time (NaN never counts as zero, so it is harmless).
        private enum Sign { Unknown, NonNeg, Positive }

        private readonly Dictionary<Operand, Sign> _signs = [];

        // Uniforms whose value is known at compile time (constants and operators over them), for their sign.
        private readonly Dictionary<Operand, double> _constants = [];

        private Operand Constant(Operand o, double value)
        {
            _constants[o] = value;
            Note(o, value > 0 ? Sign.Positive : value == 0 ? Sign.NonNeg : Sign.Unknown);
            return o;
        }

        private Sign SignOf(Operand o) => _signs.TryGetValue(o, out var s) ? s : Sign.Unknown;

        private void Note(Operand o, Sign s)
        {
            if (s != Sign.Unknown) _signs[o] = s;
        }

        private static Sign UnarySign(Op op, Sign arg) =>
            op == Op.Abs || op == Op.Sqrt || op == Op.Square || op == Op.Relu || op == Op.Exp || op == Op.Erfc ? Sign.NonNeg
            : (op == Op.Cube || op == Op.Tanh || op == Op.Sinh || op == Op.Asinh) && arg >= Sign.NonNeg ? Sign.NonNeg
            : Sign.Unknown;

        private Operand EmaOf(Expr.Ema em)
        {
            var arg = Visit(em.Arg);
            // ema and ema_bc of one argument and beta share one moving average.
            if (!_emas.TryGetValue((em.Beta, em.Arg), out var raw))
            {
                raw = Emit(RuleCode.EmaUpdate, null, arg, default, EmaCount++, em.Beta);
                _emas[(em.Beta, em.Arg)] = raw;
                // A convex combination of non-negatives, from zero, stays non-negative.
                if (em.Beta is >= 0 and <= 1 && SignOf(arg) >= Sign.NonNeg) Note(raw, Sign.NonNeg);
            }
            if (!em.BiasCorrected) return raw;
            var correction = Operand.Uni(Uniform(new UniformNode.BiasCorrection(em.Beta)));
            if (em.Beta is >= 0 and < 1) Note(correction, Sign.Positive);
            return BinaryOf(Op.Mul, raw, correction);
        }

        private Operand LagOf(Expr.Lag l)
        {
            if (l.Steps < 0) throw new ArgumentException($"lag({l.Steps}, ...): lags must be non-negative");
            if (l.Steps > MaxLag)
                throw new ArgumentException($"lag({l.Steps}, ...): at most {MaxLag} steps (a lag of k keeps k floats per parameter)");
            var arg = Visit(l.Arg);
            if (l.Steps == 0) return arg;
            if (!_rings.TryGetValue(l.Arg, out var ring))
            {
                ring = RingLengths.Count;
                _rings[l.Arg] = ring;
                RingLengths.Add(0);
                RingSources.Add(arg);
            }
            RingLengths[ring] = Math.Max(RingLengths[ring], l.Steps);
            if (_lagReads.TryGetValue((ring, l.Steps), out var r)) return r;
            Reads.Add(new LagReadSpec(ring, l.Steps));
            r = Emit(RuleCode.LagRead, null, default, default, Reads.Count - 1, 0);
            _lagReads[(ring, l.Steps)] = r;
            return r;
        }

        private int Uniform(UniformNode node)
        {
            if (_uniformIndex.TryGetValue(node, out var i)) return i;
            Uniforms.Add(node);
            return _uniformIndex[node] = Uniforms.Count - 1;
        }

        private Operand Emit(RuleCode code, Op? op, Operand a, Operand b, int index, double beta, bool unguarded = false)
        {
            int dest = RegisterCount++;
            Code.Add(new RuleInstruction(code, dest, op!, a, b, index, beta, unguarded));
            return Operand.Reg(dest);
        }

        private Operand Signed(Operand o, Sign s)
        {
            Note(o, s);
            return o;
        }
    }
}
