using System.Runtime.CompilerServices;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// One pure operator of the rule language, defined once: name, arity, default complexity, scalar reference
/// semantics, float32 span kernels, derivatives, tensor mapping, simplification identities and printers. Every
/// backend (row evaluator, forward mode, fused kernel, TorchSharp op chain, code generators, printers) dispatches
/// through these members, so an operator is added by writing one subclass and listing it in <see cref="Ops"/>
/// (or, from outside the engine, by registering it: a plug-in assembly or a composite <c>"define"</c>).
/// </summary>
/// <remarks>
/// <para>Instances are immutable singletons compared by reference; a tree node holds the instance itself, so
/// dispatch is one virtual call per node or per block of rows, never a name lookup.</para>
/// <para>Only <see cref="Apply(double)"/> (or the binary overload) and <see cref="Tensor{T}(ITensorAlgebra{T}, T)"/>
/// (or its binary overload) must be written; every other member has a correct, slower default built on them
/// (scalar loops for the span kernels, a central difference for the derivative), which an operator overrides for
/// speed or accuracy.</para>
/// </remarks>
public abstract partial class Op
{
    /// <summary>Creates an operator written <paramref name="name"/> (function name or infix symbol) taking <paramref name="arity"/> arguments.</summary>
    /// <param name="pySrName">The name PySR uses in prefix notation (defaults to <paramref name="name"/>).</param>
    /// <param name="alias">A further accepted spelling (defaults to none).</param>
    protected Op(string name, int arity, string? pySrName = null, string? alias = null) : this(name, arity, pySrName, alias, null) { }

    private protected Op(string name, int arity, string? pySrName, string? alias, ulong? hashId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (arity is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(arity), arity, "operators take 1 or 2 arguments");
        Name = name;
        Arity = arity;
        PySrName = pySrName ?? name;
        Alias = alias;
        HashId = hashId ?? NameHash(name);
    }

    /// <summary>Infix symbol (<c>+</c>) or function name (<c>tanh</c>) used by the infix printer and parser.</summary>
    public string Name { get; }

    /// <summary>The same as <see cref="Name"/> (the word the printers and grammar files use).</summary>
    public string Symbol => Name;

    /// <summary>The name PySR uses in prefix notation (<c>plus</c>, <c>mult</c>, <c>sqrtm</c>).</summary>
    public string PySrName { get; }

    /// <summary>A further accepted spelling (for example the long name <c>Add</c>), or null.</summary>
    public string? Alias { get; }

    /// <summary>1 or 2.</summary>
    public int Arity { get; }

    /// <summary>True for operators written between their operands (<c>+ - * /</c>).</summary>
    public virtual bool IsInfix => false;

    /// <summary>Binding strength of an infix operator (1 sums, 2 products); 0 for functions.</summary>
    public virtual int Precedence => 0;

    /// <summary>Complexity a grammar gives the operator when it names no other.</summary>
    public virtual int DefaultComplexity => 1;

    /// <summary>Slot in the process's operator table (<see cref="Ops.Slot"/>), so compiled programs can name the
    /// operator by a small number (an unmanaged instruction) rather than a reference; -1 until first needed.</summary>
    internal int Slot = -1;

    /// <summary>A number identifying the operator in structural hashes; built-ins keep their historical numbers, others hash their name.</summary>
    public ulong HashId { get; }

    /// <summary>True when a finite argument always gives a finite value (exp, sinh, square and cube can overflow).</summary>
    public virtual bool FiniteOnFinite => Arity == 1;

    /// <summary>True when the value is finite whatever the arguments (<c>greater</c>).</summary>
    public virtual bool AlwaysFinite => false;

    // ---- Scalar reference semantics (double precision) ----

    /// <summary>Reference semantics of a unary operator.</summary>
    public virtual double Apply(double x) => throw new InvalidOperationException($"operator '{Name}' takes {Arity} arguments, not 1");

    /// <summary>Reference semantics of a binary operator.</summary>
    public virtual double Apply(double x, double y) => throw new InvalidOperationException($"operator '{Name}' takes {Arity} arguments, not 2");

    // ---- Derivatives (forward mode, constant fitting) ----

    /// <summary>d op / dx at <paramref name="x"/>, where <paramref name="value"/> = op(x) (finite x only).</summary>
    public virtual double Derivative(double x, double value)
    {
        double h = 1e-6 * Math.Max(1.0, Math.Abs(x));
        return (Apply(x + h) - Apply(x - h)) / (2 * h);
    }

    /// <summary>The partials (∂/∂x, ∂/∂y) at (x, y), where <paramref name="value"/> = op(x, y).</summary>
    public virtual (double Dx, double Dy) Partials(double x, double y, double value)
    {
        double hx = 1e-6 * Math.Max(1.0, Math.Abs(x)), hy = 1e-6 * Math.Max(1.0, Math.Abs(y));
        return ((Apply(x + hx, y) - Apply(x - hx, y)) / (2 * hx), (Apply(x, y + hy) - Apply(x, y - hy)) / (2 * hy));
    }

