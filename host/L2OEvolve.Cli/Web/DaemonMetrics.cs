using System.Diagnostics.Metrics;
using L2OEvolve.Cli.Daemon;
using Prometheus;

namespace L2OEvolve.Cli.Web;

/// <summary>
/// The daemon's Prometheus metrics (prometheus-net, in a registry of its own): per job, read from the status files at
/// each scrape; and the retry counters of <see cref="DaemonMeter"/>, bridged from System.Diagnostics.Metrics (counted from the
/// moment the page starts).
/// </summary>
public sealed class DaemonMetrics : IDisposable
{
    private readonly JobWatcher _watcher;
    private readonly MeterListener _meterBridge;
    private readonly Counter _evaluations, _generations;
    private readonly Gauge _bestLoss, _running, _evaluationsPerSecond, _checkpointBytes, _checkpointSeconds, _checkpointMedianSeconds, _generationSeconds;

    /// <summary>The registry served at <c>/metrics</c>.</summary>
    public CollectorRegistry Registry { get; }

    public DaemonMetrics(JobWatcher watcher)
    {
        _watcher = watcher;
        Registry = Metrics.NewCustomRegistry();
        var f = _factory = Metrics.WithCustomRegistry(Registry);
        string[] job = ["job"];
        _evaluations = f.CreateCounter("l2oevolve_job_evaluations_total", "Fitness evaluations spent by the job.", job);
        _generations = f.CreateCounter("l2oevolve_job_generations_total", "Generations completed by the job.", job);
        _bestLoss = f.CreateGauge("l2oevolve_job_best_loss", "Lowest loss on the job's front.", job);
        _running = f.CreateGauge("l2oevolve_job_running", "1 while the job runs, else 0.", job);
        _evaluationsPerSecond = f.CreateGauge("l2oevolve_job_evaluations_per_second", "Recent evaluation rate.", job);
        _checkpointBytes = f.CreateGauge("l2oevolve_job_checkpoint_bytes", "Size of the newest checkpoint file.", job);
        _checkpointSeconds = f.CreateGauge("l2oevolve_job_checkpoint_mean_seconds", "Mean time to write a checkpoint in this session.", job);
        _checkpointMedianSeconds = f.CreateGauge("l2oevolve_job_checkpoint_median_seconds", "Median time of the recent checkpoints.", job);
        _generationSeconds = f.CreateGauge("l2oevolve_job_generation_mean_seconds", "Mean time of a generation in this session.", job);
        Registry.AddBeforeCollectCallback(Refresh);
        // Each counter of the daemon's meter becomes a Prometheus counter of the same name (dots as underscores).
        var bridged = new Dictionary<Instrument, Counter>();
        _meterBridge = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name != DaemonMeter.Name || instrument is not Counter<long>) return;
                lock (bridged) bridged[instrument] = f.CreateCounter(instrument.Name.Replace('.', '_') + "_total", instrument.Description ?? instrument.Name);
                listener.EnableMeasurementEvents(instrument);
            },
        };
        _meterBridge.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            Counter? counter;
            lock (bridged) bridged.TryGetValue(instrument, out counter);
            counter?.Inc(value);
        });
        _meterBridge.Start();
    }

    private readonly Dictionary<(string Job, string Counter), long> _lastCounters = [];
    private readonly IMetricFactory _factory;
    private readonly Lock _gate = new();

    private void Refresh()
    {
        lock (_gate) RefreshJobs();
    }

    private void RefreshJobs()
    {
        var home = _watcher.Home;
        foreach (var name in home.JobNames())
        {
            var s = home.ReadStatus(name);
            foreach (var (key, value) in s.Counters ?? new Dictionary<string, long>())
                CountSession(name, key, value);
            var summary = _watcher.Summary(name);
            _evaluations.WithLabels(name).IncTo(s.Evaluations);
            _generations.WithLabels(name).IncTo(s.Generation);
            _running.WithLabels(name).Set(s.State == Jobs.JobState.Running ? 1 : 0);
            _evaluationsPerSecond.WithLabels(name).Set(summary.EvaluationsPerSecond);
            if (summary.BestLoss is { } loss) _bestLoss.WithLabels(name).Set(loss);
            if (s.Timings is { } t)
            {
                CountSession(name, "checkpoints", t.Checkpoints);
                _checkpointBytes.WithLabels(name).Set(t.CheckpointBytes);
                _checkpointSeconds.WithLabels(name).Set(t.SecondsPerCheckpoint);
                _checkpointMedianSeconds.WithLabels(name).Set(t.MedianCheckpointSeconds);
                _generationSeconds.WithLabels(name).Set(t.SecondsPerGeneration);
            }
        }
    }

    /// <summary>
    /// A job's own counter (<c>cacheHits</c> → <c>l2oevolve_job_cache_hits_total</c>). These restart at zero with each
    /// session of the job, so a smaller value than last seen is a reset and counts from zero, keeping the metric monotonic.
    /// </summary>
    private void CountSession(string job, string key, long value)
    {
        var counter = _factory.CreateCounter($"l2oevolve_job_{SnakeCase(key)}_total", $"The job's '{key}' count (summed over its sessions).", ["job"]);
        long last = _lastCounters.GetValueOrDefault((job, key));
        counter.WithLabels(job).Inc(value >= last ? value - last : value);
        _lastCounters[(job, key)] = value;
    }

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : char.IsLetterOrDigit(c) ? c.ToString() : "_"));

    public void Dispose() => _meterBridge.Dispose();
}
