using System.Collections.Immutable;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Tests.Search;

namespace L2OEvolve.Engine.Tests.Grammars;

public class GrammarTests
{
    /// <summary>The definition: the first listing of the operator, 1 when it is not listed.</summary>
    private static int Listed(Grammar g, Op op) => g.Ops.FirstOrDefault(o => o.Op == op)?.Complexity ?? 1;

    [Test]
    public void ComplexityOf_EveryOperator_IsItsFirstListingOrOne()
    {
        var g = SearchTestKit.Arithmetic() with
        {
            Ops = [new OpSpec(Op.Add, 2), new OpSpec(Op.Exp, 3), new OpSpec(Op.Add, 7), new OpSpec(Op.Sin, 0)],
        };
        foreach (var op in Ops.BuiltIn) Assert.That(g.ComplexityOf(op), Is.EqualTo(Listed(g, op)), op.Name);
        Assert.That((g.ComplexityOf(Op.Add), g.ComplexityOf(Op.Sin), g.ComplexityOf(Op.Cos)), Is.EqualTo((2, 0, 1)));
    }

    [Test]
    public void ComplexityOf_CopyWithOtherOperators_ReadsTheCopysOperators()
    {
        var g = SearchTestKit.Arithmetic() with { Ops = [new OpSpec(Op.Exp, 3)] };
        Assert.That(g.ComplexityOf(Op.Exp), Is.EqualTo(3)); // builds the original's table
        var copy = g with { Ops = [new OpSpec(Op.Exp, 5), new OpSpec(Op.Log, 4)] };
        Assert.That((copy.ComplexityOf(Op.Exp), copy.ComplexityOf(Op.Log)), Is.EqualTo((5, 4)));
        Assert.That((g.ComplexityOf(Op.Exp), g.ComplexityOf(Op.Log)), Is.EqualTo((3, 1)));
    }

    [Test]
    public void Equality_IgnoresTheComplexityTable()
    {
        var asked = SearchTestKit.Arithmetic();
        var fresh = asked with { }; // copied before the table is built
        _ = asked.ComplexityOf(Op.Add);
        Assert.That(asked, Is.EqualTo(fresh));
        Assert.That(asked.GetHashCode(), Is.EqualTo(fresh.GetHashCode()));
    }
}
