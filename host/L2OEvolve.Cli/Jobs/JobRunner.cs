using System.Collections.Immutable;
using System.Diagnostics;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using Microsoft.Extensions.Logging;

namespace L2OEvolve.Cli.Jobs;

/// <summary>
/// Runs one job inside the daemon: resume from the newest valid checkpoint (or start), step generations under the
/// step pipeline, checkpoint by generation count and by time, and finish, stop or fail with the reason recorded.
/// </summary>
/// <remarks>
/// <code>
/// spec  = read and validate job.json            (malformed: Failed, with file/field/fault)
/// ckpt  = newest checkpoint passing its checksum (corrupt ones reported, older ones tried)
/// job   = ckpt ? resume (fingerprints must match field by field)
///              : start               (under the time budget: running out there fails the job with one message)
/// loop: shutdown → save, Queued | stop file → save, Stopped | budget or converged → save, Finished
///       (a final save that fails is retried with doubling delays, the state kept in memory; if it never succeeds
///        the job ends Failed with its results written, and this daemon never replays it from an older checkpoint)
///       job = step(job)        (its evaluations are guarded; still failing: save last good state, Failed;
///                               cut at the time budget: the state before it is kept, Finished)
///       due (every N generations or T seconds) → save; a failed save is reported, the job goes on
/// </code>
/// </remarks>
public sealed partial class JobRunner(JobHome home, JobFactories factories, DaemonOptions options, ILogger log)
{
    private readonly JobHome _home = home;
    private readonly DaemonOptions _options = options;
    private readonly ILogger _log = log;

    // Jobs whose terminal status could not be written (a full disk): this daemon does not restart them, which would
    // replay generations from an older checkpoint, until their status file changes (`resume` after freeing space).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTime> _parked = new(StringComparer.Ordinal);

    /// <summary>True when this daemon gave up on writing the job's terminal status and must not start it again.</summary>
    public bool IsParked(string name) =>
        _parked.TryGetValue(name, out var stamp) && (StatusStamp(name) == stamp || !_parked.TryRemove(name, out _));

    private DateTime StatusStamp(string name) => File.GetLastWriteTimeUtc(_home.StatusPath(name));

    /// <summary>Runs job <paramref name="name"/> until it finishes, fails, is stopped, or the daemon shuts down.</summary>
    public async Task RunAsync(string name, CancellationToken shutdown)
    {
        try { await RunCoreAsync(name, shutdown); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything unforeseen (an input deleted mid-run, a bug in a job kind) fails this job only;
            // without this the scheduler would restart it forever.
            Fail(name, _home.ReadStatus(name), $"unexpected error: {e.GetType().Name}: {e.Message}");
        }
    }

