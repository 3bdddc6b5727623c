using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;
using Polly.Timeout;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

public class GuardedFitnessTests
{
    private static readonly Expr[] Batch = [new Expr.Var("x"), new Expr.Const(2)];

    private static double[] Run(IFitness fitness, CancellationToken ct = default)
    {
        var objectives = new double[Batch.Length];
        fitness.Evaluate(Batch, objectives, new FitnessRequest(1, 9, 3), ct);
        return objectives;
    }

    [Test]
    public void Evaluate_InnerSucceeds_GivesTheInnerValues()
    {
        var inner = new ScriptedFitness((g, _, _) => g * 10.0);
        Assert.That(Run(new GuardedFitness(inner, Resilience.Evaluation(TimeSpan.FromSeconds(30), 3))), Is.EqualTo(new[] { 30.0, 31.0 }));
    }

    [Test]
    public void Evaluate_TransientFailure_IsRetriedAndGivesTheSameValues()
    {
        var inner = new ScriptedFitness((g, call, _) => call == 1 ? throw new IOException("device busy") : g * 10.0);
        var values = Run(new GuardedFitness(inner, Resilience.Evaluation(TimeSpan.FromSeconds(30), 3)));
        Assert.That((inner.Calls, values), Is.EqualTo((2, new[] { 30.0, 31.0 })));
    }

    [Test]
    public void Evaluate_HangIgnoringItsToken_TimesOutOnEveryAttemptThenThrows()
    {
        using var release = new ManualResetEventSlim();
        var inner = new ScriptedFitness((_, _, _) => { release.Wait(TimeSpan.FromSeconds(20)); return 0; });
        var guarded = new GuardedFitness(inner, Resilience.Evaluation(TimeSpan.FromMilliseconds(100), 2));
        Assert.Throws<TimeoutRejectedException>(() => Run(guarded));
        // A pessimistic timeout abandons each attempt on its own thread; on a busy machine the last one may start
        // only after its timeout has fired, so its call is awaited rather than expected at once.
        Assert.That(() => inner.Calls, Is.EqualTo(2).After(10_000, 20));
        release.Set();
    }

    [Test]
    public void Evaluate_Shutdown_IsNotRetried()
    {
        using var shutdown = new CancellationTokenSource();
        var inner = new ScriptedFitness((_, _, ct) => { shutdown.Cancel(); ct.ThrowIfCancellationRequested(); return 0; });
        var guarded = new GuardedFitness(inner, Resilience.Evaluation(TimeSpan.FromSeconds(30), 3));
        Assert.That(() => Run(guarded, shutdown.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(inner.Calls, Is.EqualTo(1));
    }
}
