using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Prometheus;

namespace L2OEvolve.Cli.Web;

/// <summary>
/// The daemon with its live page (<c>daemon --http PORT</c>): the same services as <see cref="DaemonHost"/> inside an
/// ASP.NET Core host, plus a read-only JSON API, the page, downloads, token-guarded stop/resume and <c>/metrics</c>.
/// </summary>
public static class DaemonWeb
{
    /// <summary>Runs the daemon and its page until SIGTERM/SIGINT (the caller holds the home's lock); returns the exit code.</summary>
    public static async Task<int> RunAsync(DaemonOptions options, IEnumerable<ISearchJobFactory> factories, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        DaemonHost.ConfigureLogging(builder.Logging);
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(options.HttpBind), options.HttpPort!.Value));
        builder.Services.AddDaemon(options, factories);
        var token = ControlToken.Create(options.Home);
        builder.Services.AddDaemonWeb(token);
        await using var app = builder.Build();
        app.MapDaemonWeb();
        try { await app.StartAsync(cancellationToken); }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: --http {options.HttpPort}: cannot listen on {options.HttpBind}: {e.Message}");
            await app.StopAsync(CancellationToken.None); // jobs that started meanwhile save their state
            return 1;
        }
        string host = options.HttpBind.Contains(':') ? $"[{options.HttpBind}]" : options.HttpBind;
        Console.WriteLine($"page: http://{host}:{options.HttpPort}/  (stop/resume need the token {token.Value}, also in {token.Path}, owner-only)");
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>Registers the page's services; needs the <see cref="JobHome"/> (and, for sampling, the <see cref="DaemonOptions"/>) of <see cref="DaemonHost.AddDaemon"/>.</summary>
    public static IServiceCollection AddDaemonWeb(this IServiceCollection services, ControlToken token)
    {
        services.AddSingleton(token);
        services.AddSingleton(sp => new JobWatcher(sp.GetRequiredService<JobHome>()));
        services.AddSingleton<DaemonMetrics>();
        services.AddHostedService<WatcherService>();
        services.Configure<JsonOptions>(j =>
        {
            j.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            j.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        return services;
    }

    /// <summary>Maps the page, the JSON API, the downloads, stop/resume and <c>/metrics</c>.</summary>
    public static void MapDaemonWeb(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (JobWatcher w, IOptions<JsonOptions> json) => Results.Content(Page(w, json.Value.SerializerOptions), "text/html; charset=utf-8"));
        app.MapGet("/api/jobs", (JobWatcher w) => Results.Ok(Overview(w)));
        app.MapGet("/api/jobs/{name}", (string name, JobWatcher w) =>
            JobFiles.Check(w.Home, name) ?? Results.Ok(Detail(w, name)));
        app.MapGet("/api/jobs/{name}/files/{file}", (string name, string file, JobWatcher w) =>
        {
            if (JobFiles.Check(w.Home, name) is { } bad) return bad;
            return JobFiles.Resolve(w.Home, name, file) is { } path
                ? Results.File(path, file.EndsWith(".csv", StringComparison.Ordinal) ? "text/csv" : "text/plain", file)
                : Results.NotFound(new { error = $"job '{name}' has no file '{file}'" });
        });
        app.MapPost("/api/jobs/{name}/stop", (string name, HttpRequest r, JobWatcher w, ControlToken t) => Control(r, t, w.Home, name, JobControl.Stop));
        app.MapPost("/api/jobs/{name}/resume", (string name, HttpRequest r, JobWatcher w, ControlToken t) => Control(r, t, w.Home, name, JobControl.Resume));
        app.MapMetrics("/metrics", app.ServiceProvider.GetRequiredService<DaemonMetrics>().Registry);
    }

    /// <summary>The token is checked before anything else, so a request without it learns nothing, not even whether a job exists.</summary>
    private static IResult Control(HttpRequest request, ControlToken token, JobHome home, string name, Func<JobHome, string, ControlOutcome> action)
    {
        if (!token.Accepts(request.Headers.Authorization))
            return Results.Json(new { error = "missing or wrong token (Authorization: Bearer TOKEN, from the home's http.token)" }, statusCode: 401);
        if (JobFiles.Check(home, name) is { } bad) return bad;
        var outcome = action(home, name);
        return outcome.Done ? Results.Ok(new { message = outcome.Message }) : Results.Conflict(new { error = outcome.Message });
    }

    /// <summary>The job list.</summary>
    public static IReadOnlyList<JobSummary> Overview(JobWatcher w) => [.. w.Home.JobNames().Select(n => w.Summary(n))];

    /// <summary>One job: its row, its front with rendered math, best loss over time, timings, counters and downloads.</summary>
    public static JobDetail Detail(JobWatcher w, string name)
    {
        var status = w.Home.ReadStatus(name);
        return new JobDetail(w.Summary(name),
            [.. status.Front.Select(p => new FrontEntry(p.Complexity, p.Loss, p.Equation, MathMl.FromInfix(p.Equation), p.Scores))],
            w.History(name), status.Timings, status.Counters ?? new Dictionary<string, long>(), JobFiles.List(w.Home, name));
    }

    private static string Page(JobWatcher w, JsonSerializerOptions json)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("daemon-page.html")!;
        string html = new StreamReader(stream).ReadToEnd();
        var jobs = Overview(w);
        // The first view is in the page itself (the job list and the first job), so it shows without waiting for a
        // request; the default encoder escapes '<', so no job name or message can close the script element.
        return html
            .Replace("/*INITIAL_JOBS*/[]", JsonSerializer.Serialize(jobs, json), StringComparison.Ordinal)
            .Replace("/*INITIAL_DETAIL*/null", jobs.Count == 0 ? "null" : JsonSerializer.Serialize(Detail(w, jobs[0].Name), json), StringComparison.Ordinal);
    }

    /// <summary>Samples the status files for the best loss over time as often as the daemon refreshes them.</summary>
    private sealed class WatcherService(JobWatcher watcher, IOptions<DaemonOptions> options) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            // Status files change at most this often; a very short interval (as tests use) need not be sampled faster than 5 Hz.
            using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(options.Value.StatusInterval.Ticks, TimeSpan.FromMilliseconds(200).Ticks)));
            try
            {
                do
                {
                    try { watcher.Sample(); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a job directory removed mid-scan; the next tick sees the rest
                }
                while (await timer.WaitForNextTickAsync(stoppingToken));
            }
            catch (OperationCanceledException) { }
        }
    }
}

/// <summary>One job in detail, as <c>/api/jobs/NAME</c> returns it.</summary>
public sealed record JobDetail(JobSummary Summary, IReadOnlyList<FrontEntry> Front, IReadOnlyList<LossSample> History, JobTimings? Timings,
    IReadOnlyDictionary<string, long> Counters, IReadOnlyList<JobFile> Files);

/// <summary>A rule on the front: infix text, MathML when the text parses, and for funnel jobs the imitation and rollout scores.</summary>
public sealed record FrontEntry(int Complexity, double Loss, string Equation, string? MathMl, IReadOnlyList<double>? Scores);
