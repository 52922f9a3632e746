namespace ResponseEngine.Findings;

/// <summary>Ordered severities, so that rules can say "medium or worse".</summary>
public enum Severity
{
    /// <summary>Below low: a vendor's "informational" alert, kept apart so a rule can leave it out (min_severity: low) or take it.</summary>
    Informational = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

public static class Severities
{
    public static IReadOnlyList<string> Names { get; } = ["informational", "low", "medium", "high", "critical"];

    public static string Name(this Severity severity) => severity switch
    {
        Severity.Informational => "informational",
        Severity.Low => "low",
        Severity.Medium => "medium",
        Severity.High => "high",
        Severity.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(severity)),
    };

    public static bool TryParse(string? text, out Severity severity)
    {
        switch (text)
        {
            case "informational": severity = Severity.Informational; return true;
            case "low": severity = Severity.Low; return true;
            case "medium": severity = Severity.Medium; return true;
            case "high": severity = Severity.High; return true;
            case "critical": severity = Severity.Critical; return true;
            default: severity = default; return false;
        }
    }
}
