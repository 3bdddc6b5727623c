using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Cli.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using L2OEvolve.Cluster;
using L2OEvolve.Engine.Search;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Polly;
using StackExchange.Redis;

namespace L2OEvolve.Cli.Daemon;

/// <summary>
/// What cluster mode adds to a home (shared by every silo, e.g. on a network file system):
/// <code>
/// HOME/cluster/silos.json         the silos of the cluster as the last silo to write saw them, with the time
/// HOME/jobs/NAME/islands.json     the silo of the job's coordinator and the silo each island ran its last generation on
/// </code>
/// </summary>
public static class ClusterHome
{
    /// <summary>One silo as membership reports it.</summary>
    public sealed record Silo(string Address, string Name, string Status);

    /// <summary>Where a job's coordinator runs and where each of its islands ran its last generation.</summary>
    public sealed record Placement(string Coordinator, string[] Islands);

    /// <summary>The cluster as one silo saw it at <paramref name="Updated"/>.</summary>
    public sealed record View(DateTimeOffset Updated, string ClusterId, int SchemaVersion, Silo[] Silos);

    /// <summary>A view older than this is from a cluster that has stopped (silos rewrite it every few seconds).</summary>
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string SilosPath(JobHome home) => SilosPath(home.Root);
    private static string SilosPath(string root) => Path.Combine(root, "cluster", "silos.json");
    public static string IslandsPath(JobHome home, string job) => Path.Combine(home.JobDirectory(job), "islands.json");

    /// <summary>The last written view (null when there is none or it cannot be read).</summary>
    public static View? ReadView(JobHome home) => Read<View>(SilosPath(home));

    /// <summary>The placement of <paramref name="job"/> (null when the job has not run on a cluster).</summary>
    public static Placement? ReadPlacement(JobHome home, string job) => Read<Placement>(IslandsPath(home, job));

    /// <summary>The id of a cluster whose silos wrote a view of <paramref name="home"/> recently, or null.</summary>
    public static string? RunningCluster(string home)
    {
        var view = Read<View>(SilosPath(home));
        return IsLive(view) ? view!.ClusterId : null;
    }

    /// <summary>True when a silo wrote <paramref name="view"/> recently, i.e. the cluster is running on this home.</summary>
    public static bool IsLive(View? view) => view is not null && DateTimeOffset.UtcNow - view.Updated < Fresh;

    internal static void WriteView(JobHome home, View view) => home.WriteAtomically(SilosPath(home), JsonSerializer.Serialize(view, Json), durable: false);

    internal static void WritePlacement(JobHome home, string job, Placement placement) =>
        home.WriteAtomically(IslandsPath(home, job), JsonSerializer.Serialize(placement, Json), durable: false);

    private static T? Read<T>(string path) where T : class
    {
        try { return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) : null; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }
}

/// <summary>
/// <see cref="IClusterJobs"/> over a daemon home: a job runs through the daemon's own <see cref="JobRunner"/> (same
/// checkpoints, status, stop, budgets and result files), with the lockstep stepper in place of the in-process step.
/// </summary>
public sealed class HomeClusterJobs(JobHome home, DaemonOptions options, ResiliencePipeline evaluationGuard, ILoggerFactory logs) : IClusterJobs
{
    private readonly ConcurrentDictionary<string, Lazy<SearchContext>> _contexts = new(StringComparer.Ordinal);

    public SearchContext Context(string job) => _contexts.GetOrAdd(job, name => new Lazy<SearchContext>(() =>
    {
        var (spec, faults) = home.ReadSpec(name);
        if (spec is null || faults.Count > 0) throw new InvalidOperationException($"job '{name}': malformed job file: {string.Join("; ", faults)}");
        if (spec.Kind != "sr") throw new InvalidOperationException($"job '{name}': kind '{spec.Kind}' cannot run on a cluster (only sr)");
        return new SrJobFactory(evaluationGuard).Context(spec);
    }, LazyThreadSafetyMode.PublicationOnly)).Value; // a failed load (a file briefly unreachable) is retried by the next call, not remembered

    public bool IsRunnable(string job) => !home.ReadStatus(job).IsTerminal && !File.Exists(home.StopPath(job));

    /// <summary>
    /// For each funnel job whose islands ran here, the rollouts this silo ran for them (cache misses of its own
    /// rollout cache): summed over the silos and set beside the single-process count, it shows the repeated work of
    /// per-process caches.
    /// </summary>
    public IEnumerable<(string Job, long Rollouts)> IslandRollouts() =>
        from kv in _contexts
        where kv.Value.IsValueCreated
        let fitness = kv.Value.Value.Fitness is GuardedFitness g ? g.Inner : kv.Value.Value.Fitness
        where fitness is L2OEvolve.Torch.Funnel.FunnelFitness
        orderby kv.Key
        select (kv.Key, ((L2OEvolve.Torch.Funnel.FunnelFitness)fitness).RolloutsRun);

