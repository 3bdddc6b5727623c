using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    /// <summary>state[Index] = β*state[Index] + (1-β)*A with β the uniform B; dest = state[Index] (raw, not bias-corrected).</summary>
    EmaUpdate,
    /// <summary>dest = the ring slot holding the value <c>Lag</c> steps ago (slot chosen per step, see <see cref="StepPlan"/>); A is
    /// the operand the ring records.</summary>
    LagRead,
    /// <summary>dest = data column Index (programs compiled over named columns, see <see cref="RuleProgram.CompileOverColumns(Expr, ImmutableArray{string})"/>).</summary>
    LoadColumn,
}

/// <summary>An operand: a per-element register or a uniform (one value per step for all coordinates).</summary>
public readonly record struct Operand
{
    // One int (the index, or its complement for a uniform) rather than a bool and an int: operands are returned by
    // every step of compiling, and a two-field struct is rebuilt through memory each time.
    private readonly int _code;

    // Inlining is asked for: compiling reads operands at every node, and a caller that has used up the JIT's inlining
    // budget would otherwise call these.

    /// <summary>An operand; <paramref name="Index"/> is not negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Operand(bool IsUniform, int Index) => _code = IsUniform ? ~Index : Index;

    /// <summary>True for a uniform, false for a register.</summary>
    public bool IsUniform
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code < 0;
    }

    /// <summary>The register or uniform index.</summary>
    public int Index
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code < 0 ? ~_code : _code;
    }

    /// <summary>The operand as one int (for hashing).</summary>
    internal int Bits => _code;

    /// <summary>Register operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Operand Reg(int i) => new(false, i);

    /// <summary>Uniform operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Operand Uni(int i) => new(true, i);
}

/// <summary>One per-element instruction of a <see cref="RuleProgram"/>.</summary>
/// <param name="Code">What it does.</param>
/// <param name="Dest">The register it writes (registers are numbered in instruction order).</param>
/// <param name="Op">The operator of a <see cref="RuleCode.Unary"/> or <see cref="RuleCode.Binary"/> (null otherwise).</param>
/// <param name="A">First operand; for <see cref="RuleCode.LagRead"/> the operand its ring records.</param>
/// <param name="B">Second operand; for <see cref="RuleCode.EmaUpdate"/> the uniform holding the beta (a constant-table
/// slot for an ema written in the rule, a fixed constant for a feature's).</param>
/// <param name="Index">For <see cref="RuleCode.EmaUpdate"/> the state slot; for <see cref="RuleCode.LagRead"/> the index of its read in <see cref="StepPlan.LagReadSlots"/>.</param>
/// <param name="Unguarded">The operator's guard is provably unnecessary, so executors may skip it: a division whose
/// divisor is positive (such as <c>sqrt(v) + 1e-8</c>; x/0 = 1 costs five extra operators in the TorchSharp chain),
/// or a sqrt or log of a non-negative argument (no |x| needed).</param>
public readonly record struct RuleInstruction(RuleCode Code, int Dest, Op Op, Operand A, Operand B, int Index, bool Unguarded = false)
{
    // The operator by its slot in the operator table, plus one (0: none), as the row evaluator's instructions do, so
    // the instruction is an unmanaged value: compiling copies it into lists, which a reference field makes slow.
    private readonly ushort _op = Key(Op);

    /// <summary>An instruction naming its operator by <see cref="OpKey"/>.</summary>
    internal RuleInstruction(RuleCode code, int dest, ushort opKey, Operand a, Operand b, int index)
        : this(code, dest, null!, a, b, index) => _op = opKey;

    internal static ushort Key(Op? op) => op is null ? (ushort)0 : (ushort)(Ops.Slot(op) + 1);

    /// <summary>The operator (null for loads, ema and lag reads).</summary>
    public Op Op
    {
        get => _op == 0 ? null! : Ops.AtSlot((ushort)(_op - 1));
        init => _op = Key(value);
    }

    /// <summary>The operator's slot plus one (0: none), for comparing instructions without resolving it.</summary>
    internal ushort OpKey => _op;
}

/// <summary>A uniform value: computed once per step in double precision, shared by all coordinates.</summary>
public abstract record UniformNode
{
    private UniformNode() { }

    /// <summary>A fixed constant: part of a feature's definition (ε, the betas of m and v, ...), not of the rule's constant table.</summary>
    public sealed record Constant(double Value) : UniformNode;

    /// <summary>A constant written in the rule: the value of slot <c>Index</c> of <see cref="RuleProgram.Constants"/>.</summary>
    public sealed record Slot(int Index) : UniformNode;

    /// <summary><c>step * scale</c>, the feature <c>t</c>.</summary>
    public sealed record ScaledStep(double Scale) : UniformNode;

    /// <summary>A coefficient: a named scalar supplied by the caller (<see cref="StepPlan.Coefficients"/>, or tensors
    /// in the TorchSharp op chain (<c>OpChainKernel</c>) so that meta-tuning can differentiate with respect to it).</summary>
    public sealed record Coefficient(int Index) : UniformNode;

