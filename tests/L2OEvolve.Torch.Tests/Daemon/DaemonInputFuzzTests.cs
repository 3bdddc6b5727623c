using CsCheck;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;
using L2OEvolve.Engine.Tests.Fuzz;
using L2OEvolve.Torch.Rules;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>
/// Hostile job files, rule files and checkpoints by the thousand: each reader returns a valid result or its documented
/// fault (job faults, an input error, a corrupt-checkpoint or format error), never any other exception.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class DaemonInputFuzzTests
{
    private const long Iterations = 2000;

    [Test]
    public void JobSpecParse_MutatedJobFiles_ReturnASpecOrFaultsAndNeverThrow()
    {
        using var dir = new TempDir();
        var seed = Specs.Chain(dir, "a", 10) with
        {
            Budget = new JobBudget(10, 60, 5000, TargetR2: 0.99),
            Settings = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [KeyValuePair.Create("islands", "2"), KeyValuePair.Create("populationSize", "16")]),
            WarmStart = ["-1 * g0"],
        };
        Mutations.Of(seed.ToJson()).Sample(text =>
        {
            var (spec, faults) = JobSpec.Parse(text, "job.json", expectedName: "a");
            Assert.That(spec is null, Is.EqualTo(faults.Count > 0), "a spec exactly when there are no faults");
            foreach (var f in faults) Assert.That(f.ToString(), Does.StartWith("job.json: field '").And.Not.Contain("\n"));
            if (spec is not null) Assert.That(JobSpec.Parse(spec.ToJson(), "job.json").Spec, Is.Not.Null, "a valid spec writes back valid");
        }, iter: Iterations, threads: 1, seed: "0000000000011");
    }

    [Test]
    public void SrJobValidate_MutatedSettings_AreFaultsNotExceptions()
    {
        using var dir = new TempDir();
        var factory = new SrJobFactory();
        var keys = new[] { "islands", "populationSize", "offspring", "initialMaxSize", "tournamentSize", "temperature", "batchRows", "rolloutOptimizee", "rolloutSteps", "rolloutSeeds" };
        var gen = from key in Gen.OneOf(keys)
                  from value in Gen.OneOf(Mutations.Tokens.Concat(["2", "16", "1000000", "2000000000", "quadratic", "mlp-fashion:batch=0", "3;4"]).ToArray())
                  select (key, value);
        gen.Array[1, 3].Sample(pairs =>
        {
            var settings = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                pairs.GroupBy(p => p.key).Select(g => KeyValuePair.Create(g.Key, g.Last().value)));
            var spec = Specs.Chain(dir, "a", 10) with { Kind = "sr", Settings = settings };
            var faults = factory.Validate(spec);
            if (faults.Count == 0) SrJobFactory.Settings(spec);
        }, iter: Iterations, threads: 1, seed: "0000000000012");
    }

    [Test]
    public void RuleFileParse_MutatedRuleFiles_LoadOrFailWithAnInputError()
    {
        string[] seeds =
        [
            """{"name": "adam", "rule": "-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-8)", "description": "Adam"}""",
            """{"name": "sgd", "rule": "-0.01 * g", "features": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t_scale": 1}}""",
            """{"rule": "-0.003 * (gt + tanh(mom5)) + lag(2, g)"}""",
        ];
        Mutations.OfAny(seeds).Sample(text =>
        {
            try
            {
                var rule = RuleFile.Parse(text, "r.rule.json");
                foreach (var format in Enum.GetValues<L2OEvolve.Torch.Export.ExportFormat>())
                    L2OEvolve.Torch.Export.RuleExport.Export(rule, format);
            }
            catch (InputException e) { Assert.That(e.Message, Does.Not.Contain("\n")); }
        }, iter: Iterations, threads: 1, seed: "0000000000013");
    }

    [Test]
    public void Checkpoints_MutatedFiles_AreRejectedAsCorruptOrDecodeToAState()
    {
        using var dir = new TempDir();
        var ctx = SearchContext.Create(SearchSettings.Default(3) with { Population = new PopulationSettings(2, 8, 2, 4) },
            L2OEvolve.Engine.Grammars.GrammarJson.Parse("""{"features": ["x0"], "operators": {"+": 1, "*": 1}, "maxsize": 9}"""),
            MseFitness.Rows(["x0"], [[1f, 2f, 3f, 4f]], [2f, 4f, 6f, 8f]), null, null, 1);
        var state = Evolution.Initialize(ctx, [], CancellationToken.None);
        var envelope = new CheckpointEnvelope { JobName = "a", JobKind = "sr", Generation = 1, State = SearchStateCodec.Serialize(state) };
        var framed = CheckpointFile.Frame(envelope.ToBytes());
        Mutations.OfBytes(framed).Sample(bytes =>
        {
            try
            {
                var payload = CheckpointFile.Unframe(bytes, "ckpt");
                var back = CheckpointEnvelope.FromBytes(payload);
                SearchStateCodec.Deserialize(back.State);
            }
            catch (CheckpointCorruptException) { }
            catch (MessagePack.MessagePackSerializationException) { } // the store reports it as a corrupt file
            catch (FormatException) { }                            // the job reports it as an incompatible state
        }, iter: Iterations, threads: 1, seed: "0000000000014");
        // The payload under a valid frame: the checksum no longer guards it, the decoders must.
        Mutations.OfBytes(SearchStateCodec.Serialize(state)).Sample(bytes =>
        {
            try { SearchStateCodec.Deserialize(bytes); }
            catch (FormatException) { }
        }, iter: Iterations, threads: 1, seed: "0000000000015");
    }
}
