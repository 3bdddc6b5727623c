using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace L2OEvolve.Cluster;

/// <summary>
/// The coordinator of one job: while active it runs the job's loop (the daemon's own, through <see cref="IClusterJobs.RunAsync"/>)
/// with <see cref="LockstepStepper"/> making each generation. Orleans keeps one activation per job in the cluster;
/// when its silo dies, the next <see cref="Ensure"/> from any silo reactivates it elsewhere, and the loop resumes from
/// the job's newest barrier checkpoint.
/// </summary>
public sealed class JobCoordinatorGrain(IClusterJobs jobs, IGrainFactory grains, ILocalSiloDetails silo, ILoggerFactory logs) : Grain, IJobCoordinatorGrain
{
    private Task? _loop;
    private CancellationTokenSource? _stop;

    public Task<bool> Ensure()
    {
        if (_loop is { IsCompleted: false }) return Task.FromResult(true);
        string job = this.GetPrimaryKeyString();
        if (!jobs.IsRunnable(job)) return Task.FromResult(false);
        _stop = new CancellationTokenSource();
        var log = logs.CreateLogger<LockstepStepper>();
        var stepper = new LockstepStepper(job, silo.SiloAddress.ToString(), grains, jobs, log);
        var token = _stop.Token;
        // The loop runs on the thread pool, outside the grain's turns, so Ensure and deactivation stay responsive.
        _loop = Task.Run(() => jobs.RunAsync(job, stepper.Step, token), CancellationToken.None);
        return Task.FromResult(true);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A silo shutting down cancels the loop, which saves a barrier checkpoint before it returns.
        if (_stop is not null) await _stop.CancelAsync();
        if (_loop is not null)
        {
            try { await _loop.WaitAsync(cancellationToken); }
            catch (OperationCanceledException) { }
        }
        _stop?.Dispose();
    }
}
