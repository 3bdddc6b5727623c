using BenchmarkDotNet.Running;
using L2OEvolve.Benchmarks;

// Run one suite: ./run.sh bench --filter '*Evaluator*'; quick evaluator figures without BenchmarkDotNet: ./run.sh bench --quick
// (--block N sets the evaluator's rows per block).
// Rule executor and population rollouts (stopwatch script, printed side by side): ./run.sh bench rules [--quick]
// Search loop split (row evaluator vs the rest, in process): ./run.sh bench search [--threads N] [--generations G]
// TorchSharp's temporary scalars under garbage collection, and the owned form the library uses: ./run.sh bench scalar-race
if (args is ["search", ..])
{
    SearchLoopTiming.Run(args[1..]);
    return;
}
if (args is ["scalar-race", ..])
{
    ScalarRace.Run(args[1..]);
    return;
}
if (args is ["rules", ..])
{
    RulesTiming.Run(args[1..]);
    return;
}
if (args.Contains("--quick"))
{
    int block = Array.IndexOf(args, "--block") is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : L2OEvolve.Engine.RowEvaluation.EvalWorkspace.DefaultBlockSize;
    EvaluatorQuick.Run(block);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
