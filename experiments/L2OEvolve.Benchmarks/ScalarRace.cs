using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Benchmarks;

/// <summary>
/// Shows the TorchSharp hazard <c>TorchScalars</c> exists for: a temporary <see cref="Scalar"/> freed by its finalizer
/// while libtorch reads it. Two threads run <c>h.matmul(W).add_(b)</c> (TorchSharp's <c>add_(Tensor)</c> makes the alpha
/// = 1 scalar itself) while a third collects garbage and runs finalizers in a loop; then the same with a scalar the
/// caller owns, <c>add_(b, one)</c>. Prints the calls made and the calls libtorch failed for each form.
/// Run: <c>./run.sh bench scalar-race [--seconds S]</c> (default 20 per form).
/// </summary>
public static class ScalarRace
{
    /// <summary>Runs both forms and prints one line each.</summary>
    public static void Run(string[] args)
    {
        int at = Array.IndexOf(args, "--seconds");
        double seconds = at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 20;
        L2OEvolve.Torch.TorchSetup.PrepareNativeRuntime();
        Console.WriteLine($"# two threads of matmul + add_, a third collecting garbage; {seconds} s per form");
        using var one = 1.ToScalar();
        foreach (bool owned in new[] { false, true })
        {
            var (calls, failures) = Race(seconds, owned ? one : null);
            Console.WriteLine($"{(owned ? "add_(b, one), scalar owned by the caller" : "add_(b), TorchSharp's temporary alpha"),-44} calls {calls,10:N0}  failed {failures,4}");
        }
    }

    private static (long Calls, long Failures) Race(double seconds, Scalar? one)
    {
        long calls = 0, failures = 0;
        var clock = Stopwatch.StartNew();
        bool Running() => clock.Elapsed.TotalSeconds < seconds;
        var workers = Enumerable.Range(0, 2).Select(worker => Task.Factory.StartNew(() =>
        {
            torch.set_num_threads(1);
            using var w = randn(64, 32);
            using var b = randn(32);
            using var h = randn(16, 64);
            while (Running())
            {
                using var scope = NewDisposeScope();
                for (int i = 0; i < 100; i++)
                {
                    try
                    {
                        _ = one is null ? h.matmul(w).add_(b) : h.matmul(w).add_(b, one);
                        Interlocked.Increment(ref calls);
                    }
                    catch (System.Runtime.InteropServices.ExternalException) { Interlocked.Increment(ref failures); }
                }
            }
        }, TaskCreationOptions.LongRunning)).ToList();
        var collector = Task.Factory.StartNew(() =>
        {
            while (Running()) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        }, TaskCreationOptions.LongRunning);
        Task.WaitAll([.. workers, collector]);
        return (calls, failures);
    }
}
