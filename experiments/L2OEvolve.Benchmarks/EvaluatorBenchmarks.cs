using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;
using static L2OEvolve.Engine.Expressions.Expr;

namespace L2OEvolve.Benchmarks;

/// <summary>The expressions, data and hand-written loops shared by the BenchmarkDotNet suite and the quick timer.</summary>
public sealed class EvaluatorCases
{
    public const int Rows = 10_000;
    public const int CandidateRows = 200;
    public static readonly string[] Names = ["x0", "x1", "x2", "x3", "x4"];

    private static Expr X(int i) => new Var(Names[i]);
    private static Expr C(double c) => new Const(c);
    private static Expr B(Op op, Expr l, Expr r) => new Binary(op, l, r);
    private static Expr U(Op op, Expr a) => new Unary(op, a);

    /// <summary>((x0*x1 + 0.5) - x2/(x3 + 1.3)) * (x4 - x0*0.7) - square(x1): 20 nodes of + - * / square.</summary>
    public static readonly Expr Arithmetic =
        B(Op.Sub,
            B(Op.Mul,
                B(Op.Sub, B(Op.Add, B(Op.Mul, X(0), X(1)), C(0.5)), B(Op.Div, X(2), B(Op.Add, X(3), C(1.3)))),
                B(Op.Sub, X(4), B(Op.Mul, X(0), C(0.7)))),
            U(Op.Square, X(1)));

    /// <summary>exp(neg(square(x0))) * cos(x1*1.5) + log(abs(x2) + 1) * tanh(x3 - x4): 20 nodes, 4 transcendental.</summary>
    public static readonly Expr Transcendental =
        B(Op.Add,
            B(Op.Mul, U(Op.Exp, U(Op.Neg, U(Op.Square, X(0)))), U(Op.Cos, B(Op.Mul, X(1), C(1.5)))),
            B(Op.Mul, U(Op.Log, B(Op.Add, U(Op.Abs, X(2)), C(1))), U(Op.Tanh, B(Op.Sub, X(3), X(4)))));

    /// <summary>SymbolicRegression.jl's candidate-throughput example.</summary>
    public static readonly Expr Candidate = B(Op.Add, B(Op.Mul, X(1), X(2)), U(Op.Cos, X(3)));

    /// <summary>Adam's direction: ema(0.9, g) / (sqrt(ema(0.999, g*g)) + 1e-8), bias corrected (8 nodes), over a trajectory.</summary>
    public static readonly Expr Adam =
        B(Op.Div, new Ema(0.9, true, X(0)), B(Op.Add, U(Op.Sqrt, new Ema(0.999, true, U(Op.Square, X(0)))), C(1e-8)));

    public readonly CompiledRule AdamRule = Compiler.Compile(Adam, Names);

    public readonly float[][] Columns;
    public readonly float[] Target;
    public readonly float[] Output = new float[Rows];
    public readonly EvalWorkspace Workspace;
    public readonly CompiledRule ArithmeticRule = Compiler.Compile(Arithmetic, Names);
    public readonly CompiledRule TranscendentalRule = Compiler.Compile(Transcendental, Names);
    public readonly CompiledRule CandidateRule = Compiler.Compile(Candidate, Names);
    public readonly CompiledRule[] RandomArithmetic;

    public EvaluatorCases(int blockSize = EvalWorkspace.DefaultBlockSize)
    {
        Workspace = new EvalWorkspace(blockSize);
        var rng = new Rng(2022);
        Columns = Names.Select(_ => Enumerable.Range(0, Rows).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray()).ToArray();
        Target = Enumerable.Range(0, Rows).Select(_ => (float)rng.NextGaussian()).ToArray();
        RandomArithmetic = Enumerable.Range(0, 16).Select(_ => Compiler.Compile(RandomArithmeticTree(ref rng, 20), Names)).ToArray();
    }

    /// <summary>A random tree of exactly <paramref name="size"/> nodes over + - * / (binary) and neg/square (unary).</summary>
    private static Expr RandomArithmeticTree(ref Rng rng, int size)
    {
        if (size == 1) return rng.NextBool(0.7) ? X(rng.NextInt(Names.Length)) : C(Math.Round(rng.NextDouble() * 4 - 2, 2));
        if (size == 2 || rng.NextBool(0.1))
            return U(rng.NextBool() ? Op.Neg : Op.Square, RandomArithmeticTree(ref rng, size - 1));
        Op[] ops = [Op.Add, Op.Sub, Op.Mul, Op.Div];
        int left = 1 + rng.NextInt(size - 2);
        return B(ops[rng.NextInt(4)], RandomArithmeticTree(ref rng, left), RandomArithmeticTree(ref rng, size - 1 - left));
    }

