using L2OEvolve.Torch.Regression;

namespace L2OEvolve.Torch.Tests.Regression;

public class RolloutOptionsTests
{
    [Test]
    public void FromSettings_NoRolloutSettings_IsNone()
    {
        var o = RolloutOptions.FromSettings(new Dictionary<string, string> { ["islands"] = "4" });
        Assert.That(o.Enabled, Is.False);
        Assert.That((o.Seeds, o.Scale, o.ImitationPass), Is.EqualTo((RolloutOptions.None.Seeds, RolloutOptions.None.Scale, RolloutOptions.None.ImitationPass)));
    }

    [Test]
    public void AsSettings_ReadBack_GivesTheSameOptions()
    {
        var o = new RolloutOptions(["quadratic", "rosenbrock:dim=4"], [8], Seeds: 2, Scale: 0.05, ImitationPass: 0.5);
        var back = RolloutOptions.FromSettings(o.AsSettings().ToDictionary());
        Assert.That(back.Optimizees, Is.EqualTo(o.Optimizees));
        // A stage without a steps value takes the default, written out.
        Assert.That(back.Steps, Is.EqualTo(new[] { 8, RolloutOptions.DefaultSteps }));
        Assert.That((back.Seeds, back.Scale, back.ImitationPass), Is.EqualTo((2, 0.05, 0.5)));
    }

    [Test]
    public void FromSettings_BadValue_NamesTheSettingAndWhatWasExpected()
    {
        var e = Assert.Throws<FormatException>(() => RolloutOptions.FromSettings(new Dictionary<string, string> { ["rolloutOptimizee"] = "quadratic", ["rolloutSteps"] = "8;x" }));
        Assert.That(e!.Message, Is.EqualTo("settings.rolloutSteps: '8;x': expected integers separated by ';'"));
    }

    [Test]
    public void IsSetting_NamesExactlyTheFunnelsSettings()
    {
        Assert.That(RolloutOptions.SettingNames.Values.All(RolloutOptions.IsSetting), Is.True);
        Assert.That(RolloutOptions.IsSetting("islands"), Is.False);
    }
}