    /// <summary>The bias correction <c>1/(1 - β^step)</c> of an <c>ema_bc</c>, β being the uniform <c>Beta</c>.</summary>
    public sealed record BiasCorrection(int Beta) : UniformNode;

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

/// <summary>A program as a backend reads it: a <see cref="RuleProgram"/>'s arrays, or the compiler's buffers before any copy.</summary>
internal readonly ref struct RuleProgramView
{
    public RuleProgramView(ImmutableArray<string> columns, Operand root, ReadOnlySpan<RuleInstruction> code, ReadOnlySpan<UniformNode> uniforms,
        ReadOnlySpan<LagReadSpec> lagReads, ReadOnlySpan<double> constants, ReadOnlySpan<ConstantKind> constantKinds)
    {
        Columns = columns; Root = root; Code = code; Uniforms = uniforms; LagReads = lagReads; Constants = constants; ConstantKinds = constantKinds;
    }

    /// <summary>See <see cref="RuleProgram.Columns"/>.</summary>
    public ImmutableArray<string> Columns { get; }

    /// <summary>See <see cref="RuleProgram.Root"/>.</summary>
    public Operand Root { get; }

    /// <summary>Instructions; register r is defined by instruction r (registers are numbered in instruction order).</summary>
    public ReadOnlySpan<RuleInstruction> Code { get; }

    /// <summary>See <see cref="RuleProgram.Uniforms"/>.</summary>
    public ReadOnlySpan<UniformNode> Uniforms { get; }

    /// <summary>See <see cref="RuleProgram.LagReads"/>.</summary>
    public ReadOnlySpan<LagReadSpec> LagReads { get; }

    /// <summary>See <see cref="RuleProgram.Constants"/>.</summary>
    public ReadOnlySpan<double> Constants { get; }

    /// <summary>See <see cref="RuleProgram.ConstantKinds"/>.</summary>
    public ReadOnlySpan<ConstantKind> ConstantKinds { get; }
}

/// <summary>The program the compiler is building, as a <see cref="IRuleProgramSink"/> reads it during one call.</summary>
internal readonly ref struct RuleProgramSoFar
{
    private readonly RuleProgram.Builder _builder;

    internal RuleProgramSoFar(RuleProgram.Builder builder) => _builder = builder;

    /// <summary>The instructions so far; register r is defined by instruction r.</summary>
    public ReadOnlySpan<RuleInstruction> Code => _builder.Code.AsSpan();

    /// <summary>The uniforms so far.</summary>
    public ReadOnlySpan<UniformNode> Uniforms => _builder.Uniforms.AsSpan();

    /// <summary>The lag reads so far.</summary>
    public ReadOnlySpan<LagReadSpec> LagReads => CollectionsMarshal.AsSpan(_builder.Reads);
}

/// <summary>
/// A backend that translates a program over data columns while the compiler builds it, so it needs no pass of its own
/// (see <see cref="RuleProgram.CompileOverColumns{TSink}(Expr, ImmutableArray{string}, ref TSink)"/>).
/// </summary>
internal interface IRuleProgramSink
{
    /// <summary>
    /// The compiler has produced <paramref name="value"/>, the value of one operator, ema or lag node of the rule, and
    /// its defining instruction or uniform is in <paramref name="program"/>. Called for every such node of the tree
    /// in post-order (children first, left to right), once per occurrence even when the program shares the value;
    /// never for a column or a constant of the rule, which its user finds among its operands.
    /// </summary>
    void Node(Operand value, in RuleProgramSoFar program);
}

/// <summary>
/// A rule compiled for execution as an optimizer: a straight-line register program over one coordinate, the
/// uniforms it needs each step, and the exact state it keeps (one slot per distinct moving average, one ring of K
/// slots per distinct lagged subexpression with largest lag K). Both executors (the fused CPU kernel and the
/// TorchSharp operator chain) run this same program, so they agree by construction.
/// </summary>
/// <remarks>
/// The constants written in the rule are not folded into the program: each constant leaf and each written ema's
/// beta is a slot of the constant table <see cref="Constants"/>, numbered in the rule's depth-first, left-to-right
/// order (an ema's beta before its argument: <see cref="Expr.Constants"/> with betas, the order of the row
/// evaluator's constants), so fitting and tuning address the same slots. Uniforms and ema instructions refer to
/// slots, never to copies of their values, and <see cref="WithConstants"/> swaps the values without recompiling.
/// Two equal constants stay two slots, so subtrees holding rule constants are never shared (a written
/// <c>ema(0.95, g)</c> keeps its own moving average beside the feature <c>m</c>); constants inside a feature's
/// definition are fixed and shared.
/// </remarks>
/// <remarks>
/// Compilation (pseudocode):
/// <code>
/// visit the rule depth-first, left to right, sharing equal subtrees that hold no rule constant
/// (common-subexpression elimination by value numbering: an instruction over the same operands is one register):
///   a constant of the rule → the uniform Slot(next slot);  a feature → visit its expansion over g, p, t
///     (RuleFeatures.Expand) with its constants fixed;  t, or an operator over uniforms → a uniform node
///   g → LoadGrad;  p → LoadParam;  op(x[, y]) → Unary/Binary
///   ema(β, x), ema_bc(β, x) → β a uniform (taken before x); one EmaUpdate per distinct (β, x);
///     ema_bc multiplies by the uniform 1/(1-β^t)
///   lag(k, x) → LagRead from the ring of x (ring length = largest k used on x); ring written after all reads
///   over data columns (CompileOverColumns): a variable → LoadColumn of its column, no feature expansion;
///     lag(0, x) stays a LagRead at lag 0
/// mark the guards the constants' signs make unnecessary (Guards; redone by WithConstants)
/// update = value of the root;  θ ← θ + update
/// </code>
/// </remarks>
public sealed class RuleProgram
{
    private readonly Expr _compiledFrom;
    private Expr? _source;

