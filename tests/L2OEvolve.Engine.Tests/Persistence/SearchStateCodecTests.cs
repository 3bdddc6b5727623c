using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;
using L2OEvolve.Engine.Tests.Search;
using MessagePack;

namespace L2OEvolve.Engine.Tests.Persistence;

public class SearchStateCodecTests
{
    private static SearchState SmallState()
    {
        var (x, y) = SearchTestKit.Data(r => r["x0"] - r["x2"]);
        var settings = SearchSettings.Default(7) with { Population = new PopulationSettings(2, 10, 4, 5) };
        var ctx = SearchContext.Create(settings, SearchTestKit.Arithmetic(), new NaiveMseFitness(x, y));
        return Evolution.Run(Evolution.Initialize(ctx, []), ctx, new GenerationTermination(3));
    }

    [Test]
    public void SerializeDeserialize_State_RoundTripsEveryField()
    {
        var s = SmallState();
        var back = SearchStateCodec.Deserialize(SearchStateCodec.Serialize(s));
        Assert.That(back.Generation, Is.EqualTo(s.Generation));
        Assert.That(back.Master, Is.EqualTo(s.Master));
        Assert.That(back.Islands.Select(i => i.Rng), Is.EqualTo(s.Islands.Select(i => i.Rng)));
        Assert.That(StateComparison.Members(back), Is.EqualTo(StateComparison.Members(s)));
        Assert.That(StateComparison.Describe(back.HallOfFame), Is.EqualTo(StateComparison.Describe(s.HallOfFame)));
        Assert.That((back.Evaluations, back.NextBirth, back.SettingsHash, back.GrammarHash),
            Is.EqualTo((s.Evaluations, s.NextBirth, s.SettingsHash, s.GrammarHash)));
        Assert.That(back.Islands[0].Members[0].Objectives, Is.EqualTo(s.Islands[0].Members[0].Objectives));
    }

    [Test]
    public void Deserialize_OtherSchemaVersion_FailsNamingBothVersions()
    {
        var dto = SearchStateCodec.ToDto(SmallState());
        dto.SchemaVersion = 99;
        var bytes = MessagePackSerializer.Serialize(dto);
        Assert.That(() => SearchStateCodec.Deserialize(bytes), Throws.TypeOf<FormatException>().With.Message.Contains("99"));
    }

    [Test]
    public void Deserialize_Garbage_FailsWithFormatException()
    {
        Assert.That(() => SearchStateCodec.Deserialize(new byte[] { 1, 2, 3 }), Throws.TypeOf<FormatException>());
    }

    [Test]
    public void SettingsCodec_RoundTrip_IsEqualFieldByField()
    {
        var s = SearchSettings.Default(123) with
        {
            Variation = new VariationSettings(new L2OEvolve.Engine.Variation.MutationWeights(InsertNode: 1.5), 0.2, 0.7, 4),
            Reinsertion = ReinsertionKind.ReplaceWorst,
        };
        var back = SearchSettingsCodec.Deserialize(SearchSettingsCodec.Serialize(s));
        Assert.That(Compatibility.Check(s, back).Changed, Is.Empty);
        Assert.That(back.ContentHash(), Is.EqualTo(s.ContentHash()));
    }
}
