using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Cli.Web;
using L2OEvolve.Torch.Tests.Daemon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;

namespace L2OEvolve.Torch.Tests.Web;

/// <summary>The daemon's page and JSON API in ASP.NET Core's test host: what it shows, what it serves, what it refuses.</summary>
public class DaemonWebTests
{
    private TempDir _dir = null!;
    private JobHome _home = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private ControlToken _token = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _dir = new TempDir();
        _home = new JobHome(_dir.File("home"), PhysicalFileSystem.Instance, ResiliencePipeline.Empty);
        Specs.Submit(_home, Specs.Chain(_dir, "alpha", generations: 100));
        _home.WriteStatus("alpha", new JobStatus(JobState.Stopped, 40, 400, 8, [new(1, 0.5, "x", [0.4, 0.1]), new(5, 0.02, "x * (g3 - 1.5) / sqrt(x)", [0.015, 0.005])], 40,
            "stopped on request", DateTimeOffset.UtcNow, new JobTimings(40, 8, 4, 0.2, 1234)));
        File.WriteAllText(_home.HallOfFameCsvPath("alpha"), "complexity,loss,equation\n1,0.5,x\n");
        File.WriteAllText(Path.Combine(_home.Root, "daemon.lock"), "not for download");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(_home);
        builder.Services.AddSingleton(Options.Create(new DaemonOptions { Home = _home.Root, StatusInterval = TimeSpan.FromHours(1) }));
        _token = ControlToken.Create(_home.Root);
        builder.Services.AddDaemonWeb(_token);
        _app = builder.Build();
        _app.MapDaemonWeb();
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    [TearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<JsonElement> GetJson(string url)
    {
        var response = await _client.GetAsync(url);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), url);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Test]
    public async Task JobList_ShowsStateGenerationRateBestLossAndCheckpoint()
    {
        var jobs = await GetJson("/api/jobs");

        var alpha = jobs.EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(alpha.GetProperty("name").GetString(), Is.EqualTo("alpha"));
            Assert.That(alpha.GetProperty("state").GetString(), Is.EqualTo("stopped"));
            Assert.That(alpha.GetProperty("generation").GetInt64(), Is.EqualTo(40));
            Assert.That(alpha.GetProperty("evaluationsPerSecond").GetDouble(), Is.EqualTo(50), "400 evaluations in 8 s, the mean without samples");
            Assert.That(alpha.GetProperty("bestLoss").GetDouble(), Is.EqualTo(0.02));
            Assert.That(alpha.GetProperty("checkpointGeneration").GetInt64(), Is.EqualTo(40));
            Assert.That(alpha.GetProperty("eta").GetString(), Is.EqualTo("-"), "a stopped job has no ETA");
        });
    }

    [Test]
    public async Task JobDetail_HasTheFrontWithMathMlTheLossHistoryAndTheDownloads()
    {
        var watcher = _app.Services.GetRequiredService<JobWatcher>();
        watcher.Record("alpha", _home.ReadStatus("alpha") with { Generation = 10, ElapsedSeconds = 2, Front = [new(1, 0.9, "x")] });
        watcher.Sample();

        var detail = await GetJson("/api/jobs/alpha");

        var front = detail.GetProperty("front").EnumerateArray().ToList();
        Assert.That(front.Select(f => f.GetProperty("equation").GetString()), Is.EqualTo(new[] { "x", "x * (g3 - 1.5) / sqrt(x)" }));
        Assert.That(front[1].GetProperty("scores").EnumerateArray().Select(x => x.GetDouble()), Is.EqualTo(new[] { 0.015, 0.005 }),
            "a funnel job's imitation and rollout scores");
        string math = front[1].GetProperty("mathMl").GetString()!;
        Assert.That(math, Does.StartWith("<math").And.Contain("<mfrac>").And.Contain("<msqrt>").And.Contain("<msub><mi>g</mi><mn>3</mn></msub>"));
        var history = detail.GetProperty("history").EnumerateArray().Select(h => (h.GetProperty("generation").GetInt64(), h.GetProperty("bestLoss").GetDouble()));
        Assert.That(history, Is.EqualTo(new[] { (10L, 0.9), (40L, 0.02) }));
        Assert.That(detail.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()),
            Is.EquivalentTo(new[] { "hall_of_fame.csv", "job.json" }), "the daemon's bookkeeping (status, stop) is not offered");
    }

    [Test]
    public async Task Page_IsSelfContainedAndCarriesTheFirstView()
    {
        var response = await _client.GetAsync("/");
        string html = await response.Content.ReadAsStringAsync();

        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/html"));
        Assert.That(html, Does.Contain("id=\"pareto-plot\"").And.Contain("\"name\":\"alpha\""));
        Assert.That(html, Does.Not.Match("(src|href)=\"?(https?:)?//|<link|@import|url\\("), "nothing is fetched from elsewhere");
    }

    [Test]
    public async Task HallOfFameCsv_Downloads()
    {
        var response = await _client.GetAsync("/api/jobs/alpha/files/hall_of_fame.csv");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/csv"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.StartWith("complexity,loss,equation"));
    }

    [TestCase("/api/jobs/alpha/files/..%2F..%2Fdaemon.lock")]
    [TestCase("/api/jobs/alpha/files/%2Fetc%2Fpasswd")]
    [TestCase("/api/jobs/alpha/files/status.json")]
    [TestCase("/api/jobs/..%2F..%2Fhome/files/daemon.lock")]
    [TestCase("/api/jobs/%2E%2E/files/daemon.lock")]
    [TestCase("/api/jobs/..%2Falpha")]
    [TestCase("/api/jobs/%2Fetc")]
    [TestCase("/api/jobs/beta")]
    public async Task PathsOutsideAJob_AreRefused(string url)
    {
        var response = await _client.GetAsync(url);

        Assert.That(response.StatusCode, Is.AnyOf(HttpStatusCode.BadRequest, HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("not for download").And.Not.Contain("root:"));
    }

    [TestCase(null)]
    [TestCase("Bearer wrong")]
    [TestCase("Basic abc")]
    public async Task StopWithoutTheToken_Is401AndChangesNothing(string? authorization)
    {
        _home.WriteStatus("alpha", _home.ReadStatus("alpha") with { State = JobState.Running });
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs/alpha/stop");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await _client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(File.Exists(_home.StopPath("alpha")), Is.False);
    }

    [Test]
    public async Task ResumeWithoutTheToken_Is401AndChangesNothing()
    {
        var response = await _client.PostAsync("/api/jobs/alpha/resume", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(_home.ReadStatus("alpha").State, Is.EqualTo(JobState.Stopped));
    }

    [Test]
    public async Task StopAndResumeWithTheToken_WriteAndClearTheRequest()
    {
        _home.WriteStatus("alpha", _home.ReadStatus("alpha") with { State = JobState.Running });
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token.Value);

        var stop = await _client.PostAsync("/api/jobs/alpha/stop", null);
        Assert.That(stop.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(File.Exists(_home.StopPath("alpha")), Is.True);

        var resume = await _client.PostAsync("/api/jobs/alpha/resume", null);
        Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(File.Exists(_home.StopPath("alpha")), Is.False);
    }

    [Test]
    public async Task ControlWithTheToken_CannotReachOutsideTheHome()
    {
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token.Value);

        var response = await _client.PostAsync("/api/jobs/..%2F..%2Ftmp/stop", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(Directory.GetFiles(_dir.Path, "stop", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Token_IsStoredForItsOwnerOnly()
    {
        Assert.That(File.ReadAllText(_token.Path).Trim(), Is.EqualTo(_token.Value));
        Assert.That(File.GetUnixFileMode(_token.Path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(_token.Value, Does.Match("^[0-9a-f]{64}$"));
    }

    [Test]
    public async Task Metrics_ArePrometheusTextWithJobCountersCheckpointsRolloutsCacheAndRetries()
    {
        // One failed attempt of a guarded evaluation batch, as a flaky rollout would cause.
        int calls = 0;
        Resilience.Evaluation(TimeSpan.FromMinutes(1), 2).Execute(() => { if (calls++ == 0) throw new InvalidOperationException("flaky"); });

        _home.WriteStatus("alpha", _home.ReadStatus("alpha") with { Counters = new Dictionary<string, long> { ["cacheHits"] = 7, ["rollouts"] = 5 } });
        await _client.GetStringAsync("/metrics");
        // The daemon restarted the job: its session counts begin again, and the metric goes on from where it was.
        _home.WriteStatus("alpha", _home.ReadStatus("alpha") with { Counters = new Dictionary<string, long> { ["cacheHits"] = 2, ["rollouts"] = 5 } });
        string text = await _client.GetStringAsync("/metrics");

        Assert.That(text, Does.Contain("l2oevolve_job_evaluations_total{job=\"alpha\"} 400"));
        Assert.That(text, Does.Contain("l2oevolve_job_generations_total{job=\"alpha\"} 40"));
        Assert.That(text, Does.Contain("l2oevolve_job_checkpoint_bytes{job=\"alpha\"} 1234"));
        Assert.That(text, Does.Contain("l2oevolve_job_checkpoint_mean_seconds{job=\"alpha\"} 0.05"));
        Assert.That(text, Does.Match(@"\nl2oevolve_evaluation_retries_total [1-9]"));
        Assert.That(text, Does.Contain("l2oevolve_job_cache_hits_total{job=\"alpha\"} 9"));
        Assert.That(text, Does.Contain("l2oevolve_job_rollouts_total{job=\"alpha\"} 5"));
        Assert.That(text, Does.Contain("l2oevolve_job_checkpoints_total{job=\"alpha\"} 4"));
    }
}
