using System.Collections.Concurrent;
using System.Globalization;

namespace ResponseEngine.Configuration;

/// <summary>A duration as rules and respond.yaml write it (7d, 1h, 30m, 90s), for messages.</summary>
public static class DurationText
{
    private const int KnownLimit = 64;

    // The guards word the same configured windows into a reason per refused decision: the first few spans are kept.
    private static readonly ConcurrentDictionary<TimeSpan, string> Known = new();

    /// <summary>The largest whole unit that states <paramref name="span"/> exactly: days (from 2), hours, minutes, else seconds.</summary>
    public static string Format(TimeSpan span)
    {
        if (Known.TryGetValue(span, out var text)) return text;
        text = Words(span);
        if (Known.Count < KnownLimit) Known.TryAdd(span, text);
        return text;
    }

    private static string Words(TimeSpan span) =>
        span.TotalDays >= 2 && span.TotalDays == Math.Floor(span.TotalDays) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0}d")
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0}h")
        : span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0}m")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###}s");
}
