using L2OEvolve.Engine;
using L2OEvolve.Engine.Regression;

namespace L2OEvolve.Engine.Tests.Regression;

public class DurationsTests
{
    [TestCase("90", 90)]
    [TestCase("90s", 90)]
    [TestCase("1.5m", 90)]
    [TestCase("2h", 7200)]
    [TestCase("250ms", 0.25)]
    [TestCase(" 2M ", 120)]
    public void ParseBudget_ReadsSecondsMinutesHoursAndMilliseconds(string text, double seconds) =>
        Assert.That(Durations.ParseBudget(text), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase("1d")]
    [TestCase("-5s")]
    [TestCase("soon")]
    [TestCase("NaN")]
    public void ParseBudget_NotADuration_FailsNamingTheOption(string text)
    {
        var e = Assert.Throws<InputException>(() => Durations.ParseBudget(text));
        Assert.That(e!.Message, Is.EqualTo($"--time: '{text}' is not a duration (examples: 60s, 2m, 1h)"));
    }

    [Test]
    public void ParseBudget_BeyondTheLongestBudget_FailsSayingSo()
    {
        var e = Assert.Throws<InputException>(() => Durations.ParseBudget("1e300h"));
        Assert.That(e!.Message, Does.Contain("longer than the longest budget"));
    }

    [TestCase("1d", 86400)]
    [TestCase("500MS", 0.5)]
    [TestCase("30", 30)]
    public void Parse_AlsoReadsDays(string text, double seconds) =>
        Assert.That(Durations.Parse(text), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase("")]
    [TestCase("-1s")]
    [TestCase("1e300d")]
    public void Parse_NotADurationOrTooLong_IsNull(string text) => Assert.That(Durations.Parse(text), Is.Null);

    [TestCase(42, "42.0s")]
    [TestCase(185, "3m05s")]
    [TestCase(7800, "2h10m")]
    [TestCase(double.NaN, "-")]
    public void Format_IsShortAndHuman(double seconds, string text) => Assert.That(Durations.Format(seconds), Is.EqualTo(text));
}