    private async Task RunCoreAsync(string name, CancellationToken shutdown)
    {
        var (spec, faults) = _home.ReadSpec(name);
        if (spec is not null) faults = factories.Validate(spec, _home.SpecPath(name));
        if (spec is null || faults.Count > 0)
        {
            Fail(name, JobStatus.Initial, "malformed job file: " + string.Join("; ", faults));
            return;
        }

        IPreparedJob prepared;
        try { prepared = factories.Find(spec.Kind)!.Prepare(spec); }
        catch (JobInputException e) { Fail(name, JobStatus.Initial, e.Message); return; }

        var store = _home.Checkpoints(name, _options.KeepCheckpoints);
        foreach (var temp in store.CleanTemporaries()) LogInterruptedWrite(name, Path.GetFileName(temp));
        // Newest first: a checkpoint that is corrupt, belongs to another job (a file copied in by hand) or no longer
        // fits the job is skipped, with a note, for the job's own older ones. Only when the job's own checkpoints
        // exist and none fits does it fail: starting over would silently discard its progress.
        var notes = new List<string>();
        var rejected = new List<CheckpointCorruptException>();
        CheckpointEnvelope? envelope = null;
        string? checkpointPath = null, refusal = null;
        ISearchJob? job = null;
        foreach (var (candidate, path) in store.LoadValid(rejected))
        {
            NoteRejected();
            string file = Path.GetFileName(path);
            if (candidate.JobName != name)
            {
                Skip(file, $"it belongs to job '{candidate.JobName}'");
                continue;
            }
            var changed = prepared.IncompatibleFields(candidate.Fingerprint);
            if (candidate.JobKind != spec.Kind) changed = ["kind", .. changed];
            if (changed.Count > 0)
            {
                refusal ??= $"refused to resume from {file}: settings or inputs changed incompatibly: {string.Join(", ", changed)}";
                Skip(file, $"settings or inputs changed incompatibly: {string.Join(", ", changed)}");
                continue;
            }
            try { job = prepared.Resume(candidate.State); }
            catch (JobIncompatibleException e)
            {
                refusal ??= $"refused to resume: {e.Message}";
                Skip(file, e.Message);
                continue;
            }
            (envelope, checkpointPath) = (candidate, path);
            break;
        }
        NoteRejected();

        double elapsedBefore = 0;
        if (job is null)
        {
            if (refusal is not null)
            {
                Fail(name, _home.ReadStatus(name), refusal);
                return;
            }
            var building = Stopwatch.StartNew();
            job = await StartAsync(name, spec, prepared, notes, shutdown);
            if (job is null) return;
            // The time budget covers the initial population too, so the generations get what it left.
            elapsedBefore = building.Elapsed.TotalSeconds;
        }
        else
        {
            elapsedBefore = envelope!.ElapsedSeconds;
            LogResumed(name, envelope.Generation, Path.GetFileName(checkpointPath)!);
        }

        void NoteRejected()
        {
            foreach (var bad in rejected)
            {
                LogCheckpointRejected(name, bad.Path, bad.Fault);
                notes.Add($"skipped corrupt checkpoint {Path.GetFileName(bad.Path)}: {bad.Fault}");
            }
            rejected.Clear();
        }

        void Skip(string file, string why)
        {
            LogCheckpointRejected(name, file, why);
            notes.Add($"skipped checkpoint {file}: {why}");
        }

        await new Session(this, name, spec, prepared, store, job, elapsedBefore, envelope?.Generation, notes).RunAsync(shutdown);
    }

