using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Commands;
using L2OEvolve.Torch.Regression;
using L2OEvolve.Cli.Daemon;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Tests.Cli;
using Microsoft.Extensions.Logging.Abstractions;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

/// <summary>sr jobs with the funnel fitness (imitation, then rollouts), as <c>sr --rollout-optimizee</c> runs it.</summary>
public class SrJobFunnelTests
{
    // A recorded-like table: features a teacher sees, and its raw output -2·mt0; rollouts on a quadratic, 8 steps, 1 seed.
    private static readonly (string Key, string Value)[] Funnel =
        [("rolloutOptimizee", "quadratic"), ("rolloutSteps", "8"), ("rolloutSeeds", "1"), ("rolloutScale", "0.02"), ("imitationPass", "0.8")];

    private static readonly string[] FunnelOptions =
        ["--rollout-optimizee", "quadratic", "--rollout-steps", "8", "--rollout-seeds", "1", "--rollout-scale", "0.02", "--imitation-pass", "0.8"];

    private static (string Data, string Grammar) Problem(TempDir dir)
    {
        if (!File.Exists(dir.File("rows.csv")))
        {
            var rng = new Rng(5);
            var csv = new StringBuilder("g0,mt0,gt0,y\n");
            for (int i = 0; i < 120; i++)
            {
                double g = rng.NextGaussian(), mt = 0.5 * g + 0.5 * rng.NextGaussian(), gt = Math.Abs(rng.NextGaussian());
                csv.Append(CultureInfo.InvariantCulture, $"{g:R},{mt:R},{gt:R},{-2 * mt:R}\n");
            }
            File.WriteAllText(dir.File("rows.csv"), csv.ToString());
            File.WriteAllText(dir.File("g.json"), """{"name": "tiny", "features": "from-data", "operators": {"+": 1, "*": 1}, "maxsize": 7}""");
        }
        return (dir.File("rows.csv"), dir.File("g.json"));
    }