    public Task RunAsync(string job, GenerationStep step, CancellationToken ct) =>
        new JobRunner(home, new JobFactories(JobKinds.All(evaluationGuard, step)), options, logs.CreateLogger<JobRunner>()).RunAsync(job, ct);

    public void ReportPlacement(string job, string coordinatorSilo, IReadOnlyList<string> islandSilos)
    {
        try { ClusterHome.WritePlacement(home, job, new ClusterHome.Placement(coordinatorSilo, [.. islandSilos])); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // display only; the next change rewrites it
    }
}

/// <summary>
/// Every silo's scheduler in cluster mode: keeps the coordinator of each runnable job active (Orleans places it on
/// one silo; after that silo dies, the next poke from any survivor reactivates it there), and records the silos.
/// </summary>
public sealed partial class ClusterService(IOptions<DaemonOptions> options, JobHome home, IGrainFactory grains,
    IClusterMembershipService membership, ClusterConfig config, IHostApplicationLifetime lifetime, IClusterJobs jobs, ILogger<ClusterService> log) : BackgroundService
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (jobs is HomeClusterJobs homeJobs)
            foreach (var (job, rollouts) in homeJobs.IslandRollouts()) LogRollouts(job, rollouts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job}: this silo ran {Rollouts} rollouts for its islands")]
    private partial void LogRollouts(string job, long rollouts);

    private static readonly TimeSpan EnsureTimeout = TimeSpan.FromSeconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        LogStarted(home.Root, config.ClusterId, ClusterSchema.Describe(ClusterSchema.Version));
        var written = DateTimeOffset.MinValue;
        string? lastSilos = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var silos = membership.CurrentSnapshot.Members.Values
                .Select(m => new ClusterHome.Silo(m.SiloAddress.ToString(), m.Name ?? "", m.Status.ToString().ToLowerInvariant()))
                .OrderBy(s => s.Address, StringComparer.Ordinal).ToArray();
            string key = string.Join(";", silos.Select(s => s.Address + s.Status));
            if (key != lastSilos || DateTimeOffset.UtcNow - written > ClusterHome.Fresh / 3)
            {
                try
                {
                    ClusterHome.WriteView(home, new ClusterHome.View(DateTimeOffset.UtcNow, config.ClusterId, ClusterSchema.Version, silos));
                    (written, lastSilos) = (DateTimeOffset.UtcNow, key);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { LogHomeProblem(e.Message); }
            }

            bool any = false;
            foreach (var name in DaemonService.RunnableJobs(home))
            {
                if (File.Exists(home.StopPath(name)))
                {
                    var status = home.ReadStatus(name);
                    // A running coordinator handles its stop itself (final checkpoint, result); this one is idle.
                    if (status.State != JobState.Running)
                        home.WriteStatus(name, status with { State = JobState.Stopped, Message = "stopped on request", Updated = DateTimeOffset.UtcNow });
                    continue;
                }
                any = true;
                // Bounded: a coordinator on a silo that just died answers only once membership declares that silo dead.
                try { await grains.GetGrain<IJobCoordinatorGrain>(name).Ensure().WaitAsync(EnsureTimeout, stoppingToken); }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                catch (Exception e) { LogEnsureFailed(name, e.GetBaseException().Message); }
            }
            if (o.ExitWhenIdle && !any)
            {
                LogIdle();
                lifetime.StopApplication();
                break;
            }
            try { await Task.Delay(o.PollInterval, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "silo started on {Home} in cluster {Cluster}, job schema version {Schema}")]
    private partial void LogStarted(string home, string cluster, string schema);

    [LoggerMessage(Level = LogLevel.Warning, Message = "job {Job}: could not reach its coordinator (retried at the next poll): {Error}")]
    private partial void LogEnsureFailed(string job, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster view not written to the home: {Error}")]
    private partial void LogHomeProblem(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "no jobs left to run; this silo leaves the cluster")]
    private partial void LogIdle();
}

/// <summary><c>daemon --home DIR --cluster FILE</c>: one silo of a cluster that runs the jobs of a shared home.</summary>
public static partial class ClusterDaemonHost
{
    /// <summary>How long a schema claim in the membership store lasts unless a silo renews it.</summary>
    private static readonly TimeSpan SchemaLease = TimeSpan.FromSeconds(60);

    /// <summary>How often a running silo renews its claim and checks that the store still holds the cluster.</summary>
    public static readonly TimeSpan StoreCheck = TimeSpan.FromSeconds(5);

    /// <summary>Tries of the schema claim at start (1, 2, 4, 8 s apart) before the silo gives up with one error line.</summary>
    private const int ClaimAttempts = 5;

