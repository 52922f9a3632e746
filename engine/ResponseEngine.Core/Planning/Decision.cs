using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Rules;

namespace ResponseEngine.Planning;

/// <summary>What happens to a decision: done, not done (and why), or waiting for a person.</summary>
public enum Verdict
{
    Execute,
    Skip,
    Hold,
    Error,
}

public static class Verdicts
{
    public static string Name(this Verdict verdict) => verdict switch
    {
        Verdict.Execute => "execute",
        Verdict.Skip => "skip",
        Verdict.Hold => "hold",
        Verdict.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };
}

/// <summary>
/// One rule's verdict on one action for one finding's identity, with everything a reviewer or the audit trail needs
/// to know why.
/// </summary>
public sealed record Decision(Finding Finding, Rule Rule, Identity? Identity, ActionDefinition? Action, ActionParameters Parameters)
{
    public Verdict Verdict { get; init; } = Verdict.Execute;

    /// <summary>The guard (or stage) that set a verdict other than execute, e.g. rule_mode, precondition, identity.</summary>
    public string? Guard { get; init; }

    public string? Reason { get; init; }

    /// <summary>Extra facts for reviewers that do not change the verdict (e.g. groups skipped from a removal).</summary>
    public string? Note { get; init; }

    public string ActionName => Action?.Name ?? "(none)";

    public string TargetDisplay => Identity?.Display ?? Finding.Subject.Display;

    public Decision Refuse(Verdict verdict, string guard, string reason) => this with { Verdict = verdict, Guard = guard, Reason = reason };
}

/// <summary>An immutable list of decisions; dry-run renders it, the executor carries it out.</summary>
public sealed record Plan(
    DateTimeOffset CreatedAt,
    ImmutableArray<Decision> Decisions,
    int FindingCount,
    int MatchedFindingCount,
    int RuleCount,
    string? RulesGitCommit)
{
    public IEnumerable<(Verdict Verdict, int Count)> CountByVerdict() =>
        Enum.GetValues<Verdict>().Select(v => (v, Decisions.Count(d => d.Verdict == v)));
}
