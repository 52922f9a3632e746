using ResponseEngine.Diagnostics;

namespace ResponseEngine.Findings;

public enum FindingKind
{
    Detection,
    Posture,
}

/// <summary>Who a finding is about, as the source named them; resolved against a directory before any rule acts.</summary>
public sealed record Subject(Provider Provider, string? Id, string? Name)
{
    public string Display => Name ?? Id ?? "(unnamed)";
}

/// <summary>A detection or posture finding in the canonical shape every source is mapped into.</summary>
public sealed record Finding(
    string Id,
    string Source,
    FindingKind Kind,
    string Type,
    Severity Severity,
    DateTimeOffset ObservedAt,
    Subject Subject,
    string Title,
    FindingAttributes Attributes)
{
    private readonly string? _origin;

    /// <summary>Where the finding was read from, for diagnostics and the audit trail; not part of its identity.</summary>
    public string? Origin
    {
        get => _origin ?? (Location is { } location ? location.ToString() : null);
        init => (_origin, Location) = (value, null);
    }

    /// <summary>
    /// The file, line and column the finding was read from, when a reader set it; <see cref="Origin"/> spells it
    /// (<c>file:line:column</c>) only when asked, so reading a million findings does not format a million origins (#23).
    /// </summary>
    public SourceLocation? Location { get; init; }

    public static FindingAttributes NoAttributes => FindingAttributes.Empty;
}
