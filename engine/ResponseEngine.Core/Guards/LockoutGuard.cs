using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Never leaves a critical group or role (Domain Admins, Global Administrator, SUPER_ADMIN, …) with fewer enabled
/// holders than the configured minimum. Counts the live state, minus every holder another run or this run is about
/// to take out (open intents), under a lock shared by every process on the audit store.
/// </summary>
public sealed class LockoutGuard : IExecutionGuard
{
    public const string LockName = "guards";

    public string Name => "lockout_protection";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        var identity = decision.Identity;
        if (identity is null || decision.Action is null || !run.Connectors.TryGetValue(identity.Provider, out var connector)) return decision;
        var options = run.Options.Guards.Lockout;
        if (!options.Critical.TryGetValue(identity.Provider, out var critical)) return decision;

        foreach (var set in critical.Where(name => Removes(decision, identity, name, run.Options.Privileged)))
        {
            CriticalSet live;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // Counted under the store lock every process shares: a lookup that fails or hangs refuses (fail closed)
                // within the action timeout, instead of ending the run or holding the lock.
                timeout.CancelAfter(run.Options.ActionTimeout);
                try
                {
                    live = await connector.CountCriticalAsync(set, timeout.Token);
                }
                catch (ConnectorException e)
                {
                    return decision.Refuse(Verdict.Skip, Name, $"cannot count the enabled holders of '{set}' ({e.Message}); not acting without the count");
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return decision.Refuse(Verdict.Skip, Name,
                        $"counting the enabled holders of '{set}' got no answer within {run.Options.ActionTimeout.TotalSeconds:0.#} s; not acting without the count");
                }
            }

            var remaining = live.EnabledMemberIds.ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (!remaining.Contains(identity.Id)) continue;
            remaining.Remove(identity.Id);
            foreach (var pending in await PendingTargetsAsync(run, identity.Provider, cancellationToken)) remaining.Remove(pending);
            if (remaining.Count < options.Minimum)
            {
                return decision.Refuse(Verdict.Skip, Name,
                    $"'{set}' would keep {remaining.Count} enabled holder{(remaining.Count == 1 ? "" : "s")}; the minimum is {options.Minimum}");
            }
        }

        return decision;
    }

    /// <summary>Whether the action takes the identity out of the critical group or role, or out of use altogether.</summary>
    public static bool Removes(Decision decision, Identity identity, string set, PrivilegedPolicy policy)
    {
        var holds = identity.IsMemberOf(set) || identity.HasRole(set);
        if (!holds) return false;
        return decision.ActionName switch
        {
            "disable_user" or "deactivate_user" or "reset_password" => true,
            "remove_role_assignment" => decision.Parameters.Strings("roles").Contains(set, StringComparer.OrdinalIgnoreCase),
            "revoke_group" => decision.Parameters.Strings("groups").Any(g =>
                string.Equals(g, set, StringComparison.OrdinalIgnoreCase) || policy.IsPrivilegedGroup(identity.Provider, g)),
            _ => false,
        };
    }

    private static bool IsLockoutRelevant(string? action) =>
        action is "disable_user" or "deactivate_user" or "reset_password" or "remove_role_assignment" or "revoke_group";

    private static async Task<IEnumerable<string>> PendingTargetsAsync(RunContext run, Provider provider, CancellationToken cancellationToken)
    {
        var open = await run.Store.OpenIntentsAsync(cancellationToken);
        var pending = open.Where(r => r.Entry.Provider == provider.Name() && IsLockoutRelevant(r.Entry.Action) && r.Entry.IdentityId is not null)
            .Select(r => r.Entry.IdentityId!);
        var thisRun = run.Passed.Where(d => d.Identity?.Provider == provider && IsLockoutRelevant(d.Action?.Name)).Select(d => d.Identity!.Id);
        return pending.Concat(thisRun).ToList();
    }
}
