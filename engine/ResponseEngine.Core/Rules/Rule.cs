using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Rules;

public enum RuleMode
{
    Enforce,
    Observe,
    Disabled,
}

public enum ApprovalMode
{
    None,
    Required,
}

/// <summary>Which findings a rule looks at, decided by index before any condition runs.</summary>
public sealed record RuleMatch(ImmutableArray<string> Types, ImmutableArray<Provider> Providers, Severity MinSeverity);

/// <summary>Per-rule guard settings; the executor enforces them.</summary>
public sealed record RuleLimits(int? MaxPerHour, TimeSpan? Cooldown)
{
    public static RuleLimits None { get; } = new(null, null);
}

/// <summary>One action of a rule, with bound parameters and where it was written.</summary>
public sealed record ActionInvocation(ActionDefinition Action, ActionParameters Parameters, SourceLocation Location);

/// <summary>Where a rule came from: the provenance every decision and audit row carries.</summary>
public sealed record RuleSource(string File, string ContentHash, string? GitCommit)
{
    public string ShortHash => ContentHash.Length > 12 ? ContentHash[..12] : ContentHash;
}

/// <summary>What a condition sees: the finding, the resolved identity, and the time of evaluation.</summary>
public readonly record struct EvaluationContext(Finding Finding, Identity Identity, DateTimeOffset Now);

/// <summary>A rule's <c>when:</c>, compiled once at load.</summary>
public interface ICondition
{
    string Text { get; }

    /// <summary>True when the rule applies; throws <see cref="ConditionException"/> when the data does not fit the expression.</summary>
    bool Evaluate(in EvaluationContext context);
}

/// <summary>A condition that could not be evaluated for one finding; recorded on that decision, the others go on.</summary>
public sealed class ConditionException : Exception
{
    public ConditionException(string message)
        : base(message)
    {
    }

    public ConditionException()
    {
    }

    public ConditionException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>An inline test: a finding and an identity, and the actions the rule is expected to take.</summary>
public sealed record RuleTest(string Name, Finding Finding, Identity Identity, ImmutableArray<ExpectedAction> Expected, SourceLocation Location);

/// <summary>An expected action; only the parameters written in the test are compared.</summary>
public sealed record ExpectedAction(string Action, ActionParameters Parameters);

/// <summary>A loaded, validated rule.</summary>
public sealed record Rule(
    string Id,
    string Title,
    string Owner,
    RuleMode Mode,
    RuleMatch Match,
    ImmutableArray<ActionInvocation> Actions,
    RuleSource Source,
    SourceLocation Location)
{
    public string? Description { get; init; }

    public DateOnly? Expires { get; init; }

    public ICondition? When { get; init; }

    public RuleLimits Limits { get; init; } = RuleLimits.None;

    public ApprovalMode Approval { get; init; }

    public ImmutableArray<RuleTest> Tests { get; init; } = [];

    public bool IsExpired(DateTimeOffset now) => Expires is { } date && DateOnly.FromDateTime(now.UtcDateTime) > date;

    /// <summary>Type, provider and severity match; the condition is evaluated separately.</summary>
    public bool Matches(Finding finding) =>
        finding.Severity >= Match.MinSeverity && Match.Providers.Contains(finding.Subject.Provider) && Match.Types.Contains(finding.Type);
}
