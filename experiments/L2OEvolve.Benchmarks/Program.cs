using BenchmarkDotNet.Running;
using L2OEvolve.Benchmarks;

// Run one suite: ./run.sh bench --filter '*Evaluator*'; quick evaluator figures without BenchmarkDotNet: ./run.sh bench --quick
if (args.Contains("--quick"))
{
    EvaluatorQuick.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
