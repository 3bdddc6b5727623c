using BenchmarkDotNet.Running;
using L2OEvolve.Benchmarks;

// Run one suite: ./run.sh bench --filter '*Evaluator*'; quick evaluator figures without BenchmarkDotNet: ./run.sh bench --quick
// Rule executor and population rollouts (stopwatch script, printed side by side): ./run.sh bench rules [--quick]
if (args is ["rules", ..])
{
    RulesTiming.Run(args[1..]);
    return;
}
if (args.Contains("--quick"))
{
    EvaluatorQuick.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
