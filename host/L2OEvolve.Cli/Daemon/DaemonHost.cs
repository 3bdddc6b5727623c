using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L2OEvolve.Cli.Daemon;

/// <summary>The daemon's composition root: a .NET Generic Host around <see cref="DaemonService"/>.</summary>
public static class DaemonHost
{
    /// <summary>Exit code when the options are invalid.</summary>
    public const int ExitInvalidOptions = L2OEvolve.Engine.InputException.ExitCode;

    /// <summary>Exit code when another daemon holds the home's lock.</summary>
    public const int ExitLocked = 3;

    /// <summary>Exit code when the home cannot be written (full disk, read-only file system): not bad input, not a lock.</summary>
    public const int ExitHomeUnusable = 1;

    /// <summary>
    /// Validates <paramref name="options"/>, takes the home's lock, and runs the host until SIGTERM/SIGINT (or, with
    /// <see cref="DaemonOptions.ExitWhenIdle"/>, until no job is left); returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(DaemonOptions options, IEnumerable<ISearchJobFactory> factories, CancellationToken cancellationToken = default)
    {
        var check = new DaemonOptionsValidator().Validate(null, options);
        if (check.Failed)
        {
            foreach (var f in check.Failures ?? []) Console.Error.WriteLine($"error: {f}");
            return ExitInvalidOptions;
        }

        DaemonLock held;
        try { held = DaemonLock.Acquire(options.Home); }
        catch (DaemonLockedException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitLocked;
        }
        catch (DaemonHomeException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitHomeUnusable;
        }

        using (held)
        {
            if (ClusterHome.RunningCluster(options.Home) is { } cluster)
            {
                Console.Error.WriteLine($"error: {options.Home}: cluster '{cluster}' is running on this home; stop its silos first");
                return ExitLocked;
            }
            if (options.HttpPort is not null) return await Web.DaemonWeb.RunAsync(options, factories, cancellationToken);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                Args = [],
                ContentRootPath = AppContext.BaseDirectory,
            });
            ConfigureLogging(builder.Logging);
            builder.Services.AddDaemon(options, factories);
            using var host = builder.Build();
            await host.RunAsync(cancellationToken);
            return 0;
        }
    }

    /// <summary>One timestamped line per log message on the console, with or without the page.</summary>
    internal static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; });
    }

    /// <summary>
    /// Registers the daemon's services: the options (<see cref="RunAsync"/> has validated them), shutdown timeout, home
    /// (with the I/O pipeline), job kinds (whose fitnesses carry the evaluation pipeline), runner, scheduler.
    /// </summary>
    public static IServiceCollection AddDaemon(this IServiceCollection services, DaemonOptions options, IEnumerable<ISearchJobFactory> factories)
    {
        services.AddSingleton(Options.Create(options));
        // The final checkpoints are written after the stop signal, so the host must wait for them.
        services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<DaemonOptions>>().Value;
            return new JobHome(o.Home, PhysicalFileSystem.Instance, Resilience.Io(o.IoRetries, o.IoRetryDelay));
        });
        services.AddSingleton(new JobFactories(factories));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<DaemonOptions>>().Value;
            return new JobRunner(sp.GetRequiredService<JobHome>(), sp.GetRequiredService<JobFactories>(), o,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<JobRunner>());
        });
        services.AddHostedService<DaemonService>();
        return services;
    }
}