    private RuleProgram(
        Expr source, FeatureSettings settings, ImmutableArray<string> coefficients, ImmutableArray<double> constants, ImmutableArray<ConstantKind> kinds,
        ImmutableArray<UniformNode> uniforms, ImmutableArray<RuleInstruction> code,
        int registers, int emaSlots, ImmutableArray<LagRing> rings, ImmutableArray<LagReadSpec> reads,
        ImmutableArray<LagWriteSpec> writes, ImmutableArray<Operand> outputs, ImmutableArray<string> columns)
    {
        OverColumns = !columns.IsDefault;
        Columns = columns.IsDefault ? [] : columns;
        _compiledFrom = source; Settings = settings; Coefficients = coefficients; Constants = constants; ConstantKinds = kinds;
        Uniforms = uniforms; Code = Guards(uniforms, code, constants, settings); Registers = registers;
        EmaSlots = emaSlots; Rings = rings; LagReads = reads; LagWrites = writes; Outputs = outputs; Root = outputs[0];
    }

    /// <summary>The rule as given (before feature expansion), with the current <see cref="Constants"/>; for a program of
    /// several outputs, the first.</summary>
    public Expr Source => _source ??= _compiledFrom.WithConstants(Constants.AsSpan(), includeBetas: true);

    /// <summary>The constant table: the rule's constant leaves and ema betas, depth-first and left to right (an ema's beta before its argument).</summary>
    public ImmutableArray<double> Constants { get; }

    /// <summary>What each slot of <see cref="Constants"/> is.</summary>
    public ImmutableArray<ConstantKind> ConstantKinds { get; }

    /// <summary>True when compiled over data columns (<see cref="CompileOverColumns(Expr, ImmutableArray{string})"/>) rather than optimizer features.</summary>
    public bool OverColumns { get; }

    /// <summary>The data columns its variables name (empty unless <see cref="OverColumns"/>).</summary>
    public ImmutableArray<string> Columns { get; }

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
        var b = Rent(settings, names, default);
        return b.Finish(rule, [b.Visit(rule, fixedConstants: false)]);
    }

    /// <summary>
    /// Compiles several expressions into one program whose <see cref="Outputs"/> are their values, in order: shared
    /// subexpressions and moving averages are computed and kept once (the teachers' input features: <c>mt</c>,
    /// <c>gt</c> and <c>vs</c> share one <c>v</c>). Throws <see cref="ArgumentException"/> as <see cref="Compile"/> does.
    /// Its constants are fixed (an empty constant table): the table follows the leaves of one rule.
    /// </summary>
    public static RuleProgram CompileOutputs(IReadOnlyList<Expr> outputs, FeatureSettings? settings = null)
    {
        if (outputs.Count == 0) throw new ArgumentException("a program needs at least one output", nameof(outputs));
        var b = Rent(settings ?? FeatureSettings.Default, [], default);
        bool fixedConstants = outputs.Count > 1;
        var roots = new Operand[outputs.Count];
        for (int i = 0; i < roots.Length; i++) roots[i] = b.Visit(outputs[i], fixedConstants);
        return b.Finish(outputs[0], [.. roots]);
    }

    /// <summary>
    /// Compiles <paramref name="rule"/> over data columns rather than optimizer features: every variable is a column of
    /// <paramref name="columns"/> (<see cref="RuleCode.LoadColumn"/>; no feature expansion, so recorded <c>g</c>, <c>m</c> or
    /// <c>mt</c> are plain columns) and the rule's own ema and lag nodes are its state, run along time. This is what the
    /// symbolic-regression row evaluator lowers. A <c>lag(0, x)</c> stays a read at lag 0 (of the current value), so the
    /// tree as written can be rebuilt from the program. Throws <see cref="ArgumentException"/> naming an unknown
    /// variable, an operator with the wrong number of arguments, or a negative or overlong lag.
    /// </summary>
    public static RuleProgram CompileOverColumns(Expr rule, ImmutableArray<string> columns)
    {
        if (columns.IsDefault) throw new ArgumentNullException(nameof(columns));
        var b = Rent(FeatureSettings.Default, [], columns);
        return b.Finish(rule, [b.Visit(rule, fixedConstants: false)]);
    }

    /// <summary>
    /// Compiles <paramref name="rule"/> over <paramref name="columns"/> as <see cref="CompileOverColumns(Expr, ImmutableArray{string})"/>,
    /// telling <paramref name="sink"/> each node's value as it is built (<see cref="IRuleProgramSink.Node"/>), and
    /// returns the program still in the compiler's reused buffers, so a backend that only translates it pays for no
    /// immutable copy and no second pass. The view is valid until the thread compiles again.
    /// Equal subtrees are not shared here (only equal column loads and lag reads are): this serves the row evaluator,
    /// whose postfix program is the tree as written and evaluates a shared value again at each use, so finding
    /// sharing would only cost time on the path that compiles every candidate of a search.
    /// </summary>
    internal static RuleProgramView CompileOverColumns<TSink>(Expr rule, ImmutableArray<string> columns, ref TSink sink)
        where TSink : struct, IRuleProgramSink
    {
        if (columns.IsDefault) throw new ArgumentNullException(nameof(columns));
        var b = Rent(FeatureSettings.Default, [], columns, shareValues: false);
        var root = b.Visit(rule, fixedConstants: false, ref sink);
        return new RuleProgramView(columns, root, b.Code.AsSpan(), b.Uniforms.AsSpan(),
            CollectionsMarshal.AsSpan(b.Reads), b.Constants.AsSpan(), b.Kinds.AsSpan());
    }

