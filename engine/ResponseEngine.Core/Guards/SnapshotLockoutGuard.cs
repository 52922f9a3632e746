using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Lockout protection for a plan made from a directory snapshot: the same rule as <see cref="LockoutGuard"/>,
/// counted from the snapshot and from the decisions this plan has already let through. One instance per plan.
/// </summary>
public sealed class SnapshotLockoutGuard(DirectorySnapshot snapshot, LockoutOptions options, PrivilegedPolicy policy) : IGuard
{
    private readonly Dictionary<(Provider, string), HashSet<string>> _remaining = [];

    public string Name => "lockout_protection";

    public Decision Check(Decision decision, GuardContext context)
    {
        var identity = decision.Identity;
        if (identity is null || decision.Action is null || !options.Critical.TryGetValue(identity.Provider, out var critical)) return decision;
        var affected = critical.Where(set => LockoutGuard.Removes(decision, identity, set, policy)).Select(set => Holders(identity.Provider, set)).ToList();
        foreach (var (set, holders) in affected)
        {
            if (holders.Contains(identity.Id) && holders.Count - 1 < options.Minimum)
            {
                var left = holders.Count - 1;
                return decision.Refuse(Verdict.Skip, Name, $"'{set}' would keep {left} enabled holder{(left == 1 ? "" : "s")}; the minimum is {options.Minimum}");
            }
        }

        foreach (var (_, holders) in affected) holders.Remove(identity.Id);
        return decision;
    }

    private (string Set, HashSet<string> Holders) Holders(Provider provider, string set)
    {
        if (!_remaining.TryGetValue((provider, set), out var holders))
        {
            holders = snapshot.Users.Where(u => u.Provider == provider && u.Enabled && (u.IsMemberOf(set) || u.HasRole(set)))
                .Select(u => u.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
            _remaining[(provider, set)] = holders;
        }

        return (set, holders);
    }
}
