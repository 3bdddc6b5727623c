using System.Diagnostics;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using static L2OEvolve.Engine.Expressions.Expr;

var adam = new Binary(Op.Div, new Ema(0.9, true, new Var("x0")), new Binary(Op.Add, new Unary(Op.Sqrt, new Ema(0.999, true, new Unary(Op.Square, new Var("x0")))), new Const(1e-8)));
var cand = new Binary(Op.Add, new Binary(Op.Mul, new Var("x1"), new Var("x2")), new Unary(Op.Cos, new Var("x3")));
string[] names = ["x0", "x1", "x2", "x3"];
var rng = new Random(1);
var cols = names.Select(_ => Enumerable.Range(0, 10000).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
var rule = Compiler.Compile(adam, names);
var crule = Compiler.Compile(cand, names);
var ws = new EvalWorkspace();
var output = new float[10000];
double Best(Action a, int reps)
{
    double best = double.MaxValue;
    for (int r = 0; r < 15; r++)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) a();
        best = Math.Min(best, sw.Elapsed.TotalNanoseconds / reps);
    }
    return best;
}
var warm = Stopwatch.StartNew(); while (warm.ElapsedMilliseconds < 2000) { Evaluator.EvaluateTrajectory(rule, cols, 100, 100, output, ws); Evaluator.EvaluateTrajectory(rule, cols, 1, 10000, output, ws); for (int i = 0; i < 50; i++) { Evaluator.Mse(crule, cols, 200, cols[0], ws); Compiler.Compile(adam, names); } }
Console.WriteLine($"adam 100x100: {Best(() => Evaluator.EvaluateTrajectory(rule, cols, 100, 100, output, ws), 300):F0} ns; adam 1x10k: {Best(() => Evaluator.EvaluateTrajectory(rule, cols, 1, 10000, output, ws), 30):F0} ns; cand mse 200: {Best(() => Evaluator.Mse(crule, cols, 200, cols[0], ws), 3000):F0} ns; compile adam: {Best(() => Compiler.Compile(adam, names), 3000):F0} ns");
