using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class CompatibilityTests
{
    [Test]
    public void Check_SameSettings_NothingChanged()
    {
        var r = Compatibility.Check(SearchSettings.Default(1), SearchSettings.Default(1));
        Assert.That(r.Changed, Is.Empty);
        Assert.That(r.IsCompatible, Is.True);
    }

    [Test]
    public void Check_MutationWeightAndIslands_ListsBothAndFlagsIslands()
    {
        var old = SearchSettings.Default(1);
        var @new = old with
        {
            Population = old.Population with { Islands = 4 },
            Variation = old.Variation with { Weights = old.Variation.Weights with { InsertNode = 9 } },
        };
        var r = Compatibility.Check(old, @new);
        Assert.That(r.Changed, Is.EquivalentTo(new[] { "Population.Islands", "Variation.Weights.InsertNode" }));
        Assert.That(r.Incompatible, Is.EqualTo(new[] { "Population.Islands" }));
        Assert.That(r.IsCompatible, Is.False);
    }

    [Test]
    public void Check_TimeLikeTunables_AreCompatible()
    {
        var old = SearchSettings.Default(1);
        var r = Compatibility.Check(old, old with { Migration = new MigrationSettings(5, 0.1, 0.2), Reinsertion = ReinsertionKind.ReplaceWorst });
        Assert.That(r.Changed.Length, Is.EqualTo(4));
        Assert.That(r.IsCompatible, Is.True);
    }

    [Test]
    public void ContentHash_ChangesWithAnyField()
    {
        var s = SearchSettings.Default(1);
        Assert.That(s.ContentHash(), Is.EqualTo(SearchSettings.Default(1).ContentHash()));
        Assert.That((s with { Seed = 2 }).ContentHash(), Is.Not.EqualTo(s.ContentHash()));
        Assert.That((s with { Variation = s.Variation with { Weights = s.Variation.Weights with { Hoist = 0.06 } } }).ContentHash(), Is.Not.EqualTo(s.ContentHash()));
    }

    [Test]
    public void CheckResume_OtherGrammarHash_IsIncompatible_SameGrammarWithNewWeightsIsFine()
    {
        var settings = SearchSettings.Default(4) with { Population = new PopulationSettings(2, 8, 2, 4) };
        var (x, y) = SearchTestKit.Data(r => r["x0"]);
        var grammar = SearchTestKit.Arithmetic();
        var state = Evolution.Initialize(SearchContext.Create(settings, grammar, new NaiveMseFitness(x, y)), []);
        var lighter = settings with { Variation = settings.Variation with { Temperature = 0.5 } };
        var same = Compatibility.CheckResume(state, settings, lighter, grammar);
        Assert.That(same.IsCompatible, Is.True);
        Assert.That(same.Changed, Is.EqualTo(new[] { "Variation.Temperature" }));
        var other = Compatibility.CheckResume(state, settings, settings, grammar with { ContentHash = "different" });
        Assert.That(other.Incompatible, Is.EqualTo(new[] { "Grammar" }));
        Assert.That(() => Compatibility.CheckResume(state, lighter, settings, grammar), Throws.ArgumentException);
    }
}
