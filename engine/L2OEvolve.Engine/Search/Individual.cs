using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>One evaluated candidate: its tree, loss (objective 0), complexity and birth stamp (its age, for regularised evolution).</summary>
/// <param name="Tree">The rule.</param>
/// <param name="Loss">The loss selection minimises (+inf when the rule failed numerically).</param>
/// <param name="Complexity">PySR complexity under the search grammar.</param>
/// <param name="Birth">A search-wide, strictly increasing stamp: smaller is older; unique within a search.</param>
/// <param name="Objectives">All objectives the fitness returned (objective 0 equals <paramref name="Loss"/>).</param>
public sealed record Individual(Expr Tree, double Loss, int Complexity, long Birth, ImmutableArray<double> Objectives);
