using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Never acts twice: the same decision already done is skipped, an action still in flight on the same target blocks
/// another, and a rule's cooldown keeps it from repeating an action on the same target too soon. Cooldown counts
/// attempts that took effect (succeeded, noop) or may still (open), never a failed or timed-out one: a crash-interrupted
/// action that reconciliation closed as failed is decided again and runs once. The dedupe window
/// (<c>guards.dedupe.window</c>) refuses the same action with the same parameters on the same account, done within it,
/// whatever the source, finding id or rule: a repeat finding from a second tool writes no second intent.
/// </summary>
public sealed class DedupeGuard : IExecutionGuard
{
    private static readonly AuditStatus[] Done = [AuditStatus.Succeeded, AuditStatus.Noop];
    private static readonly AuditStatus[] Closing = [AuditStatus.Succeeded, AuditStatus.Noop, AuditStatus.Failed, AuditStatus.TimedOut];
    private static readonly AuditStatus[] NoEffect = [AuditStatus.Failed, AuditStatus.TimedOut];

    /// <summary>The idempotency key of an operator's undo starts with this (`respond undo`).</summary>
    public const string UndoKeyPrefix = "undo:";

    public string Name => "dedupe";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        var identity = decision.Identity;
        if (identity is null || decision.Action is null) return decision;
        if (run.PassedSameKey(decision))
        {
            return decision.Refuse(Verdict.Skip, Name, "the same decision is already in this run");
        }

        // Every row on this account and action, read once for the whole guard batch when the executor keeps a view (null:
        // query the store for each question). A row with this decision's idempotency key names the same provider, account
        // and action (the key is a hash of them), so the key's rows are among these.
        var rows = run.View is { } view
            ? await view.OnTargetAsync(new AuditTarget(identity.Provider.Name(), identity.Id, decision.Action.Name), cancellationToken)
            : null;

        // The key (a SHA-256) is only worked out when there are rows to compare it with: none on an account and action
        // the trail has never seen, as on every account of a plan with an empty history.
        var key = rows is { Count: 0 } ? null : IdempotencyKey.For(decision);
        var intents = key is null ? []
            : rows is not null
            ? [.. rows.Where(r => r.Entry.Status == AuditStatus.Intended && r.Entry.IdempotencyKey == key)]
            : await run.Store.ReadAsync(new AuditQuery { IdempotencyKey = key, Statuses = [AuditStatus.Intended], DryRun = false }, cancellationToken);
        if (intents.Count > 0)
        {
            var outcomes = rows is not null
                ? [.. rows.Where(r => Done.Contains(r.Entry.Status) && r.Entry.IdempotencyKey == key).Take(1)]
                : await run.Store.ReadAsync(new AuditQuery { IdempotencyKey = key, Statuses = Done, DryRun = false, Limit = 1 }, cancellationToken);
            if (outcomes.Count > 0)
            {
                return decision.Refuse(Verdict.Skip, Name, $"already done (audit #{outcomes[0].Entry.IntentSequence ?? outcomes[0].Sequence})");
            }
        }

        // Intents on this account and action without an outcome: read by identity (indexed), not by scanning every open intent.
        var onTarget = new AuditQuery { IdentityId = identity.Id, Provider = identity.Provider.Name(), Action = decision.Action.Name, DryRun = false };
        var targetIntents = rows is not null
            ? [.. rows.Where(r => r.Entry.Status == AuditStatus.Intended)]
            : await run.Store.ReadAsync(onTarget with { Statuses = [AuditStatus.Intended] }, cancellationToken);
        AuditRecord? inFlight = null;
        if (targetIntents.Count > 0)
        {
            var closed = (rows is not null
                    ? [.. rows.Where(r => Closing.Contains(r.Entry.Status))]
                    : await run.Store.ReadAsync(onTarget with { Statuses = Closing }, cancellationToken))
                .Select(r => r.Entry.IntentSequence).ToHashSet();
            // This run's own intents are the in-run check's below (written early when the breaker opened mid-batch, they
            // would otherwise decide by where the batch was cut, and differently from a dry run or a plan).
            inFlight = targetIntents.FirstOrDefault(r => !closed.Contains(r.Sequence) && r.Entry.RunId != run.RunId);
        }
        if (inFlight is not null)
        {
            return decision.Refuse(Verdict.Skip, "pending_remediation", $"audit #{inFlight.Sequence} is still in flight on this account");
        }

        // The same, for a decision this run passed earlier, staged, written or done, in this guard batch or an earlier one: the
        // run acts once per account and action whatever the batch boundaries (and a dry run or a plan sees the same). The
        // rule's own earlier one is its cooldown's to refuse, when it has one.
        var staged = run.PassedOn(identity.Provider, identity.Id, decision.ActionName)
            .FirstOrDefault(d => !(d.Rule.Id == decision.Rule.Id && decision.Rule.Limits.Cooldown is not null));
        if (staged is not null)
        {
            return decision.Refuse(Verdict.Skip, "pending_remediation",
                $"rule {staged.Rule.Id} is about to {staged.ActionName} this account (finding {staged.Finding.Id}, same run)");
        }

