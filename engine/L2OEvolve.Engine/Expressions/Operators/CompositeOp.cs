using System.Buffers;
using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// A user-defined operator whose meaning is an infix body over its parameters and existing operators, such as
/// <c>"softsign2(x)": "x / (1 + abs(x))"</c> in a grammar's or rule file's <c>"define"</c> object. Every backend
/// runs it by expanding the body (span kernels, derivatives by the chain rule, tensor mappings, SymPy); the infix
/// form, LaTeX, halls of fame and checkpoints keep its name.
/// </summary>
public sealed partial class CompositeOp : Op
{
    private CompositeOp(string name, ImmutableArray<string> parameters, Expr body) : base(name, parameters.Length)
    {
        Parameters = parameters;
        Body = body;
    }

    /// <summary>Parameter names, in call order.</summary>
    public ImmutableArray<string> Parameters { get; }

    /// <summary>The definition over <see cref="Parameters"/>.</summary>
    public Expr Body { get; }

    /// <summary><c>name(x, y)</c>.</summary>
    public string Signature => $"{Name}({string.Join(", ", Parameters)})";

    /// <inheritdoc/>
    public override bool FiniteOnFinite => global::L2OEvolve.Engine.Expressions.Simplify.AlwaysFinite(Body);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CompositeOp c && c.Name == Name && c.Parameters.SequenceEqual(Parameters) && c.Body.Equals(Body);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, Body);

    /// <summary>
    /// Reads a <c>"define"</c> object (signature → body), checks it and registers its operators (see <see cref="Ops.Register"/>),
    /// in dependency order so that a body may use operators defined beside it.
    /// </summary>
    /// <returns>The operators, in the object's order.</returns>
    /// <exception cref="FormatException">One line naming the operator and the fault: a malformed signature, a name
    /// that shadows a built-in, an unknown name in a body, an arity mismatch, recursion or a stateful body.</exception>
    public static IReadOnlyList<Op> DefineAll(IReadOnlyList<KeyValuePair<string, string>> defines)
    {
        var heads = new List<(string Name, ImmutableArray<string> Params, string Body)>();
        foreach (var (signature, body) in defines)
        {
            var m = SignatureForm().Match(signature);
            if (!m.Success) throw new FormatException($"define '{signature}': write the name and parameters as name(x) or name(x, y)");
            string name = m.Groups[1].Value;
            var ps = m.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries).ToImmutableArray();
            if (ps.Distinct().Count() != ps.Length) throw new FormatException($"define '{name}': parameter names repeat");
            if (Ops.IsBuiltIn(name) || name is "ema" or "ema_bc" or "lag")
                throw new FormatException($"define '{name}': the name shadows a built-in operator");
            if (heads.Any(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                throw new FormatException($"define '{name}': defined twice");
            heads.Add((name, ps, body ?? ""));
        }
        // Dependencies: a body calling another define must come after it; a cycle is recursion.
        var byName = heads.ToDictionary(h => h.Name, StringComparer.OrdinalIgnoreCase);
        var calls = heads.ToDictionary(h => h.Name, h => Calls().Matches(h.Body).Select(c => c.Groups[1].Value)
            .Where(byName.ContainsKey).Select(n => byName[n].Name).Distinct().ToList(), StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        var state = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); // 1 visiting, 2 done
        void Visit(string n, string from)
        {
            if (state.TryGetValue(n, out int s))
            {
                if (s == 1) throw new FormatException($"define '{from}': recursive definition (through '{n}')");
                return;
            }
            state[n] = 1;
            foreach (var c in calls[n]) Visit(c, n);
            state[n] = 2;
            order.Add(n);
        }
        foreach (var h in heads) Visit(h.Name, h.Name);

        var made = new Dictionary<string, Op>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in order)
        {
            var h = byName[n];
            Expr body;
            try
            {
                body = Infix.Parse(h.Body);
            }
            catch (InputException e)
            {
                throw new FormatException($"define '{h.Name}': {e.Fault}");
            }
            foreach (var node in body.Preorder())
            {
                if (node is Expr.Var v && !h.Params.Contains(v.Name))
                    throw new FormatException($"define '{h.Name}': unknown name '{v.Name}' in the body (parameters: {string.Join(", ", h.Params)})");
                if (node is Expr.Ema or Expr.Lag)
                    throw new FormatException($"define '{h.Name}': the body uses {(node is Expr.Lag ? "lag" : "ema")}; defined operators are pure");
            }
            try
            {
                made[n] = Ops.Register(new CompositeOp(h.Name, h.Params, body));
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"define '{h.Name}': {e.Message}");
            }
        }
        return heads.Select(h => made[h.Name]).ToList();
    }

    /// <summary>The composite operators <paramref name="e"/> uses, directly or through other composites' bodies, each
    /// after the ones its body uses (the order a <c>"define"</c> object can list them in).</summary>
    public static IReadOnlyList<CompositeOp> UsedBy(Expr e)
    {
        var order = new List<CompositeOp>();
        void Walk(Expr tree)
        {
            foreach (var node in tree.Preorder())
            {
                var op = node switch { Expr.Unary u => u.Op, Expr.Binary b => b.Op, _ => null };
                if (op is CompositeOp c && !order.Contains(c))
                {
                    Walk(c.Body);
                    if (!order.Contains(c)) order.Add(c);
                }
            }
        }
        Walk(e);
        return order;
    }

    [GeneratedRegex(@"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)?)\s*\)\s*$")]
    private static partial Regex SignatureForm();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)\s*\(")]
    private static partial Regex Calls();

    // ---- Scalar semantics and derivatives: the body evaluated with dual numbers ----

    private (double V, double Dx, double Dy) Dual(Expr e, double x, double y) => e switch
    {
        Expr.Const c => (c.Value, 0, 0),
        Expr.Var v => v.Name == Parameters[0] ? (x, 1, 0) : (y, 0, 1),
        Expr.Unary u => Chain(u.Op, Dual(u.Arg, x, y)),
        Expr.Binary b => Chain(b.Op, Dual(b.Left, x, y), Dual(b.Right, x, y)),
        _ => throw new InvalidOperationException("composite bodies are pure"),
    };

    private static (double, double, double) Chain(Op op, (double V, double Dx, double Dy) a)
    {
        double v = op.Apply(a.V), d = double.IsNaN(a.V) ? 0 : op.Derivative(a.V, v);
        return (v, d * a.Dx, d * a.Dy);
    }

    private static (double, double, double) Chain(Op op, (double V, double Dx, double Dy) a, (double V, double Dx, double Dy) b)
    {
        double v = op.Apply(a.V, b.V);
        var (p, q) = double.IsNaN(a.V) || double.IsNaN(b.V) ? (0.0, 0.0) : op.Partials(a.V, b.V, v);
        return (v, p * a.Dx + q * b.Dx, p * a.Dy + q * b.Dy);
    }

    /// <inheritdoc/>
    public override double Apply(double x) => Dual(Body, x, 0).V;
    /// <inheritdoc/>
    public override double Apply(double x, double y) => Dual(Body, x, y).V;
    /// <inheritdoc/>
    public override double Derivative(double x, double value) => Dual(Body, x, 0).Dx;
    /// <inheritdoc/>
    public override (double Dx, double Dy) Partials(double x, double y, double value)
    {
        var (_, dx, dy) = Dual(Body, x, y);
        return (dx, dy);
    }

    // ---- Span kernels: the body run node by node over blocks, with pooled temporaries ----

    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, Span<float> d, Span<float> scratch) => Run(x, default, d, scratch);
    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch) => Run(x, y, d, scratch);

    /// <inheritdoc/>
    public override void Kernel(ReadOnlySpan<float> x, float y, Span<float> d, Span<float> scratch)
    {
        var yb = ArrayPool<float>.Shared.Rent(d.Length);
        yb.AsSpan(0, d.Length).Fill(y);
        Run(x, yb.AsSpan(0, d.Length), d, scratch);
        ArrayPool<float>.Shared.Return(yb);
    }

    /// <inheritdoc/>
    public override void Kernel(float x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        var xb = ArrayPool<float>.Shared.Rent(d.Length);
        xb.AsSpan(0, d.Length).Fill(x);
        Run(xb.AsSpan(0, d.Length), y, d, scratch);
        ArrayPool<float>.Shared.Return(xb);
    }

    private void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        int n = d.Length;
        // The arguments are copied first: d may be one of them and is written before the body is done reading.
        var xa = ArrayPool<float>.Shared.Rent(n);
        var ya = Arity == 2 ? ArrayPool<float>.Shared.Rent(n) : null;
        x[..n].CopyTo(xa);
        if (ya is not null) y[..n].CopyTo(ya);
        try
        {
            Eval(Body, xa.AsSpan(0, n), ya is null ? default : ya.AsSpan(0, n), d, scratch);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xa);
            if (ya is not null) ArrayPool<float>.Shared.Return(ya);
        }
    }

    private void Eval(Expr e, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, Span<float> scratch)
    {
        switch (e)
        {
            case Expr.Const c: d.Fill((float)c.Value); break;
            case Expr.Var v: (v.Name == Parameters[0] ? x : y).CopyTo(d); break;
            case Expr.Unary u:
                Eval(u.Arg, x, y, d, scratch);
                u.Op.Kernel(d, d, scratch);
                break;
            case Expr.Binary { Right: Expr.Const rc } b:
                Eval(b.Left, x, y, d, scratch);
                b.Op.Kernel(d, (float)rc.Value, d, scratch);
                break;
            case Expr.Binary { Left: Expr.Const lc } b:
                Eval(b.Right, x, y, d, scratch);
                b.Op.Kernel((float)lc.Value, d, d, scratch);
                break;
            case Expr.Binary b:
                var tmp = ArrayPool<float>.Shared.Rent(d.Length);
                try
                {
                    var t = tmp.AsSpan(0, d.Length);
                    Eval(b.Left, x, y, d, scratch);
                    Eval(b.Right, x, y, t, scratch);
                    b.Op.Kernel(d, t, d, scratch);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(tmp);
                }
                break;
            default: throw new InvalidOperationException("composite bodies are pure");
        }
    }

    // ---- Tensor mapping and SymPy: the body expanded ----

    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x) => Expand(t, Body, x, x);
    /// <inheritdoc/>
    public override T Tensor<T>(ITensorAlgebra<T> t, T x, T y) => Expand(t, Body, x, y);

    private T Expand<T>(ITensorAlgebra<T> t, Expr e, T x, T y) => e switch
    {
        Expr.Const c => t.Constant(x, c.Value),
        Expr.Var v => v.Name == Parameters[0] ? x : y,
        Expr.Unary u => u.Op.Tensor(t, Expand(t, u.Arg, x, y)),
        Expr.Binary b => b.Op.Tensor(t, Expand(t, b.Left, x, y), Expand(t, b.Right, x, y)),
        _ => throw new InvalidOperationException("composite bodies are pure"),
    };

    /// <inheritdoc/>
    public override string SymPy(IReadOnlyList<string> args) => SymPyOf(Body, args);

    private string SymPyOf(Expr e, IReadOnlyList<string> args) => e switch
    {
        Expr.Const c => SymPyAlgebra.Number(c.Value),
        Expr.Var v => v.Name == Parameters[0] ? args[0] : args[1],
        Expr.Unary u => u.Op.SymPy([SymPyOf(u.Arg, args)]),
        Expr.Binary b => b.Op.SymPy([SymPyOf(b.Left, args), SymPyOf(b.Right, args)]),
        _ => throw new InvalidOperationException("composite bodies are pure"),
    };
}
