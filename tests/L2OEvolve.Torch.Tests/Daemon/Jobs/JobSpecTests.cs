using L2OEvolve.Cli.Jobs;

namespace L2OEvolve.Torch.Tests.Daemon.Jobs;

public class JobSpecTests
{
    [Test]
    public void Parse_WrittenSpec_RoundTrips()
    {
        using var dir = new TempDir();
        var spec = Specs.Chain(dir, "job-1", 40, seed: 12345678901234567890UL) with
        {
            Target = "y", Features = ["a", "b"], Budget = new JobBudget(40, 90.5, 1000),
            Settings = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["width"] = "3" }),
        };
        var (back, faults) = JobSpec.Parse(spec.ToJson(), "job.json");
        Assert.That(faults, Is.Empty);
        Assert.That(back!.ToJson(), Is.EqualTo(spec.ToJson()));
        Assert.That((back.Seed, back.Budget, back.Target), Is.EqualTo((spec.Seed, spec.Budget, spec.Target)));
    }

    [Test]
    public void Parse_TargetR2_RoundTripsAndMustBeAtMostOne()
    {
        using var dir = new TempDir();
        var spec = Specs.Chain(dir, "a", 10) with { Budget = new JobBudget(10, null, null, TargetR2: 0.99) };
        var (back, faults) = JobSpec.Parse(spec.ToJson(), "job.json");
        Assert.That(faults, Is.Empty);
        Assert.That(back!.Budget.TargetR2, Is.EqualTo(0.99));

        var (_, bad) = JobSpec.Parse(spec.ToJson().Replace("\"targetR2\": 0.99", "\"targetR2\": 1.5"), "job.json");
        Assert.That(bad.Select(f => f.ToString()), Is.EqualTo(new[] { "job.json: field 'targetR2': must be a number at most 1 (got 1.5)" }));
    }

    [Test]
    public void Parse_NotJson_NamesTheFileAndLine()
    {
        var (spec, faults) = JobSpec.Parse("{\n  \"name\": \"a\",\n  oops\n}", "/h/jobs/a/job.json");
        Assert.That(spec, Is.Null);
        Assert.That(faults.Single().ToString(), Does.StartWith("/h/jobs/a/job.json: field '(document)': not valid JSON at line 3"));
    }

    [Test]
    public void Parse_MissingAndMistypedFields_ReportsEachWithItsField()
    {
        const string json = """{ "schema": 1, "name": "a", "generations": "many", "seed": -1, "colour": "red" }""";
        var (spec, faults) = JobSpec.Parse(json, "job.json");
        Assert.That(spec, Is.Null);
        Assert.That(faults.Select(f => f.ToString()), Is.EquivalentTo(new[]
        {
            "job.json: field 'colour': unknown field",
            "job.json: field 'data': missing (required)",
            "job.json: field 'grammar': missing (required)",
            "job.json: field 'generations': expected an integer, found the string \"many\"",
            "job.json: field 'seed': expected a non-negative integer, found the number -1",
        }));
    }

    [Test]
    public void Parse_BadValues_AreRejected()
    {
        using var dir = new TempDir();
        var json = Specs.Chain(dir, "a", 10).ToJson().Replace("\"generations\": 10", "\"generations\": -3").Replace("\"threads\": 1", "\"threads\": 0");
        var (_, faults) = JobSpec.Parse(json, "job.json");
        Assert.That(faults.Select(f => f.Field), Is.EquivalentTo(new[] { "generations", "threads" }));
        Assert.That(faults.First(f => f.Field == "generations").Fault, Does.Contain("-3"));
    }

    [Test]
    public void Validate_MissingInputFiles_NamesThem()
    {
        using var dir = new TempDir();
        var spec = Specs.Chain(dir, "a", 10) with { Data = dir.File("nope.csv") };
        Assert.That(spec.Validate("submit").Single().ToString(), Does.Contain("field 'data': file not found").And.Contain("nope.csv"));
    }

    [TestCase("ok-name_1.2", true)]
    [TestCase("../escape", false)]
    [TestCase("", false)]
    [TestCase("has space", false)]
    public void NameFault_Names_AcceptsOnlySafeDirectoryNames(string name, bool ok) =>
        Assert.That(JobSpec.NameFault(name) is null, Is.EqualTo(ok));
}