        if (decision.Rule.Limits.Cooldown is { } cooldown)
        {
            // Only attempts that took effect (or may still): a failed or timed-out attempt is the one the retry is for.
            var recent = rows is not null
                ? Effects(rows, run.Now - cooldown, decision.Rule.Id, null)
                : await EffectsAsync(run.Store, onTarget with { Since = run.Now - cooldown, RuleId = decision.Rule.Id }, cancellationToken);
            var inRun = run.NotInStoreOn(identity.Provider, identity.Id, decision.ActionName).Any(d => d.Rule.Id == decision.Rule.Id);
            if (recent.Count > 0 || inRun)
            {
                return decision.Refuse(Verdict.Skip, "cooldown", $"rule acted on this account within its {DurationText.Format(cooldown)} cooldown");
            }
        }

        if (run.Options.Guards.Dedupe.Window is var window && window > TimeSpan.Zero)
        {
            // Whatever the source, finding or rule: the same action with the same parameters on this account, done within the window.
            var parameters = decision.Parameters.Canonical;
            var done = rows is not null
                ? Effects(rows, run.Now - window, null, parameters)
                : await EffectsAsync(run.Store, onTarget with { Since = run.Now - window, Parameters = parameters }, cancellationToken);
            if (done.Count > 0)
            {
                var e = done[^1].Entry;
                return decision.Refuse(Verdict.Skip, Name,
                    $"{decision.ActionName} with the same parameters was done on this account within the {DurationText.Format(window)} dedupe window " +
                    $"(audit #{done[^1].Sequence}, rule {e.RuleId}, finding {e.FindingSource}/{e.FindingId})");
            }

            var earlier = run.NotInStoreOn(identity.Provider, identity.Id, decision.ActionName).FirstOrDefault(d => d.Parameters.Canonical == parameters);
            if (earlier is not null)
            {
                return decision.Refuse(Verdict.Skip, Name,
                    $"rule {earlier.Rule.Id} already does {decision.ActionName} with the same parameters on this account in this run (finding {earlier.Finding.Source}/{earlier.Finding.Id})");
            }
        }

        return decision;
    }

    /// <summary>
    /// The intents matching <paramref name="onTarget"/> that count as an effect: closed <c>succeeded</c> or <c>noop</c>, or
    /// still open (it may be acting). One closed <c>failed</c> or <c>timed_out</c> did not take effect as far as the trail
    /// knows, so it never blocks the retry that reconciliation asks for; that retry reads the live state before it acts,
    /// so an attempt that did land becomes a no-op. An operator's undo (its key starts with <c>undo:</c>) is no effect of the action.
    /// </summary>
    private static async Task<IReadOnlyList<AuditRecord>> EffectsAsync(IAuditStore store, AuditQuery onTarget, CancellationToken cancellationToken)
    {
        var intents = (await store.ReadAsync(onTarget with { Statuses = [AuditStatus.Intended] }, cancellationToken))
            .Where(r => r.Entry.IdempotencyKey?.StartsWith(UndoKeyPrefix, StringComparison.Ordinal) != true).ToList();
        if (intents.Count == 0) return intents;
        var withoutEffect = (await store.ReadAsync(onTarget with
            {
                Since = null, RuleId = null, Parameters = null, AfterSequence = intents.Min(r => r.Sequence), Statuses = NoEffect,
            }, cancellationToken))
            .Select(r => r.Entry.IntentSequence).ToHashSet();
        return [.. intents.Where(r => !withoutEffect.Contains(r.Sequence))];
    }

    /// <summary>
    /// <see cref="EffectsAsync"/> on the rows of one account and action (every non-dry-run intent and outcome on it, in
    /// sequence order), filtered in memory exactly as the store's queries filter: intents recorded at or after
    /// <paramref name="since"/>, of the rule and with the parameters when given, minus those a later failed or timed-out row closed.
    /// </summary>
    internal static IReadOnlyList<AuditRecord> Effects(IReadOnlyList<AuditRecord> onTarget, DateTimeOffset since, string? ruleId, string? parameters)
    {
        ArgumentNullException.ThrowIfNull(onTarget);
        var intents = onTarget.Where(r => r.Entry.Status == AuditStatus.Intended && r.RecordedAt >= since
                && (ruleId is null || r.Entry.RuleId == ruleId) && (parameters is null || r.Entry.Parameters == parameters)
                && r.Entry.IdempotencyKey?.StartsWith(UndoKeyPrefix, StringComparison.Ordinal) != true)
            .ToList();
        if (intents.Count == 0) return intents;
        var first = intents.Min(r => r.Sequence);
        var withoutEffect = onTarget.Where(r => r.Sequence > first && NoEffect.Contains(r.Entry.Status)).Select(r => r.Entry.IntentSequence).ToHashSet();
        return [.. intents.Where(r => !withoutEffect.Contains(r.Sequence))];
    }
}