    public bool EvalArithmetic() => Evaluator.Evaluate(ArithmeticRule, Columns, Rows, Output, Workspace);

    public bool EvalTranscendental() => Evaluator.Evaluate(TranscendentalRule, Columns, Rows, Output, Workspace);

    public bool EvalRandomArithmetic()
    {
        bool ok = true;
        foreach (var r in RandomArithmetic) ok &= Evaluator.Evaluate(r, Columns, Rows, Output, Workspace);
        return ok;
    }

    public bool EvalCandidate() => Evaluator.Evaluate(CandidateRule, Columns, CandidateRows, Output, Workspace);

    public double MseCandidate() => Evaluator.Mse(CandidateRule, Columns, CandidateRows, Target, Workspace);

    /// <summary>What a search pays per new candidate: compile the tree, then its loss on 200 rows.</summary>
    public double CompileAndMseCandidate() =>
        Evaluator.Mse(Compiler.Compile(Candidate, Names), Columns, CandidateRows, Target, Workspace);

    /// <summary>Compiling the size-20 arithmetic tree alone.</summary>
    public int CompileArithmetic() => Compiler.Compile(Arithmetic, Names).NodeCount;

    /// <summary><see cref="Arithmetic"/> as a plain C# loop (protected division included).</summary>
    public float HandArithmetic()
    {
        float[] x0 = Columns[0], x1 = Columns[1], x2 = Columns[2], x3 = Columns[3], x4 = Columns[4], o = Output;
        for (int i = 0; i < Rows; i++)
        {
            float den = x3[i] + 1.3f;
            float q = den == 0f ? 1f : x2[i] / den;
            o[i] = (x0[i] * x1[i] + 0.5f - q) * (x4[i] - x0[i] * 0.7f) - x1[i] * x1[i];
        }
        return o[Rows - 1];
    }

    /// <summary><see cref="Transcendental"/> as a plain C# loop.</summary>
    public float HandTranscendental()
    {
        float[] x0 = Columns[0], x1 = Columns[1], x2 = Columns[2], x3 = Columns[3], x4 = Columns[4], o = Output;
        for (int i = 0; i < Rows; i++)
        {
            o[i] = MathF.Exp(-(x0[i] * x0[i])) * MathF.Cos(x1[i] * 1.5f)
                + MathF.Log(MathF.Abs(MathF.Abs(x2[i]) + 1f) + 1e-8f) * MathF.Tanh(x3[i] - x4[i]);
        }
        return o[Rows - 1];
    }

    /// <summary><see cref="Candidate"/> as a plain C# loop on 200 rows.</summary>
    /// <summary><see cref="Adam"/> over one coordinate × 10,000 steps (the whole table read as one time series).</summary>
    public bool EvalAdamOneCoordinate() => Evaluator.EvaluateTrajectory(AdamRule, Columns, 1, Rows, Output, Workspace);

    /// <summary><see cref="Adam"/> over 100 coordinates × 100 steps.</summary>
    public bool EvalAdam100Coordinates() => Evaluator.EvaluateTrajectory(AdamRule, Columns, 100, Rows / 100, Output, Workspace);

    public float HandCandidate()
    {
        float[] x1 = Columns[1], x2 = Columns[2], x3 = Columns[3], o = Output;
        for (int i = 0; i < CandidateRows; i++) o[i] = x1[i] * x2[i] + MathF.Cos(x3[i]);
        return o[CandidateRows - 1];
    }

    /// <summary>Node evaluations one call of the named benchmark performs (tree size × rows).</summary>
    public long NodeEvalsPerCall(string method) => method switch
    {
        nameof(EvalArithmetic) or nameof(HandArithmetic) => (long)ArithmeticRule.NodeCount * Rows,
        nameof(EvalTranscendental) or nameof(HandTranscendental) => (long)TranscendentalRule.NodeCount * Rows,
        nameof(EvalRandomArithmetic) => RandomArithmetic.Sum(r => (long)r.NodeCount) * Rows,
        nameof(EvalCandidate) or nameof(MseCandidate) or nameof(HandCandidate) or nameof(CompileAndMseCandidate) =>
            (long)CandidateRule.NodeCount * CandidateRows,
        nameof(EvalAdamOneCoordinate) or nameof(EvalAdam100Coordinates) => (long)AdamRule.NodeCount * Rows,
        _ => 0,
    };

