using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Evaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// Mean squared error of each candidate on a table, through the compiled SIMD evaluator: the fitness of <c>sr</c>
/// jobs. Candidates are scored in parallel and written by index, so results do not depend on the thread count.
/// </summary>
public sealed class RowMseFitness(RowSelection data) : IFitness
{
    private readonly double _variance = Variance(data.Y);

    public int ObjectiveCount => 1;
    public double BaselineLoss => _variance;
    public bool IsDeterministic => true;

    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        var trees = candidates.ToArray();
        var losses = new double[trees.Length];
        Parallel.For(0, trees.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Threads), CancellationToken = ct },
            () => new EvalWorkspace(),
            (i, _, ws) => { losses[i] = Loss(trees[i], ws); return ws; },
            _ => { });
        losses.CopyTo(objectives);
    }

    private double Loss(Expr tree, EvalWorkspace ws)
    {
        try
        {
            var rule = Compiler.Compile(tree, data.Names);
            double mse = Evaluator.Mse(rule, data.X, data.Rows, data.Y, ws);
            return double.IsFinite(mse) ? mse : double.PositiveInfinity;
        }
        catch (ArgumentException)
        {
            return double.PositiveInfinity; // a rule the table cannot run (e.g. a stateful one) is a bad score, not a crash
        }
    }

    private static double Variance(float[] y)
    {
        if (y.Length == 0) return 0;
        double mean = 0;
        foreach (var v in y) mean += v;
        mean /= y.Length;
        double sum = 0;
        foreach (var v in y) sum += (v - mean) * (v - mean);
        return sum / y.Length;
    }
}
