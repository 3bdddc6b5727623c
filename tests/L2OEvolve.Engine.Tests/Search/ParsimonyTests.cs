using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class ParsimonyTests
{

    private static Individual M(int complexity, double loss, long birth) => new(new Expr.Const(birth), loss, complexity, birth, [loss]);

    [Test]
    public void Costs_AdaptiveParsimony_PenalisesCrowdedComplexities()
    {
        var members = new[] { M(3, 1.0, 0), M(7, 1.0, 1) };
        var freq = new Dictionary<int, double> { [3] = 0.9, [7] = 0.1 };
        var costs = Parsimony.Costs(members, 1.0, 0.0, 20, freq);
        Assert.That(costs[0], Is.GreaterThan(costs[1]));
        var plain = Parsimony.Costs(members, 1.0, 0.01, 0, freq);
        Assert.That(plain[1] - plain[0], Is.EqualTo(0.04).Within(1e-12), "parsimony · Δcomplexity");
    }
}
