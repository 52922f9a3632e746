using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Rules;

namespace ResponseEngine.Service.Processing;

/// <summary>
/// The loop that turns inbox items into actions, one batch at a time, through <see cref="InboxProcessor"/> and so
/// through the executor `respond run` uses. When the audit store fails, execution stops (fail closed): the batch is not
/// completed, the loop backs off and tries again until the store answers. On shutdown it stops taking work, lets the
/// action in flight write its outcome, and gives back its leases; an intent the shutdown interrupted is the
/// reconciler's.
/// </summary>
public sealed class InboxWorker(ServeSetup setup, RuleSetHolder rules, InboxSignal signal, StoreHealth health, ServiceMetrics metrics, ILogger<InboxWorker> log)
    : BackgroundService
{
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(30);

    private readonly InboxProcessor _processor = new(setup.Inbox, setup.Instance,
        new InboxProcessorOptions { BatchSize = setup.Options.Serve.BatchSize, Lease = setup.Options.Serve.Lease });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        await ReconcileAtStartAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                if (backoff > TimeSpan.Zero) await Task.Delay(backoff, setup.Time, stoppingToken);
                if (rules.Current is { } ruleSet)
                {
                    var batch = await _processor.ProcessOnceAsync(ruleSet, setup.NewRun, stoppingToken);
                    if (batch.Leased > 0)
                    {
                        metrics.Record(batch.Results);
                        foreach (var result in batch.Results) LogOutcome(batch.RunId, result);
                        log.LogInformation("batch {RunId}: {Leased} findings, {Rejected} rejected, {Decisions} decisions ({Statuses})", batch.RunId ?? "-", batch.Leased, batch.Rejected,
                            batch.Results.Length, string.Join(", ", batch.Results.GroupBy(r => r.Status).Select(g => $"{g.Key.Name()} {g.Count()}")));
                        more = true;
                    }

                    await RefreshGaugesAsync(stoppingToken);
                }

                if (!health.State.Reachable) log.LogInformation("audit store reachable again: execution resumes");
                health.Ok();
                backoff = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (StoreHealth.IsStoreFault(e))
            {
                // Fail closed: nothing more runs until the store answers; the batch's items stay in the inbox.
                health.Fault(e.Message, setup.Time.GetUtcNow());
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
                log.LogError("execution stopped (fail closed): {Message}; retrying in {Backoff}", e.Message, backoff);
                await TryReleaseAsync();
                continue;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Anything else (a connector's unexpected exception, a bug) must not end the service: the batch's intents are
                // durable and reconciled, its items come back when their lease ends, and the loop backs off and goes on.
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
                log.LogCritical(e, "inbox batch failed unexpectedly; its items return when their lease ends; retrying in {Backoff}", backoff);
                continue;
            }

            if (more) continue;
            try
            {
                await signal.WaitAsync(setup.Options.Serve.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await TryReleaseAsync();
        log.LogInformation("inbox worker stopped; leases given back");
    }

    private async Task ReconcileAtStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReconcileJob.ReconcileAsync(setup, log, cancellationToken);
        }
        catch (Exception e) when (StoreHealth.IsStoreFault(e))
        {
            log.LogError("reconciliation at start failed: {Message}; the scheduled reconciler will retry", e.Message);
        }
    }

    private async Task RefreshGaugesAsync(CancellationToken cancellationToken)
    {
        var (open, _) = await BreakerGuard.StateAsync(setup.Store, cancellationToken);
        metrics.Breaker(open);
        if (setup.Options.Guards.RateLimits.GlobalPerHour is { } limit)
        {
            var used = await setup.Store.CountAsync(new AuditQuery { Since = setup.Time.GetUtcNow().AddHours(-1), Statuses = [AuditStatus.Intended], DryRun = false }, cancellationToken);
            metrics.Headroom(Math.Max(0, limit - used));
        }

        metrics.Pending((await setup.Inbox.CountAsync(cancellationToken)).Pending);
    }

    /// <summary>One structured event per decision outcome, so a log pipeline can follow every action without reading the trail.</summary>
    private void LogOutcome(string? runId, DecisionResult result)
    {
        var decision = result.Decision;
        log.Log(result.Status is AuditStatus.Failed or AuditStatus.TimedOut ? LogLevel.Warning : LogLevel.Information, DecisionEvent,
            "decision {RunId} {Rule} {Provider} {Identity} {Action} {Status} {Guard} audit #{AuditSequence}: {Reason}",
            runId ?? "-", decision.Rule.Id, (decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name(), decision.TargetDisplay,
            decision.ActionName ?? "-", result.Status.Name(), decision.Guard ?? "-", result.Sequence, result.Detail ?? decision.Reason ?? "");
    }

    private static readonly EventId DecisionEvent = new(100, "decision");

    private async Task TryReleaseAsync()
    {
        try
        {
            await setup.Inbox.ReleaseAsync(setup.Instance, CancellationToken.None);
        }
        catch (Exception e) when (StoreHealth.IsStoreFault(e))
        {
            // The store is away; the leases expire on their own.
        }
    }
}

/// <summary>Runs the reconciler (it never acts: it reads the live state and closes stale intents) and requeues the findings of intents it closed as failed.</summary>
public static class ReconcileJob
{
    public static async Task<int> ReconcileAsync(ServeSetup setup, ILogger log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var run = setup.NewRun();
        var reconciled = await new Reconciler(run, ActionCatalogue.Default).ReconcileAsync(setup.Options.ReconcileAfter, cancellationToken);
        foreach (var item in reconciled)
        {
            log.LogWarning("reconciled audit #{Intent} {Action} on {Target}: {Status} — {Detail}", item.IntentSequence, item.Action, item.Target, item.Status.Name(), item.Detail);
            if (item.Status != AuditStatus.Failed) continue;

            // Not applied: the finding goes back to the inbox, to be decided again under every guard as they stand now.
            var intent = await setup.Store.ReadAsync(new AuditQuery { AfterSequence = item.IntentSequence - 1, Limit = 1 }, cancellationToken);
            if (intent is [{ Entry: { FindingSource: { } source, FindingId: { } id } }] && await setup.Inbox.RequeueAsync(source, id, cancellationToken))
            {
                log.LogInformation("finding {Source}/{Id} requeued to be decided again", source, id);
            }
        }

        return reconciled.Length;
    }
}
