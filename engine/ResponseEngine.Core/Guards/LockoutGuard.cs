using System.Collections.Immutable;
using System.Text.Json;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Never leaves a critical group or role (Domain Admins, Global Administrator, SUPER_ADMIN, …) with fewer enabled
/// effective holders than the configured minimum. Asks the live privilege graph of each set whether the action,
/// applied after every pending edit (open intents of any run, decisions this run passed), takes someone out of the set:
/// <see cref="LockoutRule"/>, the same rule a plan applies. Runs under a lock shared by every process on the audit store.
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
        if (!options.Critical.TryGetValue(identity.Provider, out var critical) || critical.IsEmpty) return decision;
        var proposed = decision.Action.Effect(identity.Id, decision.Parameters);
        if (proposed.IsEmpty) return decision;

        // Open intents first, then the counts: an intent cannot open while this lock is held, and one that closes in
        // between is either in the count already (applied) or still among the pending edits (applying it twice is harmless).
        // Read once per guard batch when the executor keeps a view (no intent can open while the batch holds the lock).
        var open = run.View is { } view ? await view.OpenIntentsAsync(cancellationToken) : await run.Store.OpenIntentsAsync(cancellationToken);
        List<GraphEdit>? pending = null;
        foreach (var set in critical)
        {
            var (live, failure) = await CountAsync(connector, set, run, cancellationToken);
            if (live is null) return decision.Refuse(Verdict.Skip, Name, failure!);

            // What the rule would allow without applying the edits (LockoutRule.CannotRemoveHolder, KeepsMinimum; the same
            // verdict, proven against the rule in LockoutShortcutPropertyTests): an account with no path to the set, whatever
            // is pending; a set whose holders, less every holder the edits could take out, still meet the minimum.
            var graph = live.Graph;
            var setNode = live.SetNode ?? live.Name;
            if (graph is not null && LockoutRule.CannotRemoveHolder(graph, setNode, proposed)) continue;
            pending ??= [.. Pending(open, run.Passed, identity.Provider)];
            if (graph is not null && LockoutRule.KeepsMinimum(graph, setNode, pending, proposed, options.Minimum, options.CountBreakGlass)) continue;
            var verdict = Evaluate(live, identity, pending, proposed, options);
            if (!verdict.Allowed) return decision.Refuse(Verdict.Skip, Name, verdict.Reason!);
        }

        return decision;
    }

    /// <summary>
    /// The rule on a counted set. A connector that reports holders without their graph gives a graph where each holder
    /// holds the set directly and any edit of a holder takes it out: conservative, never fewer refusals than the truth.
    /// </summary>
    public static LockoutVerdict Evaluate(CriticalSet live, Identity target, IEnumerable<GraphEdit> pending, ImmutableArray<GraphEdit> proposed, LockoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(options);
        if (live.Graph is { } graph) return LockoutRule.Evaluate(graph, live.SetNode ?? live.Name, pending, proposed, options.Minimum, options.CountBreakGlass);
        var holders = live.EnabledMemberIds.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var flat = PrivilegeGraph.Build(
            holders.Select(id => new PrivilegePrincipal(id, PrincipalKind.User, string.Equals(id, target.Id, StringComparison.OrdinalIgnoreCase) ? target.Display : id)
            {
                BreakGlass = string.Equals(id, target.Id, StringComparison.OrdinalIgnoreCase) && target.Tags.Contains(EffectivePrivilege.BreakGlassTag, StringComparer.OrdinalIgnoreCase),
            }),
            holders.Select(id => new PrivilegeEdge(id, live.Name, EdgeKind.Role)));
        static IEnumerable<GraphEdit> TakeOut(IEnumerable<GraphEdit> edits) => edits.Select(e => e is GraphEdit.RemoveEdge r ? new GraphEdit.Disable(r.From) : e);
        return LockoutRule.Evaluate(flat, live.Name, TakeOut(pending), [.. TakeOut(proposed)], options.Minimum, options.CountBreakGlass);
    }

    /// <summary>
    /// What every action still pending on the provider will do to the graph, from the action and parameters recorded on
    /// open intents (any run, any process) and from this run's passed decisions. An intent whose action or parameters
    /// cannot be read counts as taking its target out.
    /// </summary>
    public static IEnumerable<GraphEdit> Pending(IEnumerable<AuditRecord> openIntents, IEnumerable<Decision> passed, Provider provider)
    {
        ArgumentNullException.ThrowIfNull(openIntents);
        ArgumentNullException.ThrowIfNull(passed);
        foreach (var row in openIntents.Where(r => r.Entry.Provider == provider.Name() && r.Entry.IdentityId is not null))
        {
            foreach (var edit in EffectOf(row.Entry)) yield return edit;
        }

        foreach (var decision in passed.Where(d => d.Identity?.Provider == provider && d.Action is not null))
        {
            foreach (var edit in decision.Action!.Effect(decision.Identity!.Id, decision.Parameters)) yield return edit;
        }
    }

    private static ImmutableArray<GraphEdit> EffectOf(AuditEntry entry)
    {
        var action = ActionCatalogue.Default.Find(entry.Action ?? "");
        if (action is null) return [new GraphEdit.Disable(entry.IdentityId!)];
        try
        {
            return action.Effect(entry.IdentityId!, Reconciler.ParseParameters(entry.Parameters));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return [new GraphEdit.Disable(entry.IdentityId!)];
        }
    }

    /// <summary>The live count of one set; a lookup that fails or hangs refuses within the action timeout, never ends the run.</summary>
    private static async Task<(CriticalSet? Set, string? Failure)> CountAsync(IConnector connector, string set, RunContext run, CancellationToken cancellationToken)
    {
        // A plan's snapshot connector answers from memory at once: no timer to arm (one per decision and set was a tenth
        // of a plan's guard phase).
        using var timeout = connector is SnapshotConnector ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout?.CancelAfter(run.Options.ActionTimeout);
        try
        {
            return (await connector.CountCriticalAsync(set, timeout?.Token ?? cancellationToken), null);
        }
        catch (ConnectorException e)
        {
            return (null, $"cannot count the enabled holders of '{set}' ({e.Message}); not acting without the count");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"counting the enabled holders of '{set}' got no answer within {run.Options.ActionTimeout.TotalSeconds:0.#} s; not acting without the count");
        }
    }
}
