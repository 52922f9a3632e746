using System.Collections.Immutable;
using ResponseEngine.Findings;

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

/// <summary>The changes for one identity.</summary>
public sealed record IdentityChanges(Provider Provider, string Target, ImmutableArray<DecisionChange> Changes);

/// <summary>
/// The effect of a rule change: per identity, the actions a change adds, removes, or whose verdict changes, with
/// the same findings and the same directory on both sides. Rules are not part of the comparison key, so moving an
/// action from one rule to another is no change to the identity.
/// </summary>
public sealed record PlanDiff(Plan Base, Plan Head, ImmutableArray<IdentityChanges> Identities)
{
    public static PlanDiff Between(Plan basePlan, Plan headPlan)
    {
        static (string, string, string, string, string) Key(Decision d) =>
            (d.Finding.Source + "\u001f" + d.Finding.Id, (d.Identity?.Provider ?? d.Finding.Subject.Provider).Name(),
             d.Identity?.Id ?? d.Finding.Subject.Id ?? d.Finding.Subject.Name ?? "", d.ActionName, d.Parameters.Canonical);

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
            .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Target, StringComparer.OrdinalIgnoreCase)
            .Select(g => new IdentityChanges(g.Key.Provider, g.Key.Target, [.. g.OrderBy(c => c.Any.ActionName, StringComparer.Ordinal).ThenBy(c => c.Kind)]))
            .ToImmutableArray();
        return new PlanDiff(basePlan, headPlan, identities);
    }

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
}