    /// <summary>v = op(x) and d = op'(x) over a block (v may be x itself); a NaN argument gets derivative 0.</summary>
    public virtual void ValueAndDerivative(ReadOnlySpan<double> x, Span<double> v, Span<double> d)
    {
        for (int r = 0; r < v.Length; r++)
        {
            double xr = x[r], vr = Apply(xr);
            d[r] = double.IsNaN(xr) ? 0 : Derivative(xr, vr);
            v[r] = vr;
        }
    }

    /// <summary>v = op(x, y) and its partials over a block (v may be x or y itself).</summary>
    public virtual void ValueAndPartials(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> v, Span<double> dx, Span<double> dy)
    {
        for (int r = 0; r < v.Length; r++)
        {
            double xr = x[r], yr = y[r], vr = Apply(xr, yr);
            (dx[r], dy[r]) = double.IsNaN(xr) || double.IsNaN(yr) ? (0, 0) : Partials(xr, yr, vr);
            v[r] = vr;
        }
    }

    // ---- float32 span kernels (row evaluator, fused optimizer kernel) ----
    // Each allows d to be exactly one of its sources and writes element i only after reading element i.

    /// <summary>d = op(x) element-wise; <paramref name="scratch"/> (length ≥ d) may be clobbered.</summary>
    public virtual void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch)
    {
        for (int i = 0; i < d.Length; i++) d[i] = (float)Apply(x[i]);
    }

    /// <summary>d = op(x, y) element-wise; <paramref name="scratch"/> (length ≥ d) may be clobbered.</summary>
    public virtual void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        for (int i = 0; i < d.Length; i++) d[i] = (float)Apply(x[i], y[i]);
    }

    /// <summary>d = op(x, y) with a broadcast right operand.</summary>
    public virtual void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch)
    {
        for (int i = 0; i < d.Length; i++) d[i] = (float)Apply(x[i], y);
    }

    /// <summary>d = op(x, y) with a broadcast left operand.</summary>
    public virtual void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        for (int i = 0; i < d.Length; i++) d[i] = (float)Apply(x, y[i]);
    }

    // ---- Tensor mapping (TorchSharp op chain, meta-tuning, generated code) ----

    /// <summary>The operator over tensors (or tensor code) of one argument, built from the algebra's primitives.</summary>
    public virtual T Tensor<T>(ITensorAlgebra<T> t, T x) => throw new InvalidOperationException($"operator '{Name}' takes {Arity} arguments, not 1");

    /// <summary>The operator over tensors of two arguments (either may be a broadcast 0-dim tensor).</summary>
    public virtual T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => throw new InvalidOperationException($"operator '{Name}' takes {Arity} arguments, not 2");

    // ---- Simplification ----

    /// <summary>This node rewritten by the operator's identities (children already simplified), or the node itself.</summary>
    /// <remarks>Identities must hold for every finite input under the reference semantics (see <see cref="L2OEvolve.Engine.Expressions.Simplify"/>).</remarks>
    public virtual Expr Simplify(Expr.Unary node) => node;

    /// <summary>This node rewritten by the operator's identities, or the node itself.</summary>
    public virtual Expr Simplify(Expr.Binary node) => node;

    // ---- Printers ----

    /// <summary>LaTeX for <paramref name="node"/> from its already rendered arguments (default: <c>\operatorname{name}(...)</c>).</summary>
    public virtual LatexPiece Latex(Expr node, IReadOnlyList<LatexPiece> args) =>
        new($@"\operatorname{{{Name.Replace("_", @"\_")}}}{LatexPiece.Parens(string.Join(", ", args.Select(a => a.Text)))}", LatexPiece.Atom);

    /// <summary>SymPy source (module <c>sp</c>) for the operator over SymPy expressions.</summary>
    public virtual string SymPy(IReadOnlyList<string> args) => Tensor(SymPyAlgebra.Instance, args);

    /// <summary>The tensor mapping applied to one or two arguments by arity.</summary>
    public T Tensor<T>(ITensorAlgebra<T> t, IReadOnlyList<T> args) => Arity == 1 ? Tensor(t, args[0]) : Tensor(t, args[0], args[1]);

    /// <summary>The name, as printed.</summary>
    public sealed override string ToString() => Name;

    /// <summary>A stable hash of an operator name (FNV-1a), for <see cref="HashId"/>.</summary>
    protected static ulong NameHash(string name)
    {
        ulong h = 0xCBF2_9CE4_8422_2325UL;
        foreach (char ch in name) h = (h ^ ch) * 0x0000_0100_0000_01B3UL;
        return h | 0x8000_0000_0000_0000UL; // never one of the built-ins' small numbers
    }

    /// <summary>-1, 0 or 1; NaN stays NaN (Math.Sign throws on NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SignOf(double x) => double.IsNaN(x) ? double.NaN : Math.Sign(x);
}
