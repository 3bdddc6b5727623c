using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.RowEvaluation;

/// <summary>Random expression trees for property tests: every operator, leaves over the given features.</summary>
internal static class RandomTrees
{
    public static readonly Op[] UnaryOps = Ops.BuiltIn.Where(o => o.Arity == 1).ToArray();
    public static readonly Op[] BinaryOps = Ops.BuiltIn.Where(o => o.Arity == 2).ToArray();

    /// <summary>A tree of exactly <paramref name="size"/> nodes; stateful nodes (ema, lag) appear only when asked.</summary>
    public static Expr Generate(ref Rng rng, int size, IReadOnlyList<string> features, bool stateful = false)
    {
        if (size <= 1)
        {
            return rng.NextBool(0.65)
                ? new Expr.Var(features[rng.NextInt(features.Count)])
                : new Expr.Const(Math.Round(rng.NextDouble() * 6 - 3, 3));
        }
        int kind = rng.NextInt(stateful ? 4 : 2);
        if (size == 2 || kind == 0)
        {
            var op = UnaryOps[rng.NextInt(UnaryOps.Length)];
            return new Expr.Unary(op, Generate(ref rng, size - 1, features, stateful));
        }
        if (kind == 2) return new Expr.Ema(0.05 + 0.9 * rng.NextDouble(), rng.NextBool(), Generate(ref rng, size - 1, features, stateful));
        if (kind == 3) return new Expr.Lag(rng.NextInt(4), Generate(ref rng, size - 1, features, stateful));
        int left = 1 + rng.NextInt(size - 2);
        var bop = BinaryOps[rng.NextInt(BinaryOps.Length)];
        return new Expr.Binary(bop, Generate(ref rng, left, features, stateful), Generate(ref rng, size - 1 - left, features, stateful));
    }

    public static int Size(Expr e) => 1 + e.Children.Sum(Size);
}

/// <summary>A compact prefix rendering for assertion messages (the project's printers live elsewhere).</summary>
internal static class Show
{
    public static string Of(Expr e) => e switch
    {
        Expr.Const c => c.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Expr.Var v => v.Name,
        Expr.Unary u => $"{u.Op.Symbol}({Of(u.Arg)})",
        Expr.Binary b => $"{b.Op}({Of(b.Left)}, {Of(b.Right)})",
        Expr.Ema m => $"ema({m.Beta:R}{(m.BiasCorrected ? ", bc" : "")}, {Of(m.Arg)})",
        Expr.Lag l => $"lag({l.Steps}, {Of(l.Arg)})",
        _ => e.ToString(),
    };
}
