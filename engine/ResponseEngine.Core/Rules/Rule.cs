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
public sealed record ActionInvocation(ActionDefinition Action, ActionParameters Parameters, SourceLocation Location)
{
    /// <summary>Which of the person's accounts the action applies to (<c>on:</c>); the subject's own by default.</summary>
    public ActionScope Scope { get; init; } = ActionScope.Self;
}

/// <summary>
/// An action's <c>on:</c>: <c>self</c> (the account the finding names, the default), <c>linked</c> (the subject's linked
/// accounts in other providers), or a list of providers (the person's accounts there, the subject's own included when its
/// provider is listed). Each account becomes its own decision, guarded in its own provider.
/// </summary>
public sealed record ActionScope(bool Linked, ImmutableArray<Provider> Providers)
{
    public static ActionScope Self { get; } = new(false, []);

    public static ActionScope AllLinked { get; } = new(true, []);

    public bool IsSelf => !Linked && Providers.IsEmpty;

    public string Text => Linked ? "linked" : Providers.IsEmpty ? "self" : "[" + string.Join(", ", Providers.Select(p => p.Name())) + "]";

    /// <summary>The providers an action with this scope can land in, for a rule matching findings about <paramref name="subjects"/>.</summary>
    public IEnumerable<Provider> LandsIn(IReadOnlyCollection<Provider> subjects) =>
        Linked ? ResponseEngine.Findings.Providers.All.Where(p => subjects.Any(s => s != p))
        : Providers.IsEmpty ? subjects
        : Providers;

    /// <summary>Whether the action applies to <paramref name="account"/> of the person whose finding names <paramref name="subject"/>.</summary>
    public bool Includes(Identity subject, Identity account)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(account);
        var own = ReferenceEquals(subject, account) || (subject.Provider == account.Provider && subject.Id == account.Id);
        return Linked ? !own : Providers.IsEmpty ? own : Providers.Contains(account.Provider);
    }
}

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

/// <summary>
/// A condition that can say, before it runs, which findings it can be true for: the exact equalities and <c>in</c> lists
/// on the finding's type, subject provider and severity among its top-level <c>and</c> conjuncts. The rule set index
/// uses them as if the rule had declared them in <c>match:</c> (<see cref="Rule.IndexMatch"/>); the condition itself is
/// still evaluated whole.
/// </summary>
public interface IIndexedCondition
{
    /// <summary><paramref name="declared"/> narrowed by what the condition requires of every finding it is true for.</summary>
    RuleMatch Narrow(RuleMatch declared);
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
public sealed record RuleTest(string Name, Finding Finding, Identity Identity, ImmutableArray<ExpectedAction> Expected, SourceLocation Location)
{
    /// <summary>Accounts the test states are linked to the identity (one per other provider): what actions <c>on: linked</c> act on.</summary>
    public ImmutableArray<Identity> Linked { get; init; } = [];
}

/// <summary>An expected action; only the parameters written in the test are compared.</summary>
public sealed record ExpectedAction(string Action, ActionParameters Parameters)
{
    /// <summary>The provider of the account the action is expected on (<c>on:</c> in the expectation); null: the test identity's.</summary>
    public Provider? On { get; init; }
}

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

    /// <summary>
    /// What the rule set index files the rule under: <see cref="Match"/> narrowed by the type, provider and severity
    /// tests of the condition's top-level conjuncts (<see cref="IIndexedCondition"/>); <see cref="Match"/> itself without them.
    /// </summary>
    public RuleMatch IndexMatch => When is IIndexedCondition indexed ? indexed.Narrow(Match) : Match;

    /// <summary>Type, provider and severity match; the condition is evaluated separately.</summary>
    public bool Matches(Finding finding) =>
        finding.Severity >= Match.MinSeverity && Match.Providers.Contains(finding.Subject.Provider) && Match.Types.Contains(finding.Type);
}