    /// <summary>Whole candidate evaluations one call performs.</summary>
    public int CandidatesPerCall(string method) => method == nameof(EvalRandomArithmetic) ? RandomArithmetic.Length : 1;
}

/// <summary>
/// Node evaluations per second per core for the compiled SIMD evaluator, beside the same expressions as plain C#
/// loops in the same run (each category's hand loop is its baseline, so the Ratio column is evaluator/hand time).
/// Run: <c>./run.sh bench --filter '*EvaluatorBenchmarks*'</c>; quick figures: <c>./run.sh bench --quick</c>.
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EvaluatorBenchmarks
{
    private readonly EvaluatorCases _c = new();

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Node-evals/s", (c, m) => c.NodeEvalsPerCall(m)));
            AddColumn(new ThroughputColumn("Candidates/s", (c, m) => c.CandidatesPerCall(m)));
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("arith-10k")] public float HandArithmetic() => _c.HandArithmetic();
    [Benchmark, BenchmarkCategory("arith-10k")] public bool EvalArithmetic() => _c.EvalArithmetic();
    [Benchmark, BenchmarkCategory("arith-random-10k")] public bool EvalRandomArithmetic() => _c.EvalRandomArithmetic();
    [Benchmark(Baseline = true), BenchmarkCategory("transcendental-10k")] public float HandTranscendental() => _c.HandTranscendental();
    [Benchmark, BenchmarkCategory("transcendental-10k")] public bool EvalTranscendental() => _c.EvalTranscendental();
    [Benchmark(Baseline = true), BenchmarkCategory("candidate-200")] public float HandCandidate() => _c.HandCandidate();
    [Benchmark, BenchmarkCategory("candidate-200")] public bool EvalCandidate() => _c.EvalCandidate();
    [Benchmark, BenchmarkCategory("candidate-200")] public double MseCandidate() => _c.MseCandidate();
    [Benchmark, BenchmarkCategory("candidate-200")] public double CompileAndMseCandidate() => _c.CompileAndMseCandidate();
    [Benchmark, BenchmarkCategory("adam-trajectory-10k")] public bool EvalAdamOneCoordinate() => _c.EvalAdamOneCoordinate();
    [Benchmark, BenchmarkCategory("adam-trajectory-10k")] public bool EvalAdam100Coordinates() => _c.EvalAdam100Coordinates();

    /// <summary>A derived column: work per call (from <see cref="EvaluatorCases"/>) divided by the mean time.</summary>
    private sealed class ThroughputColumn(string name, Func<EvaluatorCases, string, long> work) : IColumn
    {
        private static readonly EvaluatorCases Cases = new();
        public string Id => "Throughput." + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => $"{name} per core: work per call / mean time";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            long w = work(Cases, benchmarkCase.Descriptor.WorkloadMethod.Name);
            return stats is null || w == 0 ? "-" : (w / (stats.Mean * 1e-9)).ToString("0.000e0");
        }
    }
}