    /// <summary>This program as a backend reads it.</summary>
    internal RuleProgramView View => new(Columns, Root, Code.AsSpan(), Uniforms.AsSpan(), LagReads.AsSpan(), Constants.AsSpan(), ConstantKinds.AsSpan());

    /// <summary>
    /// The same program with the constant table set to <paramref name="constants"/> (same count and order as
    /// <see cref="Constants"/>): no recompilation, only the guards that depend on constants' signs are redone.
    /// </summary>
    public RuleProgram WithConstants(ReadOnlySpan<double> constants)
    {
        if (constants.Length != Constants.Length)
            throw new ArgumentException($"expected {Constants.Length} constants, got {constants.Length}", nameof(constants));
        return new RuleProgram(_compiledFrom, Settings, Coefficients, [.. constants], ConstantKinds, Uniforms, Code, Registers, EmaSlots,
            Rings, LagReads, LagWrites, Outputs, OverColumns ? Columns : default);
    }

    /// <summary>The value of a uniform that is a constant (fixed, or a slot of <see cref="Constants"/>), such as an ema's beta.</summary>
    public double ConstantValue(int uniform) => Uniforms[uniform] switch
    {
        UniformNode.Constant c => c.Value,
        UniformNode.Slot s => Constants[s.Index],
        _ => throw new ArgumentException($"uniform {uniform} is not a constant", nameof(uniform)),
    };

    /// <summary>A reusable plan buffer for this program.</summary>
    public StepPlan NewPlan() => new(this);

