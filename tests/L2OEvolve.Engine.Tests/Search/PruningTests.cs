using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class PruningTests
{
    private static readonly Expr X0 = new Expr.Var("x0"), X1 = new Expr.Var("x1");

    [Test]
    public void Prune_NegligibleTerm_IsDropped()
    {
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"]);
        var f = new NaiveMseFitness(x, y);
        double Loss(Expr e) { var o = new double[2]; f.Evaluate([e], o, new FitnessRequest(1, 0, 0), default); return o[0]; }
        // x0*x1 + 1e-9*cos(x2): the cosine term is worth ~1e-18 of loss.
        Expr junk = new Expr.Binary(Op.Add, new Expr.Binary(Op.Mul, X0, X1),
            new Expr.Binary(Op.Mul, new Expr.Const(1e-9), new Expr.Unary(Op.Cos, new Expr.Var("x2"))));
        var (pruned, loss) = Pruning.Prune(junk, SearchTestKit.Arithmetic(), Loss, e => e, e => e, absoluteTolerance: 1e-12);
        Assert.That(pruned, Is.EqualTo(new Expr.Binary(Op.Mul, X0, X1)));
        Assert.That(loss, Is.EqualTo(0));
    }

    [Test]
    public void Prune_UsefulTerms_AreKept()
    {
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"] + r["x0"]);
        var f = new NaiveMseFitness(x, y);
        double Loss(Expr e) { var o = new double[2]; f.Evaluate([e], o, new FitnessRequest(1, 0, 0), default); return o[0]; }
        Expr exact = new Expr.Binary(Op.Add, new Expr.Binary(Op.Mul, X0, X1), X0);
        var (pruned, _) = Pruning.Prune(exact, SearchTestKit.Arithmetic(), Loss, e => e, e => e, absoluteTolerance: 1e-12);
        Assert.That(pruned, Is.SameAs(exact));
    }

    [Test]
    public void Prune_WithRetuning_FoldsADetourIntoTheConstant()
    {
        // 2*(x0*x1) - x0*x1 equals x0*x1; dropping the subtraction needs the 2 re-fitted to 1.
        var (x, y) = SearchTestKit.Data(r => r["x0"] * r["x1"]);
        var f = new NaiveMseFitness(x, y);
        double Loss(Expr e) { var o = new double[2]; f.Evaluate([e], o, new FitnessRequest(1, 0, 0), default); return o[0]; }
        var product = new Expr.Binary(Op.Mul, X0, X1);
        Expr detour = new Expr.Binary(Op.Sub, new Expr.Binary(Op.Mul, new Expr.Const(2), product), product);
        var tuner = new GreedyTuner(f);
        var (pruned, loss) = Pruning.Prune(detour, SearchTestKit.Arithmetic(), Loss, e => tuner.Tune(e, default), e => e, absoluteTolerance: 1e-12);
        Assert.That(loss, Is.LessThan(1e-20));
        Assert.That(pruned, Is.EqualTo(product), "2*p - p → 1*p → p");
    }
}
