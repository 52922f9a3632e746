using System.Collections.Immutable;
using System.Text.Json;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Findings;

namespace ResponseEngine.Execution;

/// <summary>What the reconciler did with one interrupted intent.</summary>
public sealed record Reconciliation(long IntentSequence, string Action, string Target, AuditStatus Status, string Detail);

/// <summary>
/// At start-up, closes intents that a crash left without an outcome. It never re-runs anything: it reads the live
/// state. Applied → succeeded (reconciled). Not applied → failed, so that the next run decides the finding again
/// under every guard (a retry from here would skip the guards that hold now).
/// </summary>
public sealed class Reconciler(RunContext run, ActionCatalogue catalogue)
{
    public async Task<ImmutableArray<Reconciliation>> ReconcileAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var results = ImmutableArray.CreateBuilder<Reconciliation>();
        var cutoff = run.Now - olderThan;
        foreach (var intent in await run.Store.OpenIntentsAsync(cancellationToken))
        {
            // A younger intent may belong to a process that is still working on it.
            if (intent.RecordedAt > cutoff) continue;
            results.Add(await ReconcileAsync(intent, cancellationToken));
        }

        return results.ToImmutable();
    }

    private async Task<Reconciliation> ReconcileAsync(AuditRecord intent, CancellationToken cancellationToken)
    {
        var e = intent.Entry;
        var target = $"{e.Provider}:{e.IdentityName ?? e.IdentityId}";
        var action = e.Action is null ? null : catalogue.Find(e.Action);
        if (action is null || !Providers.TryParse(e.Provider, out var provider) || e.IdentityId is null || !run.Connectors.TryGetValue(provider, out var connector))
        {
            return await CloseAsync(intent, AuditStatus.Failed, "interrupted; cannot reconcile: no connector or unknown action", target);
        }

        var request = new ActionRequest(action, ParseParameters(e.Parameters), new TargetRef(provider, e.IdentityId, e.IdentityName ?? e.IdentityId));
        try
        {
            var state = await connector.ReadAsync(request, cancellationToken);
            if (state.AlreadyDone)
            {
                // The interrupted process may have died before flushing the change to disk: flushed before it is recorded as done.
                await connector.MakeDurableAsync(cancellationToken);
                return await CloseAsync(intent, AuditStatus.Succeeded, "reconciled after restart: the change is in place", target, state.PriorState);
            }

            // Not applied: the intent is closed as failed and nothing is done here, because a retry from this row would
            // bypass the guards (lockout, rate limits, breaker) that hold now. The decision is made again, under every
            // guard, by the next run that sees its finding: the failed outcome does not count as done.
            return await CloseAsync(intent, AuditStatus.Failed,
                "interrupted before it took effect; not retried here — the next run decides it again under every guard", target, state.PriorState);
        }
        catch (ConnectorException ex)
        {
            return await CloseAsync(intent, AuditStatus.Failed, $"interrupted; reconciliation failed: {ex.Message}", target);
        }
    }

    private async Task<Reconciliation> CloseAsync(AuditRecord intent, AuditStatus status, string detail, string target, string? priorState = null)
    {
        var entry = intent.Entry with
        {
            RunId = run.RunId,
            Host = run.Host,
            Actor = run.Actor,
            EngineVersion = run.EngineVersion,
            Status = status,
            IntentSequence = intent.Sequence,
            Reason = status == AuditStatus.Succeeded ? detail : null,
            Error = status == AuditStatus.Succeeded ? null : detail,
            PriorState = priorState,
            Guard = "reconciler",
        };
        await run.Store.AppendAsync(entry, CancellationToken.None);
        return new Reconciliation(intent.Sequence, intent.Entry.Action ?? "?", target, status, detail);
    }

    /// <summary>Reads canonical parameter JSON back into typed parameters.</summary>
    public static ActionParameters ParseParameters(string? json)
    {
        if (string.IsNullOrEmpty(json)) return ActionParameters.Empty;
        using var document = JsonDocument.Parse(json);
        var parameters = ActionParameters.Empty;
        foreach (var property in document.RootElement.EnumerateObject())
        {
            object value = property.Value.ValueKind switch
            {
                JsonValueKind.Array => property.Value.EnumerateArray().Select(v => v.GetString() ?? "").ToImmutableArray(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => property.Value.GetInt64(),
                _ => property.Value.GetString() ?? "",
            };
            parameters = parameters.With(property.Name, value);
        }

        return parameters;
    }
}
