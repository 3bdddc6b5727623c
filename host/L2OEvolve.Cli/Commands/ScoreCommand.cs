using System.CommandLine;
using System.Globalization;
using L2OEvolve.Engine;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Cli.Commands;

/// <summary><c>score</c>: the MSE and R² of one equation (house infix or PySR notation) on a dataset.</summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Dataset: .csv, .npy (+ sidecar), or a trajectory .npy", Required = true };
        var target = new Option<string?>("--target") { Description = "Target column (default: the last column)" };
        var equation = new Option<string>("--equation") { Description = "The equation, e.g. \"x0 * x1 + 0.5\" or \"plus(mult(x0, x1), 0.5)\"", Required = true };
        var dropNonFinite = new Option<bool>("--drop-nonfinite") { Description = "Drop rows with NaN/Inf instead of failing" };
        var cmd = new Command("score", "Print the MSE and R2 of an equation on a dataset.") { data, target, equation, dropNonFinite };
        cmd.SetAction((parse, _) => CommandErrors.Guard(() => Task.FromResult(
            Run(parse.GetValue(data)!, parse.GetValue(target), parse.GetValue(equation)!, parse.GetValue(dropNonFinite)))));
        return cmd;
    }

    private static int Run(string dataPath, string? target, string equationText, bool dropNonFinite)
    {
        var equation = Equations.Parse(equationText, "--equation");
        var variables = equation.Variables();
        // Only the equation's own variables are selected, so NaN handling looks at the columns that matter.
        var problem = RegressionData.Load(dataPath, target, variables.IsEmpty ? null : variables, dropNonFinite);
        if (problem.Fitness.FeatureNames.Length > 0 && equation.IsStateful && !problem.Fitness.IsTrajectory)
            throw new InputException($"'{equation}' uses ema/lag, which needs trajectory data (a .npy with a \"kind\": \"trajectory\" sidecar)", dataPath);
        double mse = problem.Fitness.Loss(equation, new EvalWorkspace());
        Console.WriteLine($"equation {equation}");
        Console.WriteLine($"MSE      {mse.ToString("G9", CultureInfo.InvariantCulture)}");
        Console.WriteLine($"R2       {problem.Fitness.R2(mse).ToString("F6", CultureInfo.InvariantCulture)}");
        return 0;
    }
}