    private static JobSpec Spec(TempDir dir, long generations, params (string Key, string Value)[] settings)
    {
        var (data, grammar) = Problem(dir);
        var map = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                new[] { KeyValuePair.Create("islands", "2"), KeyValuePair.Create("populationSize", "16") })
            .SetItems(settings.Select(kv => KeyValuePair.Create(kv.Key, kv.Value)));
        return new JobSpec("f", "sr", DateTimeOffset.UnixEpoch, data, null, [], grammar, new JobBudget(generations, null, null),
            Seed: 4, Threads: 1, map, WarmStart: ["-1 * g0"]);
    }

    private static (JobHome Home, JobRunner Runner) Runner(string path)
    {
        var home = new JobHome(path, PhysicalFileSystem.Instance, Resilience.Io(1, TimeSpan.FromMilliseconds(1)));
        var options = new DaemonOptions { Home = path, CheckpointEveryGenerations = 100, KeepCheckpoints = 2, EvaluationAttempts = 1, StatusInterval = TimeSpan.FromSeconds(1) };
        // A fresh factory per runner: the resumed run starts with empty fitness caches, as after a daemon restart.
        return (home, new JobRunner(home, new JobFactories([new SrJobFactory()]), options, NullLogger.Instance));
    }

    [Test]
    public async Task RunAsync_FunnelJobCheckpointedThenResumed_EqualsTheStraightRunAndSr()
    {
        using var dir = new TempDir();
        var (straightHome, straight) = Runner(dir.File("straight"));
        Specs.Submit(straightHome, Spec(dir, 14, Funnel));
        await straight.RunAsync("f", CancellationToken.None);

        // Run 6 generations (final checkpoint at 6), raise the budget, and carry on from that checkpoint in a new runner.
        var (home, first) = Runner(dir.File("resumed"));
        Specs.Submit(home, Spec(dir, 6, Funnel));
        await first.RunAsync("f", CancellationToken.None);
        long? checkpointed = home.ReadStatus("f").CheckpointGeneration;
        Specs.Submit(home, Spec(dir, 14, Funnel));
        var (_, second) = Runner(dir.File("resumed"));
        await second.RunAsync("f", CancellationToken.None);

        using var cli = new CliRunner();
        var (data, grammar) = Problem(dir);
        var (code, _, stderr) = cli.Run(["sr", "--data", data, "--grammar", grammar, "--generations", "14", "--seed", "4", "--threads", "1",
            "--islands", "2", "--population", "16", "--warm-start", "-1 * g0", .. FunnelOptions, "--quiet", "--out", cli.PathOf("sr")]);

        string straightCsv = File.ReadAllText(straightHome.HallOfFameCsvPath("f"));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, stderr);
            Assert.That(checkpointed, Is.EqualTo(6));
            Assert.That(home.ReadStatus("f").State, Is.EqualTo(JobState.Finished), home.ReadStatus("f").Message);
            // Under the funnel, Loss = (1 − R2) + rollout score; a rule that makes progress on the quadratic scores below 1 there.
            Assert.That(straightCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('|'))
                    .Select(p => double.Parse(p[1], CultureInfo.InvariantCulture) - (1 - double.Parse(p[2], CultureInfo.InvariantCulture))),
                Has.Some.InRange(1e-6, 0.99), "some member was scored by rollouts: " + straightCsv);
            Assert.That(File.ReadAllText(home.HallOfFameCsvPath("f")), Is.EqualTo(straightCsv));
            Assert.That(File.ReadAllText(cli.PathOf("sr/hall_of_fame.csv")), Is.EqualTo(straightCsv));
        });
    }

    [Test]
    public async Task RunAsync_FunnelJob_ReportsItsRolloutsAndScoresInItsStatus()
    {
        using var dir = new TempDir();
        var (home, runner) = Runner(dir.File("h"));
        Specs.Submit(home, Spec(dir, 3, Funnel));

        await runner.RunAsync("f", CancellationToken.None);

        var counters = home.ReadStatus("f").Counters;
        Assert.That(counters, Is.Not.Null);
        Assert.That(counters!.GetValueOrDefault("rollouts"), Is.GreaterThan(0));
        // Both caches hold one entry per distinct rule scored (rolled out or refused, for the records), so at most
        // the evaluations spent, and some once rollouts ran.
        long evaluations = home.ReadStatus("f").Evaluations;
        Assert.That(counters!.GetValueOrDefault("rolloutRecords"), Is.InRange(1, evaluations));
        Assert.That(counters!.GetValueOrDefault("cacheEntries"), Is.InRange(1, evaluations));
        // The front carries the parts of each loss: imitation, then one rollout score per stage.
        var front = home.ReadStatus("f").Front;
        Assert.That(front, Is.Not.Empty);
        Assert.That(front.Select(p => p.Scores?.Count), Has.All.EqualTo(2));
    }

    [Test]
    public async Task RunAsync_RolloutStepsChangedSinceCheckpoint_RefusesNamingTheSetting()
    {
        using var dir = new TempDir();
        var (home, runner) = Runner(dir.File("home"));
        Specs.Submit(home, Spec(dir, 1, Funnel));
        await runner.RunAsync("f", CancellationToken.None);
        Specs.Submit(home, Spec(dir, 2, [.. Funnel.Where(kv => kv.Key != "rolloutSteps"), ("rolloutSteps", "9")]));

        await Runner(dir.File("home")).Runner.RunAsync("f", CancellationToken.None);

        var status = home.ReadStatus("f");
        Assert.That(status.State, Is.EqualTo(JobState.Failed));
        Assert.That(status.Message, Does.Contain("changed incompatibly: settings.rolloutSteps"));
    }

    [Test]
    public void IncompatibleFields_FunnelAddedToAPlainJob_NamesEveryRolloutSetting()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var saved = factory.Prepare(Spec(dir, 1)).Fingerprint;
        var changed = factory.Prepare(Spec(dir, 1, ("rolloutOptimizee", "quadratic")));
        Assert.That(changed.IncompatibleFields(saved), Is.EqualTo(new[]
            { "settings.imitationPass", "settings.rolloutOptimizee", "settings.rolloutScale", "settings.rolloutSeeds", "settings.rolloutSteps" }));
    }

    [Test]
    public void Validate_BadRolloutSettings_AreNamed()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var unknown = factory.Validate(Spec(dir, 1, ("rolloutOptimizee", "nope"), ("rolloutSeeds", "0")));
        var malformed = factory.Validate(Spec(dir, 1, ("rolloutOptimizee", "quadratic"), ("rolloutSteps", "ten")));
        var orphan = factory.Validate(Spec(dir, 1, ("rolloutSeeds", "2")));
        Assert.Multiple(() =>
        {
            Assert.That(unknown.Select(f => (f.Field, f.Fault.Contains("unknown optimizee 'nope'") || f.Fault.Contains("at least 1"))),
                Is.EquivalentTo(new[] { ("settings.rolloutOptimizee", true), ("settings.rolloutSeeds", true) }));
            Assert.That(malformed.Select(f => f.Field), Is.EqualTo(new[] { "settings.rolloutSteps" }));
            Assert.That(orphan.Single().Fault, Does.Contain("applies only with settings.rolloutOptimizee"));
        });
    }

    [Test]
    public void Submit_RolloutOptions_AreStoredAsJobSettings()
    {
        using var cli = new CliRunner();
        using var dir = new TempDir();
        var (data, grammar) = Problem(dir);
        var (code, _, stderr) = cli.Run(["submit", "--home", cli.PathOf("home"), "--name", "f", "--data", data, "--grammar", grammar,
            "--rollout-optimizee", "quadratic", "--rollout-optimizee", "rosenbrock", "--rollout-steps", "8", "--rollout-steps", "20", "--rollout-seeds", "2"]);
        Assert.That(code, Is.Zero, stderr);
        var spec = new JobHome(cli.PathOf("home"), PhysicalFileSystem.Instance, Resilience.Io(0, TimeSpan.Zero)).ReadSpec("f").Spec!;
        Assert.That(spec.Settings, Is.EquivalentTo(new Dictionary<string, string>
            { ["rolloutOptimizee"] = "quadratic;rosenbrock", ["rolloutSteps"] = "8;20", ["rolloutSeeds"] = "2" }));
        Assert.That(SrJobFactory.Rollouts(spec), Is.EqualTo(new RolloutOptions(["quadratic", "rosenbrock"], [8, 20], Seeds: 2)).Using<RolloutOptions>(Same));
    }

    [Test]
    public void Submit_UnknownRolloutOptimizee_IsRejectedNamingTheOption()
    {
        using var cli = new CliRunner();
        using var dir = new TempDir();
        var (data, grammar) = Problem(dir);
        var (code, _, stderr) = cli.Run(["submit", "--home", cli.PathOf("home"), "--name", "f", "--data", data, "--grammar", grammar,
            "--rollout-optimizee", "nope", "--rollout-seeds", "0"]);
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr, Does.Contain("--rollout-optimizee: unknown optimizee 'nope'").And.Contain("--rollout-seeds: must be at least 1"));
    }

    // Records with ImmutableArray members compare the arrays by reference; these compare by content.
    private static bool Same(RolloutOptions a, RolloutOptions b) =>
        a.Optimizees.SequenceEqual(b.Optimizees) && a.Steps.SequenceEqual(b.Steps) && (a.Seeds, a.Scale, a.ImitationPass) == (b.Seeds, b.Scale, b.ImitationPass);
}
