using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class CrossoverTests
{
    private static IEnumerable<string> Symbols(Expr e) =>
        new[] { e switch { Expr.Const c => "c" + c.Value, Expr.Var v => v.Name, _ => Trees.NestingKey(e)! } }
            .Concat(e.Children.SelectMany(Symbols));

    [Test]
    public void Subtree_ManyPairs_ChildrenHoldExactlyTheParentsSymbols()
    {
        var g = SearchTestKit.Arithmetic(30);
        var rng = new Rng(1);
        for (int i = 0; i < 500; i++)
        {
            var a = TreeGenerator.Grow(ref rng, g, 9, 8);
            var b = TreeGenerator.Grow(ref rng, g, 7, 8);
            var (c, d) = Crossover.Subtree(ref rng, a, b);
            var parents = Symbols(a).Concat(Symbols(b)).Order().ToArray();
            var children = Symbols(c).Concat(Symbols(d)).Order().ToArray();
            Assert.That(children, Is.EqualTo(parents));
            Assert.That(Trees.Size(c) + Trees.Size(d), Is.EqualTo(Trees.Size(a) + Trees.Size(b)));
        }
    }
}
