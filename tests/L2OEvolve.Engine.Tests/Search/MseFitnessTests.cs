using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class MseFitnessTests
{
    private static readonly Expr X = new Expr.Var("x");

    private static MseFitness Linear(int rows = 3000) => Linear(rows, out _);

    private static MseFitness Linear(int rows, out double mean)
    {
        var x = Enumerable.Range(0, rows).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        var y = x.Select(v => -0.01f * v + 0.25f).ToArray();
        mean = y.Average(v => (double)v);
        return MseFitness.Rows(["x"], [x], y);
    }

    [Test]
    public void Evaluate_BatchInParallel_WritesEachLossAtItsIndex()
    {
        var f = Linear(3000, out double mean);
        Expr exact = new Expr.Binary(Op.Add, new Expr.Binary(Op.Mul, new Expr.Const(-0.01), X), new Expr.Const(0.25));
        Expr[] batch = [X, exact, new Expr.Var("nope"), new Expr.Ema(0.9, false, X), new Expr.Const(mean)];
        var losses = new double[batch.Length];
        f.Evaluate(batch, losses, new FitnessRequest(2, 0, 0), CancellationToken.None);
        Assert.That(losses[0], Is.GreaterThan(0.1));
        Assert.That(losses[1], Is.LessThan(1e-12));
        Assert.That(losses[2], Is.EqualTo(double.PositiveInfinity), "unknown feature");
        Assert.That(losses[3], Is.EqualTo(double.PositiveInfinity), "stateful rule on row data");
        Assert.That(losses[4], Is.EqualTo(f.BaselineLoss).Within(1e-9), "the constant mean scores the variance");
        Assert.That(f.R2(losses[4]), Is.EqualTo(0).Within(1e-6));
    }

    [Test]
    public void Tune_WrongConstants_AreFittedOnTheSubsample()
    {
        var f = Linear();
        Expr guess = new Expr.Binary(Op.Add, new Expr.Binary(Op.Mul, new Expr.Const(1.0), X), new Expr.Const(0.0));
        var tuned = f.Tune(guess, CancellationToken.None);
        var c = tuned.Constants();
        Assert.That(c[0], Is.EqualTo(-0.01).Within(1e-5));
        Assert.That(c[1], Is.EqualTo(0.25).Within(1e-5));
        Assert.That(f.Loss(tuned, new EvalWorkspace()), Is.LessThan(1e-10));
    }

    [Test]
    public void Tune_NoConstants_ReturnsTheSameTree()
    {
        Assert.That(Linear().Tune(X, CancellationToken.None), Is.SameAs(X));
    }

    [Test]
    public void Trajectories_EmaRule_ScoresAlongTimeAndTunesBeta()
    {
        int coords = 40, steps = 60;
        var g = new float[coords * steps];
        var y = new float[coords * steps];
        var rng = new L2OEvolve.Engine.Random.Rng(3);
        var m = new double[coords];
        for (int t = 0; t < steps; t++)
            for (int c = 0; c < coords; c++)
            {
                double v = rng.NextGaussian();
                m[c] = 0.8 * m[c] + 0.2 * v;
                g[t * coords + c] = (float)v;
                y[t * coords + c] = (float)m[c];
            }
        var f = MseFitness.Trajectories(["g"], [g], y, coords, steps);
        var exact = new Expr.Ema(0.8, false, new Expr.Var("g"));
        Assert.That(f.Loss(exact, new EvalWorkspace()), Is.LessThan(1e-12));
        var tuned = (Expr.Ema)f.Tune(exact with { Beta = 0.6 }, CancellationToken.None);
        Assert.That(tuned.Beta, Is.EqualTo(0.8).Within(1e-4));
    }
}
