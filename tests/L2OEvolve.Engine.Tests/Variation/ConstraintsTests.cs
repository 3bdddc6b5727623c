using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Variation;

public class ConstraintsTests
{
    private static Expr Exp(Expr e) => new Expr.Unary(Op.Exp, e);

    [Test]
    public void Satisfied_NestedExpForbidden_RejectsExpInsideExp()
    {
        var g = SearchTestKit.Arithmetic(15, new NestingRule("exp", "exp", 0));
        Assert.That(Constraints.Satisfied(Exp(new Expr.Var("x0")), g), Is.True);
        Assert.That(Constraints.Satisfied(Exp(new Expr.Unary(Op.Cos, Exp(new Expr.Var("x0")))), g), Is.False);
    }

    [Test]
    public void Satisfied_MaxCountOne_AllowsOneLevelButNotTwo()
    {
        var g = SearchTestKit.Arithmetic(15, new NestingRule("cos", "cos", 1));
        var x = new Expr.Var("x0");
        Assert.That(Constraints.Satisfied(new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, x)), g), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, new Expr.Unary(Op.Cos, x))), g), Is.False);
    }

    [Test]
    public void Satisfied_SizeDepthFeaturesAndStatefulRanges_AreChecked()
    {
        var g = SearchTestKit.Arithmetic(maxSize: 3);
        var x = new Expr.Var("x0");
        Assert.That(Constraints.Satisfied(new Expr.Binary(Op.Add, x, x), g), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Binary(Op.Add, x, new Expr.Unary(Op.Neg, x)), g), Is.False, "size 4 > 3");
        Assert.That(Constraints.Satisfied(new Expr.Var("nope"), g), Is.False, "unknown feature");
        Assert.That(Constraints.Satisfied(new Expr.Ema(0.9, false, x), g), Is.False, "grammar has no ema");
        var s = SearchTestKit.Stateful();
        Assert.That(Constraints.Satisfied(new Expr.Lag(5, new Expr.Var("g")), s), Is.True);
        Assert.That(Constraints.Satisfied(new Expr.Lag(6, new Expr.Var("g")), s), Is.False, "beyond MaxLag");
    }

    [Test]
    public void Satisfied_RandomTrees_IsEveryLimitCheckedOnItsOwn()
    {
        // The check walks a tree once for size, depth, leaves and stateful ranges; it must say what the separate
        // definitions say, for trees that break any one of them.
        static bool LeavesValid(Expr e, Grammar g) => e switch
        {
            Expr.Var v => g.Features.Contains(v.Name),
            Expr.Const c => double.IsFinite(c.Value),
            Expr.Ema m => g.Stateful.Ema && m.Beta > 0 && m.Beta < 1 && LeavesValid(m.Arg, g),
            Expr.Lag l => g.Stateful.Lag && l.Steps >= 1 && l.Steps <= g.Stateful.MaxLag && LeavesValid(l.Arg, g),
            _ => e.Children.All(child => LeavesValid(child, g)),
        };
        var rng = new Rng(17);
        Grammar[] grammars =
        [
            SearchTestKit.Arithmetic(12, new NestingRule("exp", "exp", 0)) with { Features = ["x", "y"], MaxDepth = 5 },
            SearchTestKit.Stateful() with { Features = ["x", "y", "g"], Stateful = SearchTestKit.Stateful().Stateful with { MaxLag = 2 } },
        ];
        var verdicts = new HashSet<bool>();
        for (int t = 0; t < 2000; t++)
        {
            var g = grammars[t % grammars.Length];
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 1 + t % 18, stateful: t % 3 != 0);
            bool expected = tree.Complexity(g) <= g.MaxSize && tree.Depth() <= g.MaxDepth && Constraints.NestingSatisfied(tree, g) && LeavesValid(tree, g);
            Assert.That(Constraints.Satisfied(tree, g), Is.EqualTo(expected), $"{g.Name}: {tree}");
            verdicts.Add(expected);
        }
        Assert.That(verdicts, Has.Count.EqualTo(2), "both verdicts occur");
    }

    [Test]
    public void Generator_WithNestingRule_NeverProducesForbiddenNesting()
    {
        var g = SearchTestKit.Arithmetic(25, new NestingRule("exp", "exp", 0), new NestingRule("cos", "exp", 0));
        var rng = new Rng(11);
        for (int i = 0; i < 300; i++)
        {
            var tree = TreeGenerator.Grow(ref rng, g, 20, 8);
            Assert.That(Constraints.NestingSatisfied(tree, g), Is.True, tree.ToString());
        }
    }

    [Test]
    public void SatisfiedAndComplexity_OneTreeUnderManyGrammars_AreEachGrammarsOwn()
    {
        // Nodes keep their measures under the grammar that last measured them: a tree checked against one grammar,
        // then another (a `with` copy differing in features, weights or ranges), then edited, must get each one's verdict.
        static bool LeavesValid(Expr e, Grammar g) => e switch
        {
            Expr.Var v => g.Features.Contains(v.Name),
            Expr.Const c => double.IsFinite(c.Value),
            Expr.Ema m => g.Stateful.Ema && m.Beta > 0 && m.Beta < 1 && LeavesValid(m.Arg, g),
            Expr.Lag l => g.Stateful.Lag && l.Steps >= 1 && l.Steps <= g.Stateful.MaxLag && LeavesValid(l.Arg, g),
            _ => e.Children.All(child => LeavesValid(child, g)),
        };
        var stateful = SearchTestKit.Stateful() with { Features = ["x", "y", "g"], MaxSize = 20 };
        Grammar[] grammars =
        [
            stateful,
            stateful with { Features = ["x", "g"] },
            stateful with { Stateful = stateful.Stateful with { MaxLag = 1, Complexity = 3 }, Constants = stateful.Constants with { Complexity = 2 } },
            stateful with { Ops = [.. stateful.Ops.Select(o => o with { Complexity = 2 })], MaxDepth = 4 },
            stateful with { Stateful = StatefulSpec.None },
        ];
        var rng = new Rng(19);
        var verdicts = new HashSet<bool>();
        for (int t = 0; t < 600; t++)
        {
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 1 + t % 16);
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (var g in grammars)
                {
                    bool expected = tree.Complexity(g) <= g.MaxSize && tree.Depth() <= g.MaxDepth && Constraints.NestingSatisfied(tree, g) && LeavesValid(tree, g);
                    Assert.That(Constraints.Satisfied(tree, g), Is.EqualTo(expected), $"{tree} under {Array.IndexOf(grammars, g)}");
                    Assert.That(Trees.Complexity(tree, g), Is.EqualTo(tree.Complexity(g)));
                    verdicts.Add(expected);
                }
                tree = tree.ReplaceAt(rng.NextInt(tree.Size()), L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 3));
            }
        }
        Assert.That(verdicts, Has.Count.EqualTo(2), "both verdicts occur");
    }

    [Test]
    public void NestingSatisfied_RandomTrees_IsTheGrammarsNestingDefinition()
    {
        // Keys are matched by operator slot, nodes no rule names are left off the path, and operators outside the
        // grammar are matched by name: the verdict must be the grammar's own (worst nesting per rule, by names).
        var rng = new Rng(23);
        Grammar[] grammars =
        [
            SearchTestKit.Arithmetic(30, new NestingRule("exp", "exp", 0), new NestingRule("cos", "exp", 1), new NestingRule("*", "cos", 1)),
            // sin and log are not grammar operators here, yet rules name them (a warm start can bring them in).
            SearchTestKit.Stateful() with
            {
                MaxSize = 40,
                Nesting = [new NestingRule("ema", "ema", 0), new NestingRule("lag", "sin", 1), new NestingRule("sin", "log", 0), new NestingRule("/", "/", 2)],
            },
        ];
        var verdicts = new HashSet<bool>();
        for (int t = 0; t < 3000; t++)
        {
            var g = grammars[t % grammars.Length];
            var tree = L2OEvolve.Engine.Tests.Expressions.TestTrees.Random(ref rng, 2 + t % 25, stateful: t % 2 == 1);
            bool expected = !g.Violations(tree).Any(v => v.Contains(" nested "));
            // Half the trees are checked whole first, so their nodes keep measures (which let the walk skip subtrees
            // no rule names); the other half are walked without them.
            if (t % 4 < 2) _ = Constraints.Satisfied(tree, g);
            Assert.That(Constraints.NestingSatisfied(tree, g), Is.EqualTo(expected), $"{g.Name}: {tree}");
            verdicts.Add(expected);
        }
        Assert.That(verdicts, Has.Count.EqualTo(2), "both verdicts occur");
    }
}
