using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Regression;

public class SearchKnobsTests
{
    [Test]
    public void Default_TakesTheShapeAndAQuarterOfTheIslandAsOffspring()
    {
        var s = SearchKnobs.Default(7, islands: 3, size: 40);
        Assert.That((s.Seed, s.Population.Islands, s.Population.Size, s.Population.OffspringPerGeneration), Is.EqualTo((7UL, 3, 40, 10)));
    }

    [Test]
    public void Default_WithoutAShape_KeepsTheEnginesShape()
    {
        var engine = SearchSettings.Default(1).Population;
        var s = SearchKnobs.Default(1).Population;
        Assert.That((s.Islands, s.Size), Is.EqualTo((engine.Islands, engine.Size)));
    }

    [Test]
    public void Apply_NamedSetting_EditsItsField()
    {
        var s = SearchKnobs.Apply(SearchSettings.Default(0), "tournamentProbability", "0.5");
        s = SearchKnobs.Apply(s, "reinsertion", "replace-worst");
        Assert.That((s.Selection.TournamentProbability, s.Reinsertion), Is.EqualTo((0.5, ReinsertionKind.ReplaceWorst)));
    }

    [TestCase("islands", "0", "expected an integer from 1 to 10000")]
    [TestCase("migrationFraction", "1.5", "expected a number in [0, 1]")]
    [TestCase("temperature", "-1", "expected a number >= 0")]
    [TestCase("reinsertion", "random", "expected replace-oldest or replace-worst")]
    public void Apply_ValueOutOfRange_SaysWhatWasExpected(string name, string value, string expected)
    {
        var e = Assert.Throws<FormatException>(() => SearchKnobs.Apply(SearchSettings.Default(0), name, value));
        Assert.That(e!.Message, Is.EqualTo(expected));
    }

    [Test]
    public void IsKnown_NamesTheTableOnly()
    {
        Assert.That(SearchKnobs.IsKnown("populationSize"), Is.True);
        Assert.That(SearchKnobs.IsKnown("batchRows"), Is.False);
        Assert.That(SearchKnobs.Names, Does.Contain("optimizeProbability"));
    }
}
