using BenchmarkDotNet.Running;

// Run one suite: ./run.sh bench --filter '*Evaluator*'
// Stopwatch scripts (whole rollouts, printed side by side): ./run.sh bench rules [--quick]
if (args is ["rules", ..])
{
    L2OEvolve.Benchmarks.RulesTiming.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
