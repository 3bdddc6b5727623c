using System.Globalization;

namespace L2OEvolve.Cli.Jobs;

/// <summary>Parses durations written on the command line: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, or plain seconds.</summary>
public static class Durations
{
    /// <summary>The duration <paramref name="text"/> denotes, or null when it is not one.</summary>
    public static TimeSpan? Parse(string text)
    {
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ when text.EndsWith('d') || text.EndsWith('D') => (text[..^1], 86400.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
            return null;
        double seconds = value * scale;
        return seconds > TimeSpan.MaxValue.TotalSeconds ? null : TimeSpan.FromSeconds(seconds);
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
