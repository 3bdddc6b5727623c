using System.Collections.Immutable;
using System.Diagnostics;
using L2OEvolve.Engine.Expressions;
#if EVALUATION_NAMESPACE
using L2OEvolve.Engine.Evaluation; // the row evaluator's folder before it was named RowEvaluation
#else
using L2OEvolve.Engine.RowEvaluation;
#endif
using static L2OEvolve.Engine.Expressions.Expr;

// Time to compile a rule for the row evaluator (Compiler.Compile), per tree: the best ns per call over many batches of
// 2,000 calls (the minimum is what a load spike cannot inflate), and the bytes allocated per call, after all trees
// have been compiled for two seconds.
string[] names = ["x0", "x1", "x2", "x3", "x4"];
ImmutableArray<string> columns = [.. names];
Expr X(int i) => new Var(names[i]);
Expr C(double c) => new Const(c);
Expr B(Op op, Expr l, Expr r) => new Binary(op, l, r);
Expr U(Op op, Expr a) => new Unary(op, a);
(string, Expr)[] trees =
[
    ("arithmetic size-20", B(Op.Sub, B(Op.Mul, B(Op.Sub, B(Op.Add, B(Op.Mul, X(0), X(1)), C(0.5)), B(Op.Div, X(2), B(Op.Add, X(3), C(1.3)))),
        B(Op.Sub, X(4), B(Op.Mul, X(0), C(0.7)))), U(Op.Square, X(1)))),
    ("transcendental size-20", B(Op.Add, B(Op.Mul, U(Op.Exp, U(Op.Neg, U(Op.Square, X(0)))), U(Op.Cos, B(Op.Mul, X(1), C(1.5)))),
        B(Op.Mul, U(Op.Log, B(Op.Add, U(Op.Abs, X(2)), C(1))), U(Op.Tanh, B(Op.Sub, X(3), X(4)))))),
    ("adam (two emas)", B(Op.Div, new Ema(0.9, true, X(0)), B(Op.Add, U(Op.Sqrt, new Ema(0.999, true, U(Op.Square, X(0)))), C(1e-8)))),
    ("(x0+x1)*((x0+x1)-2)", B(Op.Mul, B(Op.Add, X(0), X(1)), B(Op.Sub, B(Op.Add, X(0), X(1)), C(2.0)))),
];
int batches = args.Length > 0 ? int.Parse(args[0]) : 400;
long sink = 0;
// Every rule for two seconds before any is timed: code that only a later rule reaches (ema, lag) must be past the JIT's
// first tier too, which takes its background thread a while on a loaded machine.
for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 2;)
    foreach (var (_, e) in trees)
        for (int i = 0; i < 1000; i++) sink += Compiler.Compile(e, columns).NodeCount;
foreach (var (label, e) in trees)
{
    const int perBatch = 2000;
    double best = double.MaxValue;
    var sw = new Stopwatch();
    for (int b = 0; b < batches; b++)
    {
        sw.Restart();
        for (int i = 0; i < perBatch; i++) sink += Compiler.Compile(e, columns).NodeCount;
        best = Math.Min(best, sw.Elapsed.TotalNanoseconds / perBatch);
    }
    long before = GC.GetAllocatedBytesForCurrentThread();
    for (int i = 0; i < 1000; i++) sink += Compiler.Compile(e, columns).NodeCount;
    long bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000;
    Console.WriteLine($"{label,-24} {best,8:0.0} ns {bytes,6} B");
}
return sink == 42 ? 1 : 0;
