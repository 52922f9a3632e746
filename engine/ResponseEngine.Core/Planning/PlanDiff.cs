using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Planning;

public enum ChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>One action on one identity for one finding that differs between two plans.</summary>
public sealed record DecisionChange(ChangeKind Kind, Decision? Base, Decision? Head)
{
    public Decision Any => Head ?? Base!;
}

/// <summary>
/// The changes for one identity; <see cref="Identity"/> is what the directory says about it, null when the finding's
/// subject resolved to no account (then nothing is done to anyone, and a reviewer reads it apart from real changes).
/// </summary>
public sealed record IdentityChanges(Provider Provider, string Target, ImmutableArray<DecisionChange> Changes)
{
    public Identity? Identity { get; init; }

    public bool Unresolved => Identity is null;
}

/// <summary>Verdict counts of one rule's action in one plan.</summary>
public readonly record struct VerdictCounts(int Execute, int Skip, int Hold, int Error)
{
    public static VerdictCounts Of(IEnumerable<Decision> decisions)
    {
        var counts = new int[4];
        foreach (var d in decisions) counts[(int)d.Verdict]++;
        return new VerdictCounts(counts[(int)Verdict.Execute], counts[(int)Verdict.Skip], counts[(int)Verdict.Hold], counts[(int)Verdict.Error]);
    }
}

/// <summary>What one rule's action does in the base plan and in the head plan: the per-rule totals a reviewer reads first.</summary>
public sealed record RuleActionTotal(string RuleId, string Action, bool Destructive, VerdictCounts Base, VerdictCounts Head)
{
    public int ExecuteDelta => Head.Execute - Base.Execute;

    public int HoldDelta => Head.Hold - Base.Hold;

    public int SkipDelta => Head.Skip - Base.Skip;
}

/// <summary>
/// The effect of a rule change: per identity, the actions a change adds, removes, or whose verdict changes, with
/// the same findings and the same directory on both sides. Rules are not part of the comparison key, so moving an
/// action from one rule to another is no change to the identity.
/// </summary>
public sealed record PlanDiff(Plan Base, Plan Head, ImmutableArray<IdentityChanges> Identities)
{
    /// <summary>What makes two decisions of two plans the same: finding, identity, action and parameters (not the rule).</summary>
    public static (string Finding, string Provider, string Target, string Action, string Parameters) Key(Decision d) =>
        (d.Finding.Source + "\u001f" + d.Finding.Id, (d.Identity?.Provider ?? d.Finding.Subject.Provider).Name(),
         d.Identity?.Id ?? d.Finding.Subject.Id ?? d.Finding.Subject.Name ?? "", d.ActionName, d.Parameters.Canonical);

    public static PlanDiff Between(Plan basePlan, Plan headPlan)
    {
        var before = basePlan.Decisions.GroupBy(Key).ToDictionary(g => g.Key, g => g.First());
        var after = headPlan.Decisions.GroupBy(Key).ToDictionary(g => g.Key, g => g.First());
        var changes = new List<DecisionChange>();
        foreach (var (key, head) in after)
        {
            if (!before.TryGetValue(key, out var old)) changes.Add(new DecisionChange(ChangeKind.Added, null, head));
            else if (old.Verdict != head.Verdict || old.Guard != head.Guard) changes.Add(new DecisionChange(ChangeKind.Changed, old, head));
        }

        changes.AddRange(before.Where(kv => !after.ContainsKey(kv.Key)).Select(kv => new DecisionChange(ChangeKind.Removed, kv.Value, null)));
        var identities = changes
            .GroupBy(c => (Provider: c.Any.Identity?.Provider ?? c.Any.Finding.Subject.Provider, Target: c.Any.TargetDisplay))
            .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Target, StringComparer.OrdinalIgnoreCase).ThenBy(g => g.Key.Target, StringComparer.Ordinal)
            .Select(g => new IdentityChanges(g.Key.Provider, g.Key.Target, [.. g.OrderBy(c => c.Any.ActionName, StringComparer.Ordinal).ThenBy(c => c.Kind)])
            {
                Identity = g.Select(c => c.Head?.Identity ?? c.Base?.Identity).FirstOrDefault(i => i is not null),
            })
            .ToImmutableArray();
        return new PlanDiff(basePlan, headPlan, identities);
    }

    /// <summary>Identities the change acts on differently: the changes to approve.</summary>
    public IEnumerable<IdentityChanges> Resolved => Identities.Where(i => !i.Unresolved);

    /// <summary>Subjects that match no account: their decisions are skipped on both sides, listed apart so they never pass for additions.</summary>
    public IEnumerable<IdentityChanges> Unresolved => Identities.Where(i => i.Unresolved);

    /// <summary>Executed destructive actions in the head plan minus those in the base plan: what a CI gate limits.</summary>
    public int DestructiveIncrease =>
        Head.Decisions.Count(d => d.Verdict == Verdict.Execute && d.Action?.Destructive == true)
        - Base.Decisions.Count(d => d.Verdict == Verdict.Execute && d.Action?.Destructive == true);

    /// <summary>Executions per action, head minus base.</summary>
    public ImmutableSortedDictionary<string, int> ExecutedDelta()
    {
        var delta = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in Head.Decisions.Where(d => d.Verdict == Verdict.Execute)) delta[d.ActionName] = delta.GetValueOrDefault(d.ActionName) + 1;
        foreach (var d in Base.Decisions.Where(d => d.Verdict == Verdict.Execute)) delta[d.ActionName] = delta.GetValueOrDefault(d.ActionName) - 1;
        return delta.Where(kv => kv.Value != 0).ToImmutableSortedDictionary(StringComparer.Ordinal);
    }

    /// <summary>Per rule and action, the verdict counts on both sides; only those whose counts differ, ordered by rule then action.</summary>
    public ImmutableArray<RuleActionTotal> RuleTotals()
    {
        static IEnumerable<IGrouping<(string Rule, string Action), Decision>> Groups(Plan plan) =>
            plan.Decisions.GroupBy(d => (d.Rule.Id, d.ActionName));
        var before = Groups(Base).ToDictionary(g => g.Key, g => (Counts: VerdictCounts.Of(g), Destructive: g.Any(d => d.Action?.Destructive == true)));
        var after = Groups(Head).ToDictionary(g => g.Key, g => (Counts: VerdictCounts.Of(g), Destructive: g.Any(d => d.Action?.Destructive == true)));
        return [.. before.Keys.Union(after.Keys)
            .Select(k => new RuleActionTotal(k.Rule, k.Action,
                before.GetValueOrDefault(k).Destructive || after.GetValueOrDefault(k).Destructive,
                before.GetValueOrDefault(k).Counts, after.GetValueOrDefault(k).Counts))
            .Where(t => t.Base != t.Head)
            .OrderBy(t => t.RuleId, StringComparer.Ordinal).ThenBy(t => t.Action, StringComparer.Ordinal)];
    }
}
