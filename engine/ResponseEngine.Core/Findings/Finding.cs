using System.Collections.Immutable;
using System.Text.Json;

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
    ImmutableDictionary<string, JsonElement> Attributes)
{
    /// <summary>Where the finding was read from, for diagnostics and the audit trail; not part of its identity.</summary>
    public string? Origin { get; init; }

    public static ImmutableDictionary<string, JsonElement> NoAttributes { get; } =
        ImmutableDictionary.Create<string, JsonElement>(StringComparer.Ordinal);
}
