using System.Globalization;
using ResponseEngine.Audit;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Cli.Commands;

/// <summary>
/// The one status vocabulary of `respond audit`: the list prints the stored words and --status takes them, so what a
/// reader sees is what they can filter on; the console groups earlier versions printed stay accepted as aliases.
/// </summary>
internal static class AuditStatusWords
{
    private static readonly Dictionary<string, AuditStatus[]> AliasMap = new(StringComparer.Ordinal)
    {
        ["successful"] = [AuditStatus.Succeeded, AuditStatus.Noop],
        ["unsuccessful"] = [AuditStatus.Failed, AuditStatus.TimedOut],
        ["in_progress"] = [AuditStatus.Intended],
        ["started"] = [AuditStatus.Intended],
        ["breaker_re_armed"] = [AuditStatus.BreakerRearmed],
    };

    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<AuditStatus>().Select(s => s.Name())];

    public static IReadOnlyList<string> Aliases { get; } = ["successful (succeeded, noop)", "unsuccessful (failed, timed_out)", "in progress (intended)"];

    /// <summary>The statuses a word means: a stored name, or an alias; case, spaces and hyphens do not matter.</summary>
    public static IReadOnlyList<AuditStatus> Parse(string word)
    {
        var key = string.Join('_', word.Trim().ToLowerInvariant().Split([' ', '-', '_'], StringSplitOptions.RemoveEmptyEntries));
        foreach (var status in Enum.GetValues<AuditStatus>())
        {
            if (status.Name() == key) return [status];
        }

        return AliasMap.TryGetValue(key, out var statuses)
            ? statuses
            : throw new CliInputException(TerminalText.Escape($"unknown status '{word}'; use one of {string.Join(", ", Names)}, or {string.Join(", ", Aliases)}"));
    }
}

/// <summary>--since and --until: an instant in ISO 8601, or an age counted back from now (24h, 7d).</summary>
internal static class AuditTime
{
    public static DateTimeOffset? Parse(string option, string? text, DateTimeOffset now)
    {
        if (text is null) return null;
        if (RuleLoader.ParseDuration(text) is { } age && age.Ticks <= now.UtcTicks - DateTimeOffset.MinValue.UtcTicks) return now - age;
        if (text.Length >= 10 && char.IsAsciiDigit(text[0])
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var instant))
        {
            return instant;
        }

        throw new CliInputException(TerminalText.Escape(
            $"{option} '{text}' is neither a time nor an age; write an ISO 8601 time like 2026-11-26T08:00:00Z (UTC unless it has an offset) or an age like 30m, 24h or 7d"));
    }
}
