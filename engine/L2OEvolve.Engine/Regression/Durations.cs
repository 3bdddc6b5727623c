using System.Globalization;

namespace L2OEvolve.Engine.Regression;

/// <summary>Durations written as text: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, or plain seconds.</summary>
public static class Durations
{
    /// <summary>
    /// A search's time budget: <c>90</c>, <c>90s</c>, <c>1.5m</c>, <c>2h</c>, <c>250ms</c> (no days), at most
    /// <see cref="SearchLimits.MaxSeconds"/>; anything else is an <see cref="InputException"/> naming <c>--time</c>.
    /// </summary>
    public static TimeSpan ParseBudget(string text)
    {
        if (Seconds(text, days: false) is not { } seconds)
            throw new InputException($"--time: '{text}' is not a duration (examples: 60s, 2m, 1h)");
        if (seconds > SearchLimits.MaxSeconds)
            throw new InputException($"--time: '{text}' is longer than the longest budget, {SearchLimits.MaxSeconds:0e0} s (about 31 years)");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The duration <paramref name="text"/> denotes, or null when it is not one.</summary>
    public static TimeSpan? Parse(string text) =>
        Seconds(text, days: true) is { } seconds && seconds <= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;

    // The number of seconds written (possibly too many for a TimeSpan), or null when the text is no duration.
    private static double? Seconds(string text, bool days)
    {
        var s = text.Trim().ToLowerInvariant();
        (string number, double scale) = s switch
        {
            _ when s.EndsWith("ms", StringComparison.Ordinal) => (s[..^2], 0.001),
            _ when s.EndsWith('s') => (s[..^1], 1.0),
            _ when s.EndsWith('m') => (s[..^1], 60.0),
            _ when s.EndsWith('h') => (s[..^1], 3600.0),
            _ when days && s.EndsWith('d') => (s[..^1], 86400.0),
            _ => (s, 1.0),
        };
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= 0
            ? value * scale : null;
    }

    /// <summary>A short human form: <c>42s</c>, <c>3m05s</c>, <c>2h10m</c>.</summary>
    public static string Format(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0) return "-";
        var t = TimeSpan.FromSeconds(seconds);
        if (t.TotalMinutes < 1) return string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0}s");
        if (t.TotalHours < 1) return $"{t.Minutes}m{t.Seconds:00}s";
        return $"{(int)t.TotalHours}h{t.Minutes:00}m";
    }
}
