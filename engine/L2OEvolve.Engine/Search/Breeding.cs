using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Search;

/// <summary>A child tree and whether it was drawn for constant tuning.</summary>
public readonly record struct Offspring(Expr Tree, bool Tune);

/// <summary>The variation stage: makes one child from an island. Stateless; explicit RNG.</summary>
public interface IVariation
{
    /// <summary>One child of the members, chosen through <paramref name="selection"/> on <paramref name="costs"/>.</summary>
    Offspring Breed(ref Rng rng, ImmutableArray<Individual> members, ReadOnlySpan<double> costs, ISelection selection, Grammar grammar);
}

/// <summary>
/// With probability <c>CrossoverProbability</c> a subtree crossover of two tournament winners, otherwise one weighted
/// mutation of one winner; a result outside the grammar is retried (up to <c>MaxAttempts</c>), then the parent is copied.
/// </summary>
public sealed record MutateOrCross(VariationSettings Settings, double TuneProbability, Func<Expr, Expr>? Simplify) : IVariation
{
    /// <inheritdoc/>
    public Offspring Breed(ref Rng rng, ImmutableArray<Individual> members, ReadOnlySpan<double> costs, ISelection selection, Grammar grammar)
    {
        Expr parent = members[selection.Select(ref rng, costs)].Tree;
        Expr child = parent;
        if (rng.NextBool(Settings.CrossoverProbability))
        {
            Expr other = members[selection.Select(ref rng, costs)].Tree;
            for (int attempt = 0; attempt < Settings.MaxAttempts; attempt++)
            {
                var (a, b) = Crossover.Subtree(ref rng, parent, other);
                if (Constraints.Satisfied(a, grammar)) { child = a; break; }
                if (Constraints.Satisfied(b, grammar)) { child = b; break; }
            }
        }
        else
        {
            // Every number MutateConstant can move: constants, ema betas and lag steps.
            int constants = Trees.NumberCount(parent);
            for (int attempt = 0; attempt < Settings.MaxAttempts; attempt++)
            {
                var kind = Settings.Weights.Sample(ref rng, constants);
                var candidate = Mutations.Apply(ref rng, kind, parent, grammar, Settings.Temperature, Simplify);
                if (Constraints.Satisfied(candidate, grammar)) { child = candidate; break; }
            }
        }
        return new Offspring(child, rng.NextBool(TuneProbability));
    }
}
