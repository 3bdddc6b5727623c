using System.Globalization;
using System.Text;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Regression;

/// <summary>
/// How a symbolic-regression run reports its hall of fame (the <c>sr</c> verb and sr jobs alike): rescored on every
/// row, simplified and pruned, then written as a CSV that reads back, a LaTeX table and one-line summaries.
/// </summary>
public static class HallOfFameReport
{
    /// <summary>
    /// The hall of fame as reported: members simplified (constant folding; the value is unchanged on finite inputs, so
    /// -(0.01) * g0 reads as -0.01 * g0 at its true complexity) and scored on every row, since selection may have used
    /// a subset.
    /// </summary>
    /// <remarks>
    /// The three most accurate are also pruned (<see cref="Pruning.Prune"/>): a search that stopped on reaching its
    /// target often carries terms worth 1e-12 of loss, and the short form it implies joins the front at its own complexity.
    /// </remarks>
    public static HallOfFame Rescore(HallOfFame h, MseFitness full, Grammar grammar)
    {
        var ws = new L2OEvolve.Engine.RowEvaluation.EvalWorkspace();
        var scored = HallOfFame.Empty.Update(h.Members.SelectMany(m =>
        {
            var simple = Simplify.Apply(m.Tree);
            return new[] { m.Tree, simple }.Distinct().Select(tree => Scored(m, tree, full.Loss(tree, ws), grammar));
        }));
        var pruned = scored.ParetoFront().OrderBy(m => m.Loss).ThenBy(m => m.Complexity).Take(3).Select(m =>
        {
            var (tree, loss) = Pruning.Prune(m.Tree, grammar, t => full.Loss(t, ws), t => full.Tune(t, CancellationToken.None),
                Simplify.Apply, absoluteTolerance: 1e-10 * full.BaselineLoss, maxCandidates: 150);
            return Scored(m, tree, loss, grammar);
        });
        return scored.Update(pruned.ToList());
    }

    // Under the funnel fitness objective 1 is the imitation loss (MSE / variance), so R2 = 1 − it.
    private static double R2Of(Individual m, MseFitness f) => m.Objectives.Length > 1 ? 1 - m.Objectives[1] : f.R2(m.Loss);

    private static Individual Scored(Individual m, Expr tree, double loss, Grammar grammar) =>
        m with { Tree = tree, Loss = loss, Complexity = tree.Complexity(grammar), Objectives = [loss] };

    /// <summary>One member as a console line: complexity, loss, R², equation.</summary>
    public static string Line(Individual m, MseFitness f) =>
        $"complexity {m.Complexity}  loss {m.Loss.ToString("G4", CultureInfo.InvariantCulture)}  R2 {R2Of(m, f).ToString("F6", CultureInfo.InvariantCulture)}  {m.Tree}";

    /// <summary>The Pareto front as <c>Complexity|Loss|R2|Equation</c> rows (infix equations that <c>score</c> reads back).</summary>
    public static string Csv(IReadOnlyList<Individual> front, MseFitness fitness)
    {
        var sb = new StringBuilder("Complexity|Loss|R2|Equation\n");
        foreach (var m in front)
            sb.Append(CultureInfo.InvariantCulture, $"{m.Complexity}|{m.Loss:R}|{R2Of(m, fitness):R}|{m.Tree}\n");
        return sb.ToString();
    }

    /// <summary>The Pareto front as a booktabs LaTeX table.</summary>
    public static string Tex(IReadOnlyList<Individual> front, MseFitness fitness, string target)
    {
        var sb = new StringBuilder();
        sb.Append("% Pareto front of an l2oevolve sr run; needs \\usepackage{booktabs}\n");
        sb.Append("\\begin{tabular}{@{}rrrl@{}}\n\\toprule\nComplexity & Loss & $R^2$ & Equation \\\\\n\\midrule\n");
        foreach (var m in front)
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Complexity} & {m.Loss:0.###e+0} & {R2Of(m, fitness):F4} & ${Latex.Print(new Expr.Var(target))} = {Latex.Print(m.Tree)}$ \\\\\n");
        sb.Append("\\bottomrule\n\\end{tabular}\n");
        return sb.ToString();
    }

    /// <summary>
    /// The text an sr job reports when asked for its result: the CSV, then the run's size and the chosen and most
    /// accurate equations (the same lines <c>sr</c> prints).
    /// </summary>
    public static string Summary(HallOfFame reported, MseFitness fitness, long generations, long evaluations)
    {
        var sb = new StringBuilder(Csv(reported.ParetoFront(), fitness));
        sb.Append(CultureInfo.InvariantCulture, $"done     {generations} generations, {evaluations} evaluations\n");
        if (reported.Chosen() is { } chosen && reported.MostAccurate() is { } best)
        {
            sb.Append(CultureInfo.InvariantCulture, $"chosen   {Line(chosen, fitness)}\n");
            sb.Append(CultureInfo.InvariantCulture, $"accurate {Line(best, fitness)}\n");
        }
        else sb.Append("no finite candidate was found\n");
        return sb.ToString();
    }
}
