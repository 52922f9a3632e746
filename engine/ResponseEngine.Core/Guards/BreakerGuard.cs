using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// The blast-radius breaker. When destructive actions in the window reach the threshold it opens (an audited event)
/// and holds every further destructive action; it stays open, across restarts, until a person runs
/// `respond breaker rearm`.
/// </summary>
public sealed class BreakerGuard : IExecutionGuard
{
    private static readonly AuditStatus[] Events = [AuditStatus.BreakerOpened, AuditStatus.BreakerRearmed];

    public string Name => "breaker";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        if (decision.Action is not { Destructive: true }) return decision;
        (bool Open, AuditRecord? Event) state;
        if (run.View is { } view)
        {
            var last = await view.LastBreakerEventAsync(cancellationToken);
            state = (last?.Entry.Status == AuditStatus.BreakerOpened, last);
        }
        else
        {
            state = await StateAsync(run.Store, cancellationToken);
        }
        if (state.Open)
        {
            return decision.Refuse(Verdict.Hold, Name, $"breaker is open since audit #{state.Event!.Sequence}: {state.Event.Entry.Reason}; `respond breaker rearm` after review");
        }

        var options = run.Options.Guards.Breaker;
        var since = run.Now - options.Window;
        if (state.Event is { } rearmed && rearmed.RecordedAt > since) since = rearmed.RecordedAt;
        var count = await CountDestructiveAsync(run, since, cancellationToken);
        count += run.NotInStoreCount(destructiveOnly: true); // this run's intents not written yet (all of them in a dry run)
        if (count < options.Threshold) return decision;

        var reason = $"{count} destructive actions within {DurationText.Format(options.Window)} reached the threshold of {options.Threshold}";
        if (!run.DryRun)
        {
            await run.AppendAsync(run.Entry(AuditStatus.BreakerOpened) with { Guard = Name, Reason = reason }, cancellationToken);
        }

        return decision.Refuse(Verdict.Hold, Name, $"breaker opened: {reason}");
    }

    private static async Task<long> CountDestructiveAsync(RunContext run, DateTimeOffset since, CancellationToken cancellationToken)
    {
        return run.View is { } view
            ? await view.CountIntentsAsync(null, null, null, true, since, cancellationToken)
            : await run.Store.CountAsync(new AuditQuery { Since = since, Statuses = [AuditStatus.Intended], DryRun = false, Destructive = true }, cancellationToken);
    }

    /// <summary>The latest breaker event decides: opened and not re-armed since means open.</summary>
    public static async Task<(bool Open, AuditRecord? Event)> StateAsync(IAuditStore store, CancellationToken cancellationToken)
    {
        var last = await store.ReadAsync(new AuditQuery { Statuses = Events, Descending = true, Limit = 1, DryRun = false }, cancellationToken);
        return last.Count == 0 ? (false, null) : (last[0].Entry.Status == AuditStatus.BreakerOpened, last[0]);
    }
}
