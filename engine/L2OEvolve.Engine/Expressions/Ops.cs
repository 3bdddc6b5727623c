using System.Collections.Concurrent;

namespace L2OEvolve.Engine.Expressions;

// The built-in operators as named fields, so code and tests write Op.Add, Op.Tanh.
public abstract partial class Op
{
#pragma warning disable CS1591 // the names say it all
    public static readonly Op Add = new AddOp(), Sub = new SubOp(), Mul = new MulOp(), Div = new DivOp(), Pow = new PowOp(),
        Greater = new GreaterOp(), Min = new MinOp(), Max = new MaxOp(), Neg = new NegOp(), Abs = new AbsOp(), Sign = new SignOp(),
        Sqrt = new SqrtOp(), Log = new LogOp(), Exp = new ExpOp(), Tanh = new TanhOp(), Sinh = new SinhOp(), Asinh = new AsinhOp(),
        Erfc = new ErfcOp(), Square = new SquareOp(), Cube = new CubeOp(), Relu = new ReluOp(), Sin = new SinOp(), Cos = new CosOp();
#pragma warning restore CS1591
}

/// <summary>
/// The operator registry: the built-in catalogue plus operators registered at run time (plug-in assemblies and
/// composite <c>"define"</c>s). Parsers, grammar files and checkpoint decoding look names up here.
/// </summary>
/// <remarks>
/// All operators are total on finite inputs except where overflow gives ±Inf (exp, sinh, pow, cube, square, mul):
/// division is protected (x/0 = 1, so x/x = 1 everywhere), sqrt and log act on |x|, and pow is the signed power
/// sign(x)|x|^y used by the paper's PySR runs. Evaluators turn any non-finite result into an infinite loss.
/// Registration is process-wide (operators are code, as loaded assemblies are): a name can be registered once,
/// again only with an operator of the same definition, and never shadows a built-in.
/// </remarks>
public static class Ops
{
    /// <summary>The epsilon inside <c>log(|x| + eps)</c>, as the paper's <c>logm</c>.</summary>
    public const double LogEpsilon = 1e-8;

    /// <summary>The built-in operators; a new one is one file plus one entry here.</summary>
    public static readonly IReadOnlyList<Op> BuiltIn =
    [
        Op.Add, Op.Sub, Op.Mul, Op.Div, Op.Pow, Op.Greater, Op.Min, Op.Max,
        Op.Neg, Op.Abs, Op.Sign, Op.Sqrt, Op.Log, Op.Exp, Op.Tanh, Op.Sinh, Op.Asinh, Op.Erfc, Op.Square, Op.Cube, Op.Relu, Op.Sin, Op.Cos,
        new ErfOp(), new ClipOp(), new SoftsignOp(),
    ];

    private static readonly ConcurrentDictionary<string, Op> Registered = new(StringComparer.OrdinalIgnoreCase);
    private static readonly object Gate = new();

    /// <summary>Every operator: the built-ins, then those registered, in registration order.</summary>
    public static IReadOnlyList<Op> All
    {
        get
        {
            lock (Gate) return s_all;
        }
    }

    private static IReadOnlyList<Op> s_all = BuiltIn;

    /// <summary>
    /// Adds <paramref name="op"/> to the registry. Registering an equal definition again is a no-op (the first
    /// instance stays); a different operator under a taken name, or a built-in's name, is an error.
    /// </summary>
    /// <returns>The registered instance (the earlier one when equal).</returns>
    /// <exception cref="ArgumentException">The name is a built-in's or is taken by a different definition.</exception>
    public static Op Register(Op op)
    {
        ArgumentNullException.ThrowIfNull(op);
        lock (Gate)
        {
            if (FindBuiltIn(op.Name) is { } builtIn)
                throw new ArgumentException($"operator '{op.Name}' would shadow the built-in operator '{builtIn.Name}'");
            if (Registered.TryGetValue(op.Name, out var existing))
            {
                if (existing.Equals(op) || existing.GetType() == op.GetType() && op is not CompositeOp) return existing;
                throw new ArgumentException($"operator '{op.Name}' is already defined differently ({Describe(existing)})");
            }
            Registered[op.Name] = op;
            s_all = [.. s_all, op];
            return op;
        }
    }

    private static string Describe(Op op) => op is CompositeOp c ? $"as {c.Signature} = {c.Body}" : $"by {op.GetType().FullName}";

    private static Op? FindBuiltIn(string name)
    {
        foreach (var op in BuiltIn)
        {
            if (string.Equals(op.Name, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(op.PySrName, name, StringComparison.OrdinalIgnoreCase)
                || op.Alias is { } alias && string.Equals(alias, name, StringComparison.OrdinalIgnoreCase))
                return op;
        }
        return null;
    }

    /// <summary>True when <paramref name="name"/> is a built-in operator's name or spelling.</summary>
    public static bool IsBuiltIn(string name) => FindBuiltIn(name) is not null;

    /// <summary>Looks an operator up by its name, PySR name or alias (case-insensitive), built-ins first.</summary>
    public static bool TryParse(string name, out Op op)
    {
        op = FindBuiltIn(name) ?? (Registered.TryGetValue(name, out var found) ? found : null)!;
        return op is not null;
    }

    // Every operator instance a program was compiled with, by slot (built-ins first, in catalogue order). Grown by
    // copy under the lock, so readers index a stable array without locking.
    private static Op[] s_slots = InitialSlots();

    private static Op[] InitialSlots()
    {
        for (int i = 0; i < BuiltIn.Count; i++) BuiltIn[i].Slot = i;
        return [.. BuiltIn];
    }

    /// <summary>The slot number of <paramref name="op"/> in the operator table, giving it one on first use.</summary>
    internal static ushort Slot(Op op)
    {
        // Compiling asks this per operator node: the common case stays small enough to inline.
        int slot = Volatile.Read(ref op.Slot);
        return slot >= 0 ? (ushort)slot : NewSlot(op);
    }

    private static ushort NewSlot(Op op)
    {
        lock (Gate)
        {
            if (op.Slot < 0)
            {
                if (s_slots.Length >= ushort.MaxValue) throw new InvalidOperationException("more than 65535 distinct operator instances");
                s_slots = [.. s_slots, op];
                Volatile.Write(ref op.Slot, s_slots.Length - 1);
            }
            return (ushort)op.Slot;
        }
    }

    /// <summary>The operator in table slot <paramref name="slot"/>.</summary>
    internal static Op AtSlot(ushort slot) => Volatile.Read(ref s_slots)[slot];

    /// <summary>Reference semantics of a unary operator in double precision.</summary>
    public static double Apply(Op op, double x) => op.Apply(x);

    /// <summary>Reference semantics of a binary operator in double precision.</summary>
    public static double Apply(Op op, double x, double y) => op.Apply(x, y);
}