    /// <summary>Fills <paramref name="plan"/> for <paramref name="step"/> (from 1).</summary>
    public void Fill(StepPlan plan, int step)
    {
        if (OverColumns) throw new InvalidOperationException("a program over data columns is lowered to the row evaluator, not stepped");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        plan.Step = step;
        var u = plan.Uniforms;
        for (int i = 0; i < Uniforms.Length; i++)
        {
            u[i] = Uniforms[i] switch
            {
                UniformNode.Constant c => c.Value,
                UniformNode.Slot s => Constants[s.Index],
                UniformNode.ScaledStep s => step * s.Scale,
                UniformNode.Coefficient k => plan.Coefficients[k.Index],
                UniformNode.BiasCorrection bc => 1.0 / (1.0 - Math.Pow(u[bc.Beta], step)),
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

    // What is known about an operand's sign at compile time (NaN never counts as zero, so it is harmless).
    private enum Sign { Unknown, NonNeg, Positive }

    /// <summary>
    /// Marks the instructions whose guard the signs known at compile time make unnecessary (see
    /// <see cref="RuleInstruction.Unguarded"/>): signs come from the constants' values, the positive step feature,
    /// and operators that preserve them. An operator without a sign fact here is simply never unguarded.
    /// </summary>
    private static ImmutableArray<RuleInstruction> Guards(ImmutableArray<UniformNode> uniforms, ImmutableArray<RuleInstruction> code,
        ImmutableArray<double> constants, FeatureSettings settings)
    {
        var known = new double?[uniforms.Length]; // uniforms whose value is known at compile time
        var uniformSign = new Sign[uniforms.Length];
        for (int i = 0; i < uniforms.Length; i++)
        {
            known[i] = uniforms[i] switch
            {
                UniformNode.Constant c => c.Value,
                UniformNode.Slot s => constants[s.Index],
                UniformNode.Unary un when known[un.Arg] is { } a => Ops.Apply(un.Op, a),
                UniformNode.Binary bi when known[bi.Left] is { } l && known[bi.Right] is { } r => Ops.Apply(bi.Op, l, r),
                _ => null,
            };
            uniformSign[i] = known[i] is { } v ? (v > 0 ? Sign.Positive : v == 0 ? Sign.NonNeg : Sign.Unknown) : uniforms[i] switch
            {
                UniformNode.ScaledStep => settings.TScale > 0 ? Sign.Positive : Sign.Unknown,
                UniformNode.BiasCorrection bc => known[bc.Beta] is >= 0 and < 1 ? Sign.Positive : Sign.Unknown,
                UniformNode.Unary un => UnarySign(un.Op, uniformSign[un.Arg]),
                UniformNode.Binary bi => BinarySign(bi.Op, uniformSign[bi.Left], uniformSign[bi.Right], bi.Left == bi.Right),
                _ => Sign.Unknown,
            };
        }
        var regSign = new Sign[code.Length == 0 ? 0 : code.Max(c => c.Dest) + 1];
        Sign SignOf(Operand o) => o.IsUniform ? uniformSign[o.Index] : regSign[o.Index];
        var result = ImmutableArray.CreateBuilder<RuleInstruction>(code.Length);
        foreach (var ins in code)
        {
            bool unguarded = ins.Code switch
            {
                RuleCode.Unary => (ins.Op == Op.Sqrt || ins.Op == Op.Log) && SignOf(ins.A) >= Sign.NonNeg,
                RuleCode.Binary => ins.Op == Op.Div && SignOf(ins.B) == Sign.Positive,
                _ => false,
            };
            regSign[ins.Dest] = ins.Code switch
            {
                RuleCode.Unary => UnarySign(ins.Op, SignOf(ins.A)),
                RuleCode.Binary => BinarySign(ins.Op, SignOf(ins.A), SignOf(ins.B), ins.A == ins.B),
                // A convex combination of non-negatives, from zero, stays non-negative.
                RuleCode.EmaUpdate => known[ins.B.Index] is >= 0 and <= 1 && SignOf(ins.A) >= Sign.NonNeg ? Sign.NonNeg : Sign.Unknown,
                _ => Sign.Unknown,
            };
            result.Add(ins.Unguarded == unguarded ? ins : ins with { Unguarded = unguarded });
        }
        return result.MoveToImmutable();
    }

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

    private static Sign UnarySign(Op op, Sign arg) =>
        op == Op.Abs || op == Op.Sqrt || op == Op.Square || op == Op.Relu || op == Op.Exp || op == Op.Erfc ? Sign.NonNeg
        : (op == Op.Cube || op == Op.Tanh || op == Op.Sinh || op == Op.Asinh) && arg >= Sign.NonNeg ? Sign.NonNeg
        : Sign.Unknown;

    // A search compiles every candidate it scores, so the builder's buffers are reused per thread and only a
    // materialised program (Finish) allocates; the row evaluator lowers straight from the buffers.
    [ThreadStatic] private static Builder? t_builder;

    private static Builder Rent(FeatureSettings settings, ImmutableArray<string> coefficients, ImmutableArray<string> columns, bool shareValues = true)
    {
        var b = t_builder ??= new Builder();
        b.Reset(settings, coefficients, columns, shareValues);
        return b;
    }

    internal sealed class Builder
    {
        public readonly BufferList<double> Constants = new();
        public readonly BufferList<ConstantKind> Kinds = new();
        public readonly BufferList<UniformNode> Uniforms = new();
        public readonly BufferList<RuleInstruction> Code = new();
        public readonly List<LagReadSpec> Reads = [];
        public readonly List<int> RingLengths = [];
        public readonly List<Operand> RingSources = [];
        public int RegisterCount;
        public int EmaCount;
        private FeatureSettings settings = FeatureSettings.Default;
        private ImmutableArray<string> coefficients = [];
        private ImmutableArray<string> columns; // default: a rule over optimizer features
        // False: every instruction and uniform is new (no value numbering, no shared moving averages); see the
        // row evaluator's CompileOverColumns, nor shared column loads. Lag rings stay shared.
        private bool _shareValues = true;
        private bool _tablesUsed = true;
        private readonly Dictionary<UniformNode, int> _uniformIndex = [];
        private readonly Dictionary<(int, Operand), Operand> _emas = [];
        private readonly Dictionary<Operand, int> _rings = [];
        private readonly Dictionary<(int, int), Operand> _lagReads = [];

        // Common subexpressions are found by value numbering: a pure instruction over the same operands is the same
        // value. Every constant of the rule is a slot of its own, so subtrees holding rule constants are never
        // shared, while constant-free subtrees are shared wherever they occur and a feature's expansions (fixed
        // constants, one uniform per value) among themselves. An open-addressing table keyed on the instruction's
        // fields keeps this to a few comparisons per node, without hashing subtrees. An entry is the compile's stamp
        // (high half) and register + 1 (low half); entries of earlier compiles are empty, so a reset clears nothing.
        private long[] _values = new long[64];
        private uint _stamp;

        // Over columns, each column is loaded once per compile: its register by column, stamped as the value table.
        private long[] _columnRegisters = new long[8];

        public void Reset(FeatureSettings settings, ImmutableArray<string> coefficients, ImmutableArray<string> columns, bool shareValues)
        {
            // Stored only when they change: a search compiles every candidate with the same ones, and a stored
            // reference costs a GC write barrier.
            if (!ReferenceEquals(this.settings, settings)) this.settings = settings;
            if (this.coefficients != coefficients) this.coefficients = coefficients;
            if (this.columns != columns) this.columns = columns;
            _shareValues = shareValues;
            Constants.Clear();
            Kinds.Clear();
            Uniforms.Clear();
            Code.Clear();
            RegisterCount = EmaCount = 0;
            // The tables below are empty unless the last compile had lags, or shared values: a search compiles
            // every candidate over columns, without either, so it skips them.
            if (RingLengths.Count > 0)
            {
                Reads.Clear();
                RingLengths.Clear();
                RingSources.Clear();
                _rings.Clear();
                _lagReads.Clear();
            }
            if (_tablesUsed)
            {
                _uniformIndex.Clear();
                _holdsSlot.Clear();
                _registerHoldsSlot.Clear();
                _emas.Clear();
            }
            _tablesUsed = shareValues;
            if (_values.Length > 1024) _values = new long[64]; // one huge rule should not make every later reset slow
            if (++_stamp == 0)
            {
                Array.Clear(_values);
                Array.Clear(_columnRegisters);
                _stamp = 1;
            }
        }

        public RuleProgram Finish(Expr rule, ImmutableArray<Operand> outputs)
        {
            // Ring slots come after the moving averages; ring lengths are final only now.
            var rings = ImmutableArray.CreateBuilder<LagRing>(RingLengths.Count);
            int slot = EmaCount;
            foreach (var len in RingLengths) { rings.Add(new LagRing(slot, len)); slot += len; }
            return new RuleProgram(rule, settings, coefficients, [.. Constants.AsSpan()], [.. Kinds.AsSpan()], [.. Uniforms.AsSpan()], [.. Code.AsSpan()], RegisterCount, EmaCount,
                rings.MoveToImmutable(), [.. Reads], [.. RingSources.Select((src, i) => new LagWriteSpec(i, src))], outputs, columns);
        }

        /// <summary>Visits <paramref name="e"/>; with <paramref name="fixedConstants"/> its constants are fixed
        /// values (a feature's definition), otherwise each is the next slot of the constant table.</summary>
        public Operand Visit(Expr e, bool fixedConstants)
        {
            var none = default(NoSink);
            return Visit(e, fixedConstants, ref none);
        }

        /// <summary>As <see cref="Visit(Expr, bool)"/>, telling <paramref name="sink"/> each operator, ema and lag
        /// node's value (over columns; a feature's expansion would be told as well).</summary>
        public Operand Visit<TSink>(Expr e, bool fixedConstants, ref TSink sink) where TSink : struct, IRuleProgramSink
        {
            // The shapes of a searched candidate first, each a short call; the rest (features, faults) in VisitOther,
            // so this recursive step keeps a small frame.
            Operand value;
            switch (e)
            {
                case Expr.Binary { Op.Arity: 2 } bin:
                    var left = Child(bin.Left, fixedConstants, ref sink);
                    value = BinaryOf(bin.Op, left, Child(bin.Right, fixedConstants, ref sink));
                    break;
                case Expr.Var v when !columns.IsDefault: return ColumnRegister(v.Name);
                case Expr.Const c when !fixedConstants: return Operand.Uni(Slot(c.Value, ConstantKind.Value));
                case Expr.Unary { Op.Arity: 1 } u:
                    value = UnaryOf(u.Op, Child(u.Arg, fixedConstants, ref sink));
                    break;
                case Expr.Ema em:
                    value = EmaOf(em, fixedConstants, ref sink);
                    break;
                case Expr.Lag l:
                    value = LagOf(l, fixedConstants, ref sink);
                    break;
                default:
                    value = VisitOther(e, fixedConstants, ref sink);
                    break;
            }
            sink.Node(value, new RuleProgramSoFar(this));
            return value;
        }

        // An operand: a column or constant of the rule without the recursive step (half the nodes of a searched
        // tree are such leaves, and the step is the costly part), anything else visited.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Operand Child<TSink>(Expr e, bool fixedConstants, ref TSink sink) where TSink : struct, IRuleProgramSink
        {
            if (e is Expr.Var v && !columns.IsDefault) return ColumnRegister(v.Name);
            if (e is Expr.Const c && !fixedConstants) return Operand.Uni(Slot(c.Value, ConstantKind.Value));
            return Visit(e, fixedConstants, ref sink);
        }

        /// <summary>The sink of a compile whose program is only materialised (<see cref="Finish"/>).</summary>
        private struct NoSink : IRuleProgramSink
        {
            public readonly void Node(Operand value, in RuleProgramSoFar program) { }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand VisitOther<TSink>(Expr e, bool fixedConstants, ref TSink sink) where TSink : struct, IRuleProgramSink
        {
            if (e is Expr.Unary { Op.Arity: not 1 } or Expr.Binary { Op.Arity: not 2 })
            {
                var op = e is Expr.Unary u ? u.Op : ((Expr.Binary)e).Op;
                throw new ArgumentException($"operator {op} takes {op.Arity} argument(s), used with {(e is Expr.Unary ? 1 : 2)}");
            }
            return e switch
            {
                Expr.Const c => Operand.Uni(Uniform(new UniformNode.Constant(c.Value))),
                Expr.Var { Name: RuleFeatures.Step } => Operand.Uni(Uniform(new UniformNode.ScaledStep(settings.TScale))),
                Expr.Var { Name: RuleFeatures.Gradient } => Emit(RuleCode.LoadGrad, null, default, default, 0),
                Expr.Var { Name: RuleFeatures.Parameter } => Emit(RuleCode.LoadParam, null, default, default, 0),
                Expr.Var v when coefficients.Contains(v.Name) => Operand.Uni(Uniform(new UniformNode.Coefficient(coefficients.IndexOf(v.Name)))),
                // Throws naming an unknown feature.
                Expr.Var v => Visit(RuleFeatures.Expand(v, settings), fixedConstants: true, ref sink),
                _ => throw new ArgumentException($"unsupported node {e.GetType().Name}"),
            };
        }

        // Rules are searched over a handful of columns: a scan beats hashing there. A search's trees name their
        // columns by the very strings of the column list, so a scan by reference usually finds them first.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int Column(string name)
        {
            var names = columns.AsSpan();
            for (int i = 0; i < names.Length; i++)
                if (ReferenceEquals(names[i], name)) return i;
            return ColumnByValue(name);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private int ColumnByValue(string name)
        {
            for (int i = 0; i < columns.Length; i++)
                if (string.Equals(columns[i], name, StringComparison.Ordinal)) return i;
            throw new ArgumentException($"unknown variable '{name}' (features: {string.Join(", ", columns)})");
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Operand ColumnRegister(string name)
        {
            int column = Column(name);
            if (_shareValues) return SharedColumnRegister(column);
            // Without sharing, each use of a column is a load of its own (a lowering reads it in place anyway).
            Code.Add(new RuleInstruction(RuleCode.LoadColumn, RegisterCount, 0, default, default, column));
            return Operand.Reg(RegisterCount++);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand SharedColumnRegister(int column)
        {
            if (column >= _columnRegisters.Length) Array.Resize(ref _columnRegisters, Math.Max(column + 1, 2 * _columnRegisters.Length));
            long known = _columnRegisters[column];
            if ((uint)(known >> 32) == _stamp) return Operand.Reg((int)known - 1);
            int dest = RegisterCount++;
            Code.Add(new RuleInstruction(RuleCode.LoadColumn, dest, 0, default, default, column));
            _registerHoldsSlot.Add(false);
            _columnRegisters[column] = ValueEntry(dest);
            return Operand.Reg(dest);
        }

        private int Slot(double value, ConstantKind kind)
        {
            Constants.Add(value);
            Kinds.Add(kind);
            // A slot is used once: it skips the table of known uniforms.
            Uniforms.Add(SlotNode(Constants.Count - 1));
            if (_shareValues) _holdsSlot.Add(true);
            return Uniforms.Count - 1;
        }

        private Operand UnaryOf(Op op, Operand a) => a.IsUniform
            ? Operand.Uni(Uniform(new UniformNode.Unary(op, a.Index)))
            : Emit(RuleCode.Unary, op, a, default, 0);

        private Operand BinaryOf(Op op, Operand a, Operand b) => a.IsUniform && b.IsUniform
            ? Operand.Uni(Uniform(new UniformNode.Binary(op, a.Index, b.Index)))
            : Emit(RuleCode.Binary, op, a, b, 0);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand EmaOf<TSink>(Expr.Ema em, bool fixedConstants, ref TSink sink) where TSink : struct, IRuleProgramSink
        {
            // Depth-first: the beta's slot comes before the argument's constants.
            int beta = fixedConstants ? Uniform(new UniformNode.Constant(em.Beta)) : Slot(em.Beta, ConstantKind.EmaBeta);
            var arg = Child(em.Arg, fixedConstants, ref sink);
            var raw = _shareValues ? SharedEma(beta, arg) : Emit(RuleCode.EmaUpdate, null, arg, Operand.Uni(beta), EmaCount++);
            if (!em.BiasCorrected) return raw;
            return BinaryOf(Op.Mul, raw, Operand.Uni(Uniform(BiasCorrectionNode(beta))));
        }

        // ema and ema_bc of one argument and beta share one moving average (a beta slot has one ema only).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand SharedEma(int beta, Operand arg)
        {
            bool shared = !_holdsSlot[beta];
            if (shared && _emas.TryGetValue((beta, arg), out var raw)) return raw;
            raw = Emit(RuleCode.EmaUpdate, null, arg, Operand.Uni(beta), EmaCount++);
            if (shared) _emas[(beta, arg)] = raw;
            return raw;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand LagOf<TSink>(Expr.Lag l, bool fixedConstants, ref TSink sink) where TSink : struct, IRuleProgramSink
        {
            if (l.Steps < 0) throw new ArgumentException($"lag({l.Steps}, ...): lags must be non-negative");
            if (l.Steps > MaxLag)
                throw new ArgumentException($"lag({l.Steps}, ...): at most {MaxLag} steps (a lag of k keeps k floats per parameter)");
            var arg = Child(l.Arg, fixedConstants, ref sink);
            if (l.Steps == 0 && columns.IsDefault) return arg;
            if (!_rings.TryGetValue(arg, out var ring))
            {
                ring = RingLengths.Count;
                _rings[arg] = ring;
                RingLengths.Add(0);
                RingSources.Add(arg);
            }
            RingLengths[ring] = Math.Max(RingLengths[ring], l.Steps);
            if (_lagReads.TryGetValue((ring, l.Steps), out var r)) return r;
            Reads.Add(new LagReadSpec(ring, l.Steps));
            r = Emit(RuleCode.LagRead, null, arg, default, Reads.Count - 1);
            _lagReads[(ring, l.Steps)] = r;
            return r;
        }

        // Per uniform: it depends on a slot of the constant table. Every slot is used once, so such a uniform is
        // never requested again and skips the table of known uniforms (over columns, every uniform is one).
        private readonly List<bool> _holdsSlot = [];

        private int Uniform(UniformNode node)
        {
            if (_shareValues) return SharedUniform(node);
            Uniforms.Add(node);
            return Uniforms.Count - 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private int SharedUniform(UniformNode node)
        {
            bool holdsSlot = node switch
            {
                UniformNode.Slot => true,
                UniformNode.Unary u => _holdsSlot[u.Arg],
                UniformNode.Binary b => _holdsSlot[b.Left] || _holdsSlot[b.Right],
                UniformNode.BiasCorrection bc => _holdsSlot[bc.Beta],
                _ => false,
            };
            if (!holdsSlot && _uniformIndex.TryGetValue(node, out var i)) return i;
            Uniforms.Add(node);
            _holdsSlot.Add(holdsSlot);
            if (!holdsSlot) _uniformIndex[node] = Uniforms.Count - 1;
            return Uniforms.Count - 1;
        }

        // Slot and bias-correction nodes are immutable values, so the common ones are shared rather than allocated per compile.
        private static readonly UniformNode.Slot[] s_slotNodes = [.. Enumerable.Range(0, 32).Select(i => new UniformNode.Slot(i))];

        private static UniformNode.Slot SlotNode(int index) => index < s_slotNodes.Length ? s_slotNodes[index] : new UniformNode.Slot(index);

        private static readonly UniformNode.BiasCorrection[] s_biasCorrections = [.. Enumerable.Range(0, 32).Select(i => new UniformNode.BiasCorrection(i))];

        private static UniformNode.BiasCorrection BiasCorrectionNode(int beta) =>
            beta < s_biasCorrections.Length ? s_biasCorrections[beta] : new UniformNode.BiasCorrection(beta);

        // Per register: its value depends on a slot of the constant table. Such a register has one user (it is
        // never found again), so an instruction over it cannot equal an earlier one and skips the value table.
        private readonly List<bool> _registerHoldsSlot = [];

        private bool HoldsSlot(Operand o) => o.IsUniform ? _holdsSlot[o.Index] : _registerHoldsSlot[o.Index];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Operand Emit(RuleCode code, Op? op, Operand a, Operand b, int index)
        {
            if (_shareValues) return EmitShared(code, op, a, b, index);
            Code.Add(new RuleInstruction(code, RegisterCount, RuleInstruction.Key(op), a, b, index));
            return Operand.Reg(RegisterCount++);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Operand EmitShared(RuleCode code, Op? op, Operand a, Operand b, int index)
        {
            bool holdsSlot = code switch
            {
                RuleCode.Binary or RuleCode.EmaUpdate => HoldsSlot(a) || HoldsSlot(b),
                RuleCode.Unary or RuleCode.LagRead => HoldsSlot(a),
                _ => false,
            };
            // Moving averages and lag reads are shared by their own tables (keyed on beta and argument, ring and lag).
            bool pure = !holdsSlot && code is not (RuleCode.EmaUpdate or RuleCode.LagRead);
            int mask = _values.Length - 1, at = 0;
            ushort opKey = RuleInstruction.Key(op);
            if (pure)
            {
                for (at = ValueHash(code, opKey, a, b, index) & mask; (uint)(_values[at] >> 32) == _stamp; at = (at + 1) & mask)
                {
                    ref readonly var known = ref Code.AsSpan()[(int)_values[at] - 1];
                    if (known.Code == code && known.OpKey == opKey && known.A == a && known.B == b && known.Index == index)
                        return Operand.Reg(known.Dest);
                }
            }
            int dest = RegisterCount++;
            Code.Add(new RuleInstruction(code, dest, opKey, a, b, index));
            _registerHoldsSlot.Add(holdsSlot);
            if (pure)
            {
                _values[at] = ValueEntry(dest);
                if (2 * RegisterCount > _values.Length) Rehash();
            }
            return Operand.Reg(dest);
        }

        private static int ValueHash(RuleCode code, ushort opKey, Operand a, Operand b, int index)
        {
            // Independent products, not a chain: this sits on every node's path.
            uint h = ((uint)code << 16 | opKey) * 0x9E3779B1u ^ (uint)a.Bits * 0x85EBCA77u ^ (uint)b.Bits * 0xC2B2AE3Du ^ (uint)index * 0x27D4EB2Fu;
            return (int)(h ^ (h >> 15));
        }

        /// <summary>A growable buffer for the compiler's hot appends: no version counter, and no covariant
        /// array-store check for a class element type (the array is exactly a <c>T[]</c>, written through a
        /// reference to its element).</summary>
        public sealed class BufferList<T>
        {
            private T[] _items = new T[16];

            public int Count { get; private set; }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Add(in T item)
            {
                if (Count == _items.Length) Array.Resize(ref _items, 2 * _items.Length);
                Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_items), Count++) = item;
            }

            // Entries past Count are never read, so they are not cleared: they keep at most the last compile's
            // uniform nodes alive, and clearing would cost every compile a call.
            public void Clear() => Count = 0;

            // Count never exceeds the array's length, so the span needs no check.
            public ReadOnlySpan<T> AsSpan() => MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(_items), Count);
        }

        private long ValueEntry(int register) => (long)_stamp << 32 | (uint)(register + 1);

        // Keeps the table at most half full.
        private void Rehash()
        {
            _values = new long[_values.Length * 2];
            int mask = _values.Length - 1;
            foreach (var ins in Code.AsSpan())
            {
                if (ins.Code is RuleCode.EmaUpdate or RuleCode.LagRead || _registerHoldsSlot[ins.Dest]) continue;
                int at = ValueHash(ins.Code, ins.OpKey, ins.A, ins.B, ins.Index) & mask;
                while ((uint)(_values[at] >> 32) == _stamp) at = (at + 1) & mask;
                _values[at] = ValueEntry(ins.Dest);
            }
        }
    }
}