    /// <summary>
    /// Starts the silo and runs it until SIGTERM/SIGINT (or idle, with --exit-when-idle); returns the exit code.
    /// When the membership store loses the cluster (flushed, or restarted without persistence), the silo stops like
    /// on SIGTERM (its coordinators write their checkpoints) and joins again as a new silo, which recreates the
    /// membership table; the jobs resume from their checkpoints.
    /// </summary>
    public static async Task<int> RunAsync(DaemonOptions options, string configPath, ResiliencePipeline evaluationGuard, CancellationToken cancellationToken = default)
    {
        var check = new DaemonOptionsValidator().Validate(null, options);
        ClusterConfig config;
        try { config = ClusterConfig.Load(configPath); }
        catch (ClusterConfigException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return DaemonHost.ExitInvalidOptions;
        }
        if (check.Failed)
        {
            foreach (var f in check.Failures ?? []) Console.Error.WriteLine($"error: {f}");
            return DaemonHost.ExitInvalidOptions;
        }
        if (DaemonLock.IsHeld(options.Home))
        {
            Console.Error.WriteLine($"error: {options.Home}: a single-process daemon holds this home; stop it before running a cluster on it");
            return DaemonHost.ExitLocked;
        }
        using var logs = LoggerFactory.Create(ConfigureLogging);
        var log = logs.CreateLogger("L2OEvolve.Cli.Daemon.ClusterDaemonHost");
        var claimRetry = MembershipStore.Retry(log, ClaimAttempts, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
        for (int incarnation = 1; ; incarnation++)
        {
            try
            {
                if (await MembershipStore.ClaimSchemaAsync(config, SchemaLease, claimRetry, cancellationToken) is { } refusal)
                {
                    Console.Error.WriteLine($"error: {configPath}: {refusal}");
                    return DaemonHost.ExitInvalidOptions;
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Console.Error.WriteLine($"error: {configPath}: field 'redis': the membership store cannot be reached after {ClaimAttempts} attempts ({e.Message.Split('\n')[0]})");
                return 1;
            }
            catch (OperationCanceledException) { return 0; }
            var (code, storeLost) = await RunSiloAsync(options, config, evaluationGuard, cancellationToken);
            if (!storeLost || cancellationToken.IsCancellationRequested) return code;
            LogRejoining(log, config.ClusterId, incarnation + 1);
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; });
        logging.AddFilter("Orleans", LogLevel.Warning);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Polly", LogLevel.Warning);
    }

    /// <summary>One incarnation of the silo; <c>StoreLost</c> is true when it stopped because the store lost the cluster.</summary>
    private static async Task<(int Code, bool StoreLost)> RunSiloAsync(DaemonOptions options, ClusterConfig config, ResiliencePipeline evaluationGuard, CancellationToken cancellationToken)
    {
        // With --http the silo is an ASP.NET Core host serving the daemon's page over the shared home; otherwise a plain host.
        WebApplicationBuilder? web = null;
        IHostApplicationBuilder builder;
        if (options.HttpPort is { } port)
        {
            web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
            web.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(options.HttpBind), port));
            builder = web;
        }
        else builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging);
        builder.UseOrleans(silo =>
        {
            silo.UseClusterConfig(config);
            // An island call spans a batch of evaluations with all its attempts, and tuning after it.
            silo.AddLockstepSearch(options.EvaluationTimeout * (options.EvaluationAttempts + 1));
        });
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(new JobHome(options.Home, Checkpoints.PhysicalFileSystem.Instance, Resilience.Io(options.IoRetries, options.IoRetryDelay)));
        builder.Services.AddSingleton<IClusterJobs>(sp => new HomeClusterJobs(sp.GetRequiredService<JobHome>(), options, evaluationGuard, sp.GetRequiredService<ILoggerFactory>()));
        bool storeLost = false;
        IHostApplicationLifetime? lifetime = null;
        builder.Services.AddSchemaLease(config, SchemaLease, StoreCheck, () => { storeLost = true; lifetime?.StopApplication(); });
        builder.Services.AddHostedService<ClusterService>();
        if (web is null)
        {
            using var host = ((HostApplicationBuilder)builder).Build();
            lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await host.RunAsync(cancellationToken);
            return (0, storeLost);
        }
        // Every silo serves the same shared home; each keeps its own stop/resume token beside its silo port.
        var token = ControlToken.Create(Path.Combine(options.Home, "cluster", $"silo-{config.SiloPort}"));
        web.Services.AddDaemonWeb(token);
        await using var app = web.Build();
        lifetime = app.Lifetime;
        app.MapDaemonWeb();
        try { await app.StartAsync(cancellationToken); }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: --http {options.HttpPort}: cannot listen on {options.HttpBind}: {e.Message}");
            await app.StopAsync(CancellationToken.None);
            return (1, false);
        }
        string shown = options.HttpBind.Contains(':') ? $"[{options.HttpBind}]" : options.HttpBind;
        Console.WriteLine($"page: http://{shown}:{options.HttpPort}/  (stop/resume need the token {token.Value}, also in {token.Path}, owner-only)");
        await app.WaitForShutdownAsync(cancellationToken);
        return (0, storeLost);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "silo stopped because the membership store lost cluster {Cluster}; joining it again (incarnation {Incarnation}); jobs resume from their checkpoints")]
    private static partial void LogRejoining(ILogger log, string cluster, int incarnation);
}
