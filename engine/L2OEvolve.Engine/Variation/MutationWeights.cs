using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Variation;

/// <summary>The mutations the search can apply; each has one weight in <see cref="MutationWeights"/> and one function in <see cref="Mutations"/>.</summary>
public enum MutationKind
{
    MutateConstant, MutateOperator, MutateFeature, SwapOperands, InsertNode, DeleteNode, ReplaceSubtree, Hoist, Simplify, DoNothing,
}

/// <summary>
/// Relative weights of the mutations (SymbolicRegression.jl's <c>MutationWeights</c>): a kind is drawn with
/// probability weight/total. Adding a mutation is one enum member, one weight here and one arm in <see cref="Mutations.Apply"/>.
/// </summary>
/// <remarks>
/// The defaults follow SR.jl's ordering (operator mutation and insertion most frequent, simplification rare), re-balanced
/// because there is no <c>rotate_tree</c> here and constants are also tuned by the constant optimiser. As in SR.jl, the
/// constant weight is scaled by min(8, #constants)/8 for each tree, so trees without constants never draw it.
/// </remarks>
public sealed record MutationWeights(
    double MutateConstant = 0.35,
    double MutateOperator = 0.5,
    double MutateFeature = 0.3,
    double SwapOperands = 0.05,
    double InsertNode = 0.6,
    double DeleteNode = 0.35,
    double ReplaceSubtree = 0.1,
    double Hoist = 0.05,
    double Simplify = 0.02,
    double DoNothing = 0.1)
{
    /// <summary>The weight of <paramref name="kind"/>.</summary>
    public double this[MutationKind kind] => kind switch
    {
        MutationKind.MutateConstant => MutateConstant,
        MutationKind.MutateOperator => MutateOperator,
        MutationKind.MutateFeature => MutateFeature,
        MutationKind.SwapOperands => SwapOperands,
        MutationKind.InsertNode => InsertNode,
        MutationKind.DeleteNode => DeleteNode,
        MutationKind.ReplaceSubtree => ReplaceSubtree,
        MutationKind.Hoist => Hoist,
        MutationKind.Simplify => Simplify,
        MutationKind.DoNothing => DoNothing,
        _ => 0,
    };

    private static readonly MutationKind[] Kinds = Enum.GetValues<MutationKind>();

    /// <summary>Draws a kind with probability proportional to its weight, the constant weight scaled by the tree's constant count.</summary>
    public MutationKind Sample(ref Rng rng, int constantCount)
    {
        var kinds = Kinds;
        double total = 0;
        foreach (var k in kinds) total += Effective(k, constantCount);
        if (!(total > 0)) return MutationKind.DoNothing;
        double pick = rng.NextDouble() * total;
        foreach (var k in kinds)
        {
            pick -= Effective(k, constantCount);
            if (pick < 0) return k;
        }
        return MutationKind.DoNothing;
    }

    private double Effective(MutationKind k, int constantCount) =>
        Math.Max(0, k == MutationKind.MutateConstant ? this[k] * Math.Min(8, constantCount) / 8.0 : this[k]);
}
