using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// Greedy pruning of a finished rule: drops operators whose removal (after re-tuning the constants) costs next to no
/// loss, so that a search which hit the target through a detour reports the short form it implies.
/// </summary>
/// <remarks>
/// <code>
/// repeat until no change:
///   for each operator node in preorder, for each of its children c (and the constant 0 in its place):
///     candidate ← tune(simplify(tree with the node replaced by c))
///     if complexity(candidate) &lt; complexity(tree) and loss(candidate) ≤ loss(tree)·(1 + relTol) + absTol:
///       tree ← candidate; restart the scan
/// </code>
/// Deterministic: the scan order is fixed and every step is a pure function of the tree.
/// </remarks>
public static class Pruning
{
    /// <summary>The pruned rule (or <paramref name="tree"/> when nothing can go) and its loss.</summary>
    /// <param name="tree">The rule to shorten.</param>
    /// <param name="grammar">Gives complexities.</param>
    /// <param name="loss">The loss to preserve (e.g. MSE on all rows).</param>
    /// <param name="tune">Re-fits constants after a removal (identity when there is no tuner).</param>
    /// <param name="simplify">Folds constants after a removal.</param>
    /// <param name="absoluteTolerance">Loss a removal may add regardless of scale (e.g. 1e-10 × the target's variance).</param>
    /// <param name="relativeTolerance">Loss a removal may add relative to the current loss.</param>
    /// <param name="maxCandidates">Bound on candidate evaluations, so pruning stays cheap.</param>
    public static (Expr Tree, double Loss) Prune(Expr tree, Grammar grammar, Func<Expr, double> loss, Func<Expr, Expr> tune,
        Func<Expr, Expr> simplify, double absoluteTolerance, double relativeTolerance = 1e-6, int maxCandidates = 400)
    {
        double current = loss(tree);
        if (!double.IsFinite(current)) return (tree, current);
        int budget = maxCandidates;
        bool changed = true;
        while (changed && budget > 0)
        {
            changed = false;
            int complexity = tree.Complexity(grammar);
            foreach (int p in Trees.Positions(tree, n => n is not (Expr.Const or Expr.Var)))
            {
                var node = tree.NodeAt(p);
                foreach (var replacement in node.Children.Append(new Expr.Const(0)))
                {
                    if (budget-- <= 0) break;
                    var candidate = tune(simplify(tree.ReplaceAt(p, replacement)));
                    if (candidate.Complexity(grammar) >= complexity) continue;
                    double l = loss(candidate);
                    if (!(l <= current * (1 + relativeTolerance) + absoluteTolerance)) continue;
                    (tree, current, changed) = (candidate, l, true);
                    break;
                }
                if (changed || budget <= 0) break;
            }
        }
        return (tree, current);
    }
}