/// <summary>The same figures without BenchmarkDotNet: a few hundred milliseconds per case, printed in under a minute.</summary>
public static class EvaluatorQuick
{
    public static void Run(int blockSize = EvalWorkspace.DefaultBlockSize)
    {
        var c = new EvaluatorCases(blockSize);
        // Let tiered compilation promote the hot paths (it waits ~100 ms after the first calls) before timing.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1500)
        {
            c.EvalArithmetic(); c.EvalTranscendental(); c.EvalCandidate(); c.MseCandidate(); c.EvalAdamOneCoordinate();
            c.HandArithmetic(); c.HandTranscendental(); c.HandCandidate();
        }
        Console.WriteLine($"Evaluator quick timing (1 thread; Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, block {c.Workspace.BlockSize})");
        Console.WriteLine($"{"case",-34} {"ns/call",12} {"node-evals/s",14} {"candidates/s",14} {"vs hand loop",13}");
        double handA = Row(c, "arithmetic size-20, 10k rows: hand", nameof(c.HandArithmetic), () => c.HandArithmetic(), 0);
        Row(c, "arithmetic size-20, 10k rows: eval", nameof(c.EvalArithmetic), () => c.EvalArithmetic(), handA);
        Row(c, "16 random arith size-20, 10k rows", nameof(c.EvalRandomArithmetic), () => c.EvalRandomArithmetic(), 0);
        double handT = Row(c, "transcendental size-20, 10k: hand", nameof(c.HandTranscendental), () => c.HandTranscendental(), 0);
        Row(c, "transcendental size-20, 10k: eval", nameof(c.EvalTranscendental), () => c.EvalTranscendental(), handT);
        double handC = Row(c, "x1*x2+cos(x3), 200 rows: hand", nameof(c.HandCandidate), () => c.HandCandidate(), 0);
        Row(c, "x1*x2+cos(x3), 200 rows: eval", nameof(c.EvalCandidate), () => c.EvalCandidate(), handC);
        Row(c, "x1*x2+cos(x3), 200 rows: mse", nameof(c.MseCandidate), () => c.MseCandidate(), handC);
        Row(c, "x1*x2+cos(x3), 200: compile+mse", nameof(c.CompileAndMseCandidate), () => c.CompileAndMseCandidate(), handC);
        Row(c, "compile size-20 arithmetic tree", nameof(c.CompileArithmetic), () => c.CompileArithmetic(), 0); // candidates/s = compiles/s
        Row(c, "adam (ema), 1 coord x 10k steps", nameof(c.EvalAdamOneCoordinate), () => c.EvalAdamOneCoordinate(), 0);
        Row(c, "adam (ema), 100 coords x 100 steps", nameof(c.EvalAdam100Coordinates), () => c.EvalAdam100Coordinates(), 0);
        ConstantFit(c);
    }

    /// <summary>Times Levenberg–Marquardt on 2.5*x0 + sin(0.3*x1) from (1, 0.5), 1000 rows: fits per second.</summary>
    private static void ConstantFit(EvaluatorCases c)
    {
        const int rows = 1000;
        var y = new float[rows];
        for (int i = 0; i < rows; i++) y[i] = (float)(2.5 * c.Columns[0][i] + Math.Sin(0.3 * c.Columns[1][i]));
        var start = Compiler.Compile(new Binary(Op.Add, new Binary(Op.Mul, new Const(1), new Var("x0")),
            new Unary(Op.Sin, new Binary(Op.Mul, new Const(0.5), new Var("x1")))), EvaluatorCases.Names);
        var fit = L2OEvolve.Engine.ConstantFitting.ConstantOptimizer.Fit(start, c.Columns, rows, y, c.Workspace);
        int n = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 1000) L2OEvolve.Engine.ConstantFitting.ConstantOptimizer.Fit(start, c.Columns, rows, y, c.Workspace);
        sw.Restart();
        while (sw.ElapsedMilliseconds < 1000)
        {
            L2OEvolve.Engine.ConstantFitting.ConstantOptimizer.Fit(start, c.Columns, rows, y, c.Workspace);
            n++;
        }
        double us = sw.Elapsed.TotalMicroseconds / n;
        Console.WriteLine($"constant fit (LM), 2 constants, 1000 rows: {us:0} us/fit, {fit.Iterations} iterations, " +
            $"constants {string.Join(", ", fit.Rule.Constants.Select(v => v.ToString("0.######")))}, loss {fit.Loss:0.0e0}");
    }

    /// <summary>Times <paramref name="body"/> (best of 5 rounds of ~100 ms) and prints its throughput; returns ns/call.</summary>
    private static double Row<T>(EvaluatorCases c, string label, string method, Func<T> body, double handNs)
    {
        for (int i = 0; i < 200; i++) body();
        long calls = 1;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            sw.Restart();
            for (long i = 0; i < calls; i++) body();
            if (sw.Elapsed.TotalMilliseconds > 100) break;
            calls *= 2;
        }
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            sw.Restart();
            for (long i = 0; i < calls; i++) body();
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / calls);
        }
        double nodes = c.NodeEvalsPerCall(method) / (best * 1e-9);
        double cands = c.CandidatesPerCall(method) / (best * 1e-9);
        string ratio = handNs > 0 ? $"{handNs / best,12:0.00}x" : "";
        string nodeText = nodes > 0 ? nodes.ToString("0.000e0") : "-";
        Console.WriteLine($"{label,-34} {best,12:0.0} {nodeText,14} {cands,14:0.000e0} {ratio,13}");
        return best;
    }
}
