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

    /// <summary>
    /// Set in a plan when a guard counted on the directory snapshot what a run counts live (e.g. the enabled holders of
    /// a critical group): the one way the run may decide this differently. Names what was counted and when.
    /// </summary>
    public string? CountedOnSnapshot { get; init; }

    /// <summary>
    /// For an action with <c>on: linked</c> or a provider list: the person the finding's subject belongs to; the decision
    /// acts on <see cref="Identity"/>, one of the person's accounts. Null for an action on the subject alone.
    /// </summary>
    public Person? Person { get; init; }

    /// <summary>When the decision acts on an account linked to the finding's subject: the link and its evidence.</summary>
    public AccountLink? Link { get; init; }

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
    /// <summary>Files under the rules folder that differ from <see cref="RulesGitCommit"/> (uncommitted changes); empty when clean.</summary>
    public ImmutableArray<string> RulesUncommitted { get; init; } = [];

    /// <summary>What a plan was decided on (snapshot, audit history, guards); null for the proposals a run guards itself.</summary>
    public PlanBasis? Basis { get; init; }

    /// <summary>"at commit a6e656e + uncommitted changes to 2 files", or null when the rules are not in git.</summary>
    public string? RulesProvenance => Rules.RuleSet.Provenance(RulesGitCommit, RulesUncommitted.Length);

    public IEnumerable<(Verdict Verdict, int Count)> CountByVerdict() =>
        Enum.GetValues<Verdict>().Select(v => (v, Decisions.Count(d => d.Verdict == v)));
}

/// <summary>
/// What a plan was decided on, so a reader knows what the run may see differently: the directory snapshot and when it
/// was taken, the audit history the guards counted with, whether rate limits and the breaker applied, and the guards.
/// </summary>
public sealed record PlanBasis(
    string? DirectorySource,
    DateTimeOffset? SnapshotTakenAt,
    PlanHistory History,
    bool Budgets,
    ImmutableArray<string> Guards)
{
    /// <summary>The sentence a plan states about its basis, e.g. "decided as a run would on samples/directory.json (…), the snapshot taken at …; guards counted with an empty audit history".</summary>
    public string Text =>
        $"decided as a run would on {DirectorySource ?? "a directory snapshot"}, {SnapshotText}; {History.Text}"
        + (Budgets ? "" : "; rate limits and the breaker left out (each rule's own effect)");

    /// <summary>"the snapshot taken at 2026-…", or "the snapshot (no generated_at)" when the file does not say.</summary>
    public string SnapshotText => SnapshotTakenAt is { } at
        ? $"the snapshot taken at {at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)}"
        : "the snapshot (its generated_at is not recorded)";
}

/// <summary>The audit history a plan's guards counted with: empty (the default), or a copy of a trail up to its head.</summary>
public sealed record PlanHistory(string? Source, long Rows, long? HeadSequence)
{
    public static PlanHistory Empty { get; } = new(null, 0, null);

    public bool IsEmpty => Source is null;

    /// <summary>The sentence a plan states about it.</summary>
    public string Text => IsEmpty
        ? "guards counted with an empty audit history"
        : $"guards counted with the audit history of {Source} up to #{HeadSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0"} ({Rows} rows)";
}
