using BenchmarkDotNet.Running;

// Run one suite: ./run.sh bench --filter '*Evaluator*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