    /// <summary>
    /// Builds and scores a fresh job's initial population off the scheduler's thread, under the daemon's shutdown and
    /// the job's time budget; null when either cut it short (the status then says so: Queued to start again after a
    /// shutdown, Failed with one message when the budget ran out, as <c>sr --time</c> does).
    /// </summary>
    private async Task<ISearchJob?> StartAsync(string name, JobSpec spec, IPreparedJob prepared, List<string> notes, CancellationToken shutdown)
    {
        TryWriteStatus(name, JobStatus.Initial with { State = JobState.Running, Message = Join(notes, $"building and scoring {prepared.InitialPopulation}"), Updated = DateTimeOffset.UtcNow });
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        // CancelAfter takes at most about 49 days; a longer budget cannot run out here in practice.
        if (spec.Budget.Seconds is { } seconds && seconds < TimeSpan.FromDays(40).TotalSeconds) budget.CancelAfter(TimeSpan.FromSeconds(seconds));
        // WaitAsync: the runner reports at once even if the start notices its cancellation late; it stops soon after.
        try { return await Task.Run(() => prepared.Start(budget.Token), budget.Token).WaitAsync(budget.Token); }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            TryWriteStatus(name, JobStatus.Initial with
            {
                Message = Join(notes, "interrupted by daemon shutdown while building the initial population; starts again when the daemon starts again"),
                Updated = DateTimeOffset.UtcNow,
            });
            return null;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            Fail(name, JobStatus.Initial with { ElapsedSeconds = clock.Elapsed.TotalSeconds },
                $"timeSeconds: the time budget of {spec.Budget.Seconds?.ToString(System.Globalization.CultureInfo.InvariantCulture)} s ran out while scoring {prepared.InitialPopulation}; " +
                "raise timeSeconds or make the population smaller");
            return null;
        }
    }

    private static string Join(List<string> notes, string message) => string.Join("; ", notes.Append(message));

    /// <summary>Writes a status that only shows progress; a failure is logged and the job goes on.</summary>
    private void TryWriteStatus(string name, JobStatus status)
    {
        try { _home.WriteStatus(name, status); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { LogStatusFailed(name, e.Message); }
    }

    private void Fail(string name, JobStatus previous, string reason) =>
        WriteTerminal(name, previous with { State = JobState.Failed, Message = reason, Updated = DateTimeOffset.UtcNow }, reason);

    /// <summary>Records a terminal status; when even that write fails the job is parked (see <see cref="IsParked"/>).</summary>
    private void WriteTerminal(string name, JobStatus status, string? failure)
    {
        if (failure is not null) LogJobFailed(name, failure);
        try { _home.WriteStatus(name, status); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _parked[name] = StatusStamp(name);
            LogStatusFailed(name, $"{e.Message}; the job is not restarted by this daemon until its status changes");
        }
    }

    /// <summary>The mutable bookkeeping of one run of one job (the search state itself stays immutable).</summary>
    private sealed class Session(JobRunner runner, string name, JobSpec spec, IPreparedJob prepared, CheckpointStore store,
        ISearchJob job, double elapsedBefore, long? savedGeneration, List<string> notes)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _lastSave = TimeSpan.Zero;
        private TimeSpan _lastStatus = TimeSpan.MinValue;
        private string? _checkpointProblem;
        private TimeSpan? _resultWritten;
        private long? _resultGeneration;
        private bool _outOfTime;

        /// <summary>A report can cost evaluations (sr prunes and rescores), so running jobs refresh it only this often.</summary>
        private static readonly TimeSpan ResultInterval = TimeSpan.FromSeconds(30);
        private long _steps, _saves, _lastBytes;
        private TimeSpan _stepTime, _saveTime, _encodeTime;
        private readonly Queue<(double Save, double Encode)> _recentSaves = new();

        private double Elapsed => elapsedBefore + _clock.Elapsed.TotalSeconds;
        private DaemonOptions Options => runner._options;

        public async Task RunAsync(CancellationToken shutdown)
        {
            Report(JobState.Running, force: true);
            while (true)
            {
                if (shutdown.IsCancellationRequested)
                {
                    await SaveFinalAsync(shutdown);
                    Report(JobState.Queued, force: true, "interrupted by daemon shutdown; resumes when the daemon starts again");
                    return;
                }
                if (File.Exists(runner._home.StopPath(name)))
                {
                    bool saved = await SaveFinalAsync(shutdown);
                    WriteResult(force: true);
                    End(JobState.Stopped, "stopped on request", saved);
                    return;
                }
                if (BudgetReached() is { } why)
                {
                    bool saved = await SaveFinalAsync(shutdown);
                    WriteResult(force: true);
                    End(JobState.Finished, why, saved);
                    return;
                }

                var stepStart = _clock.Elapsed;
                using var step = StepCancellation(shutdown);
                try
                {
                    var current = job;
                    var token = step.Token;
                    // The engine runs unwrapped; hangs and failures are handled where they arise, in the job's
                    // guarded fitness, and reach here only once its attempts are spent.
                    job = await Task.Run(() => current.Step(token), token);
                }
                catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
                {
                    continue; // the state before the interrupted generation is intact; the loop top saves it
                }
                catch (OperationCanceledException) when (step.IsCancellationRequested)
                {
                    _outOfTime = true; // as above; the loop top ends the job at its time budget
                    continue;
                }
                catch (Exception e)
                {
                    Save();
                    runner.Fail(name, Status(JobState.Failed, null),
                        $"generation {job.Generation + 1} failed: evaluations kept failing after {Options.EvaluationAttempts} attempt(s): {e.GetType().Name}: {e.Message}");
                    return;
                }

                _steps++;
                _stepTime += _clock.Elapsed - stepStart;
                bool byCount = Options.CheckpointEveryGenerations > 0 && job.Generation % Options.CheckpointEveryGenerations == 0;
                bool byTime = _clock.Elapsed - _lastSave >= Options.CheckpointInterval;
                if (byCount || byTime) Save();
                Report(JobState.Running, force: false);
            }
        }

        /// <summary>
        /// Saves the state a job ends with, retrying a failed write with doubling delays (a full disk may get space
        /// back); the state stays in memory meanwhile, so nothing is replayed. Under shutdown it does not wait.
        /// </summary>
        private async Task<bool> SaveFinalAsync(CancellationToken shutdown)
        {
            var delay = Options.FinalCheckpointDelay;
            for (int attempt = 1; ; attempt++)
            {
                Save();
                if (savedGeneration == job.Generation) return true;
                if (attempt >= Options.FinalCheckpointAttempts) return false;
                if (shutdown.IsCancellationRequested) continue;
                Report(JobState.Running, force: true, $"final checkpoint: attempt {attempt + 1} of {Options.FinalCheckpointAttempts} in {delay.TotalSeconds:0.###} s");
                try { await Task.Delay(delay, shutdown); }
                catch (OperationCanceledException) { }
                delay *= 2;
            }
        }

        /// <summary>The job's terminal status; one whose final checkpoint could not be written ends Failed, saying what is on disk.</summary>
        private void End(JobState state, string why, bool saved)
        {
            LogOverhead();
            if (saved)
            {
                runner.WriteTerminal(name, Status(state, why), failure: null);
                return;
            }
            string onDisk = savedGeneration is { } g ? $"generation {g}" : "none";
            runner.Fail(name, Status(JobState.Failed, null),
                $"{why}, but the final checkpoint (generation {job.Generation}) could not be written after {Options.FinalCheckpointAttempts} attempts: " +
                $"{_checkpointProblem}; newest checkpoint on disk: {onDisk}; after freeing space, `l2oevolve resume {name}` continues from it");
        }

        /// <summary>
        /// The shutdown, and the job's time budget: a generation still running when the budget runs out is abandoned
        /// (its state before it is intact), so one slow generation cannot run far past the budget.
        /// </summary>
        private CancellationTokenSource StepCancellation(CancellationToken shutdown)
        {
            var cts = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
            // CancelAfter takes at most about 49 days; a longer remainder cannot run out within this generation in practice.
            if (spec.Budget.Seconds is { } s && s - Elapsed < TimeSpan.FromDays(40).TotalSeconds)
                cts.CancelAfter(TimeSpan.FromSeconds(Math.Max(0, s - Elapsed)));
            return cts;
        }

        private string? BudgetReached()
        {
            var b = spec.Budget;
            if (b.Generations is { } g && job.Generation >= g) return $"reached {g} generations";
            if (b.Evaluations is { } n && job.Evaluations >= n) return $"reached {n} evaluations";
            if (b.Seconds is { } s && (Elapsed >= s || _outOfTime)) return $"reached the time budget of {s} s";
            if (b.TargetLoss is { } t && job.Front.Count > 0 && job.Front.Min(p => p.Loss) <= t) return $"reached the target loss {t}";
            if (job.IsConverged) return b.TargetR2 is { } r2 ? $"reached the target R2 {r2}" : "converged";
            return null;
        }

        /// <summary>Checkpoints the current state unless it is already saved; a failure is reported and the job goes on.</summary>
        private void Save()
        {
            _lastSave = _clock.Elapsed;
            if (savedGeneration == job.Generation) return;
            var encodeStart = _clock.Elapsed;
            var envelope = new CheckpointEnvelope
            {
                JobName = name,
                JobKind = spec.Kind,
                Generation = job.Generation,
                Evaluations = job.Evaluations,
                ElapsedSeconds = Elapsed,
                WrittenUtcTicks = DateTime.UtcNow.Ticks,
                Fingerprint = new Dictionary<string, string>(prepared.Fingerprint),
                State = job.SaveState(),
            };
            var encoded = _clock.Elapsed;
            try
            {
                string path = store.Save(envelope);
                _saveTime += _clock.Elapsed - encodeStart;
                _encodeTime += encoded - encodeStart;
                _recentSaves.Enqueue(((_clock.Elapsed - encodeStart).TotalSeconds, (encoded - encodeStart).TotalSeconds));
                if (_recentSaves.Count > 256) _recentSaves.Dequeue();
                _saves++;
                _lastBytes = new FileInfo(path).Length;
                savedGeneration = job.Generation;
                _checkpointProblem = null;
                WriteResult(force: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _checkpointProblem = $"checkpoint at generation {job.Generation} failed ({e.Message}); the previous one is kept";
                runner.LogCheckpointFailed(name, job.Generation, e.Message);
            }
        }

        /// <summary>Writes the job's report at a checkpoint (at most every <see cref="ResultInterval"/>) or, forced, at the end.</summary>
        private void WriteResult(bool force)
        {
            try
            {
                if (_resultGeneration == job.Generation) return;
                if (!force && _resultWritten is { } last && _clock.Elapsed - last < ResultInterval) return;
                _resultWritten = _clock.Elapsed;
                _resultGeneration = job.Generation;
                var report = job.Report();
                // Derived from the checkpoint, so not flushed to disk: a lost copy is rewritten at the next report.
                runner._home.WriteAtomically(runner._home.HallOfFameCsvPath(name), report.Csv, durable: false);
                runner._home.WriteAtomically(runner._home.ResultPath(name), report.Text, durable: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                runner.LogCheckpointFailed(name, job.Generation, "hall of fame: " + e.Message);
            }
        }

        private JobStatus Status(JobState state, string? message)
        {
            var parts = new List<string>(notes);
            if (_checkpointProblem is not null) parts.Add(_checkpointProblem);
            if (message is not null) parts.Add(message);
            return new JobStatus(state, job.Generation, job.Evaluations, Elapsed, [.. job.Front], savedGeneration,
                parts.Count == 0 ? null : string.Join("; ", parts), DateTimeOffset.UtcNow, Timings, job.Counters);
        }

        private JobTimings Timings => new(_steps, _stepTime.TotalSeconds, _saves, _saveTime.TotalSeconds, _lastBytes, _encodeTime.TotalSeconds,
            Median(_recentSaves.Select(s => s.Save)), Median(_recentSaves.Select(s => s.Encode)));

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
        }

        private void Report(JobState state, bool force, string? message = null)
        {
            if (force && state != JobState.Running) LogOverhead();
            if (!force && _clock.Elapsed - _lastStatus < Options.StatusInterval) return;
            _lastStatus = _clock.Elapsed;
            runner.TryWriteStatus(name, Status(state, message));
        }

        private void LogOverhead()
        {
            if (_saves > 0 && _steps > 0)
            {
                var t = Timings;
                runner.LogTimings(name, t.Checkpoints, t.SecondsPerCheckpoint * 1e3, t.MedianCheckpointSeconds * 1e3, t.MedianEncodeSeconds * 1e3,
                    t.CheckpointBytes, t.Generations, t.SecondsPerGeneration * 1e3, t.MedianCheckpointSeconds / t.SecondsPerGeneration * 100);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "job {Job}: rejected checkpoint {Path}: {Fault}")]
    private partial void LogCheckpointRejected(string job, string path, string fault);

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job}: removed {File}, a checkpoint write that was interrupted")]
    private partial void LogInterruptedWrite(string job, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job}: resumed at generation {Generation} from {File}")]
    private partial void LogResumed(string job, long generation, string file);

    [LoggerMessage(Level = LogLevel.Error, Message = "job {Job} failed: {Reason}")]
    private partial void LogJobFailed(string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "job {Job}: checkpoint at generation {Generation} failed: {Error}")]
    private partial void LogCheckpointFailed(string job, long generation, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job}: checkpoint overhead: {Checkpoints} checkpoints, mean {MsMean:F2} ms, median {MsMedian:F2} ms (of which encoding the state {MsEncode:F2} ms; {Bytes} bytes); {Generations} generations, mean {MsPerGeneration:F2} ms; one median checkpoint = {Percent:F1}% of a mean generation")]
    private partial void LogTimings(string job, long checkpoints, double msMean, double msMedian, double msEncode, long bytes, long generations, double msPerGeneration, double percent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "job {Job}: status not written: {Error}")]
    private partial void LogStatusFailed(string job, string error);
}
