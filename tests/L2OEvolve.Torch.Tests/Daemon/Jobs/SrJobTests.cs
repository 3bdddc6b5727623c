using System.Collections.Immutable;
using System.Globalization;
using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

public class SrJobTests
{
    private static JobSpec Spec(TempDir dir, params (string Key, string Value)[] settings)
    {
        if (!File.Exists(dir.File("data.csv")))
        {
            var rng = new L2OEvolve.Engine.Random.Rng(3);
            var csv = new System.Text.StringBuilder("a,b,y\n");
            for (int i = 0; i < 80; i++)
            {
                double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 2 - 1;
                csv.Append(CultureInfo.InvariantCulture, $"{a:R},{b:R},{a * b - b:R}\n");
            }
            File.WriteAllText(dir.File("data.csv"), csv.ToString());
        }
        var map = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                new[] { KeyValuePair.Create("islands", "2"), KeyValuePair.Create("populationSize", "20") })
            .SetItems(settings.Select(kv => KeyValuePair.Create(kv.Key, kv.Value)));
        return new JobSpec("j", "sr", DateTimeOffset.UnixEpoch, dir.File("data.csv"), null, [], GrammarPath(), new JobBudget(10, null, null),
            Seed: 4, Threads: 1, map);
    }

    private static string GrammarPath()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "grammars", "arith.json"))) return Path.Combine(d.FullName, "grammars", "arith.json");
        throw new FileNotFoundException("grammars/arith.json");
    }

    private static ISearchJob Steps(ISearchJob job, int n)
    {
        for (int i = 0; i < n; i++) job = job.Step(CancellationToken.None);
        return job;
    }

    [Test]
    public void Resume_FromSavedState_ContinuesBitIdentically()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var straight = Steps(factory.Prepare(Spec(dir)).Start(), 8);
        var saved = Steps(factory.Prepare(Spec(dir)).Start(), 3).SaveState();

        var resumed = Steps(factory.Prepare(Spec(dir)).Resume(saved), 5);

        Assert.That(resumed.Generation, Is.EqualTo(8));
        Assert.That(resumed.SaveState(), Is.EqualTo(straight.SaveState()));
        Assert.That(resumed.Report(), Is.EqualTo(straight.Report()));
    }

    [Test]
    public void Resume_StateNamingAnOperatorThatIsNotLoaded_IsRefusedNamingIt()
    {
        // A checkpoint written where an operator existed (a plug-in or a define), resumed where it does not: here the
        // saved trees' operator name is swapped for one of the same length that nothing registers.
        using var dir = new TempDir();
        File.WriteAllText(dir.File("g.json"), """
            { "define": { "srjobtest_sq(x)": "x * x" }, "features": ["a", "b"], "operators": ["+", "-", "*", "srjobtest_sq"] }
            """);
        var spec = Spec(dir) with { Grammar = dir.File("g.json"), WarmStart = ["srjobtest_sq(a) - b"] };
        var factory = new SrJobFactory();
        var saved = Steps(factory.Prepare(spec).Start(), 2).SaveState();
        var from = System.Text.Encoding.UTF8.GetBytes("srjobtest_sq");
        var to = System.Text.Encoding.UTF8.GetBytes("srjobtest_zz");
        int swapped = 0;
        for (int i = 0; i + from.Length <= saved.Length; i++)
            if (saved.AsSpan(i, from.Length).SequenceEqual(from)) { to.CopyTo(saved.AsSpan(i)); swapped++; }
        Assert.That(swapped, Is.GreaterThan(0), "the state holds trees using the operator");

        var e = Assert.Throws<JobIncompatibleException>(() => factory.Prepare(spec).Resume(saved))!;
        Assert.That(e.Message, Does.Contain("'srjobtest_zz'").And.Contain("--plugin"));
    }

    [Test]
    public void IncompatibleFields_PopulationSizeChanged_NamesTheSettingsField()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var saved = factory.Prepare(Spec(dir)).Fingerprint;
        var changed = factory.Prepare(Spec(dir, ("populationSize", "24")));
        Assert.That(changed.IncompatibleFields(saved), Is.EqualTo(new[] { "settings.Population.Size" }));
    }

    [Test]
    public void IncompatibleFields_RateChanged_IsAccepted()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var saved = factory.Prepare(Spec(dir)).Fingerprint;
        var changed = factory.Prepare(Spec(dir, ("crossoverProbability", "0.2")));
        Assert.That(changed.IncompatibleFields(saved), Is.Empty);
    }

    [Test]
    public void IncompatibleFields_DataEditedAndSeedChanged_NamesBoth()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var saved = factory.Prepare(Spec(dir)).Fingerprint;
        File.AppendAllText(dir.File("data.csv"), "0.5,0.5,0.25\n");
        var changed = factory.Prepare(Spec(dir) with { Seed = 5 });
        Assert.That(changed.IncompatibleFields(saved), Is.EqualTo(new[] { "data", "seed" }));
    }

    [Test]
    public void Validate_UnknownAndMalformedSettings_AreNamed()
    {
        using var dir = new TempDir();
        var faults = new SrJobFactory().Validate(Spec(dir, ("colour", "red"), ("tournamentProbability", "1.5"), ("batchRows", "-1")) with { WarmStart = ["a +"] });
        Assert.That(faults.Select(f => f.Field), Is.EquivalentTo(new[] { "settings.colour", "settings.tournamentProbability", "settings.batchRows", "warmStart" }));
    }

    [Test]
    public void IsConverged_TargetR2_OnlyOnceTheBestLossReachesIt()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var unreachable = factory.Prepare(Spec(dir) with { Budget = new JobBudget(10, null, null, TargetR2: 1) }).Start();
        var trivial = factory.Prepare(Spec(dir) with { Budget = new JobBudget(10, null, null, TargetR2: -1e9) }).Start();
        var none = factory.Prepare(Spec(dir)).Start();
        Assert.That((unreachable.IsConverged, trivial.IsConverged, none.IsConverged), Is.EqualTo((false, true, false)));
    }

    [Test]
    public void Prepare_GrammarFeatureMissingFromData_NamesTheGrammarFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("g.json"), """{ "name": "needs-z", "features": ["a", "z"], "operators": { "+": 1 } }""");
        var e = Assert.Throws<JobInputException>(() => new SrJobFactory().Prepare(Spec(dir) with { Grammar = dir.File("g.json") }))!;
        Assert.That(e.Message, Does.StartWith(dir.File("g.json") + ": $.features: ").And.Contain("needs feature(s) z which the data lacks"));
    }

    [Test]
    public void Prepare_MissingColumn_NamesTheFile()
    {
        using var dir = new TempDir();
        var spec = Spec(dir) with { Target = "nope" };
        var e = Assert.Throws<JobInputException>(() => new SrJobFactory().Prepare(spec))!;
        Assert.That(e.Message, Does.Contain("data.csv").And.Contain("nope"));
    }
}
