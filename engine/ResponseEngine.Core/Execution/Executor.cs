using System.Collections.Immutable;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Planning;

namespace ResponseEngine.Execution;

/// <summary>What happened to one decision in a run.</summary>
public sealed record DecisionResult(Decision Decision, AuditStatus Status, long Sequence, string? Detail);

/// <summary>The results of a run, and counts by status for the summary table.</summary>
public sealed record RunSummary(string RunId, bool DryRun, ImmutableArray<DecisionResult> Results)
{
    public int Count(AuditStatus status) => Results.Count(r => r.Status == status);

    public bool AnyFailed => Results.Any(r => r.Status is AuditStatus.Failed or AuditStatus.TimedOut);
}

/// <summary>
/// The one place where guards, dry-run and auditing are decided. For each decision, in order: guards (under a lock
/// every process on the store shares) → the intent row (no intent, no action) → the connector (read; no-op when
/// already done; apply; verify) → the outcome row with the prior state. A failed audit write stops the run before
/// any further action; a connector failure is recorded and the run goes on.
/// </summary>
public sealed class Executor : IDisposable
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private readonly RunContext _run;
    private readonly ImmutableArray<IExecutionGuard> _guards;
    private readonly SemaphoreSlim _guardPhase = new(1, 1);

    public Executor(RunContext run, IEnumerable<IExecutionGuard>? guards = null)
    {
        _run = run;
        _guards = [.. guards ?? DefaultGuards(run.Options)];
    }

    public void Dispose() => _guardPhase.Dispose();

    /// <summary>The guards in their fixed order; the first refusal wins and names itself.</summary>
    public static IReadOnlyList<IExecutionGuard> DefaultGuards(EngineOptions options) =>
    [
        new StaticGuard(new RuleModeGuard()),
        new StaticGuard(new ProtectedIdentityGuard(options.Guards.Protected)),
        new StaticGuard(new PreconditionGuard()),
        new LockoutGuard(),
        new DedupeGuard(),
        new RateLimitGuard(),
        new BreakerGuard(),
        new ApprovalGate(),
    ];

    public async Task<RunSummary> ExecuteAsync(IReadOnlyList<Decision> decisions, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var results = new DecisionResult?[decisions.Count];
        var done = 0;
        var byProvider = decisions.Select((d, i) => (Decision: d, Index: i))
            .GroupBy(x => x.Decision.Identity?.Provider ?? x.Decision.Finding.Subject.Provider);
        var workers = byProvider.Select(group => Task.Run(async () =>
        {
            using var slots = new SemaphoreSlim(Math.Max(1, _run.Options.ConcurrencyPerProvider));
            var inFlight = new List<Task>();
            foreach (var (decision, index) in group)
            {
                await slots.WaitAsync(cancellationToken);
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        results[index] = await ExecuteOneAsync(decision, cancellationToken);
                        progress?.Report(Interlocked.Increment(ref done));
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, cancellationToken));
            }

            await Task.WhenAll(inFlight);
        }, cancellationToken)).ToList();

        await Task.WhenAll(workers);
        return new RunSummary(_run.RunId, _run.DryRun, [.. results.Where(r => r is not null).Select(r => r!)]);
    }

    private async Task<DecisionResult> ExecuteOneAsync(Decision decision, CancellationToken cancellationToken)
    {
        AuditRecord intent;
        await _guardPhase.WaitAsync(cancellationToken);
        try
        {
            await using var storeLock = await _run.Store.LockAsync(LockoutGuard.LockName, LockTimeout, cancellationToken);
            foreach (var guard in _guards)
            {
                if (decision.Verdict != Verdict.Execute) break;
                decision = await guard.CheckAsync(decision, _run, cancellationToken);
            }

            if (decision.Verdict != Verdict.Execute)
            {
                var status = decision.Verdict == Verdict.Hold ? AuditStatus.Held : AuditStatus.Skipped;
                var row = await _run.Store.AppendAsync(Describe(decision, status), cancellationToken);
                return new DecisionResult(decision, status, row.Sequence, decision.Reason);
            }

            _run.Pass(decision);
            if (_run.DryRun)
            {
                var row = await _run.Store.AppendAsync(Describe(decision, AuditStatus.DryRun), cancellationToken);
                return new DecisionResult(decision, AuditStatus.DryRun, row.Sequence, null);
            }

            // No audit, no action: the intent is durable before the connector is called.
            intent = await _run.Store.AppendAsync(Describe(decision, AuditStatus.Intended), cancellationToken);
        }
        finally
        {
            _guardPhase.Release();
        }

        return await ApplyAsync(decision, intent, cancellationToken);
    }

    private async Task<DecisionResult> ApplyAsync(Decision decision, AuditRecord intent, CancellationToken cancellationToken)
    {
        var identity = decision.Identity!;
        if (!_run.Connectors.TryGetValue(identity.Provider, out var connector))
        {
            return await OutcomeAsync(decision, intent, AuditStatus.Failed, null, $"no connector is configured for {identity.Provider.Name()}");
        }

        var request = new ActionRequest(decision.Action!, decision.Parameters, new TargetRef(identity.Provider, identity.Id, identity.Name));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_run.Options.ActionTimeout);
        TargetState? state = null;
        try
        {
            state = await connector.ReadAsync(request, timeout.Token);
            if (state.AlreadyDone)
            {
                return await OutcomeAsync(decision, intent, AuditStatus.Noop, state.PriorState, state.Description ?? "already in the desired state");
            }

            try
            {
                await connector.ApplyAsync(request, timeout.Token);
            }
            catch (Exception e) when (e is ConnectorException { Transient: true }
                                      || (e is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
            {
                // A timeout or a dropped connection may hide a call that acted: read back before recording a failure, so the
                // trail never says failed about a change that is in place (nor holds back its undo).
                if (await ConfirmedAsync(connector, request, cancellationToken))
                {
                    return await OutcomeAsync(decision, intent, AuditStatus.Succeeded, state.PriorState,
                        $"the directory's answer was lost ({(e is ConnectorException ? e.Message : "no answer in time")}); reading it back confirmed the change");
                }

                throw;
            }

            var verified = await connector.VerifyAsync(request, timeout.Token);
            return verified
                ? await OutcomeAsync(decision, intent, AuditStatus.Succeeded, state.PriorState, null)
                : await OutcomeAsync(decision, intent, AuditStatus.Failed, state.PriorState, "applied, but reading it back did not confirm the change");
        }
        catch (ConnectorException e)
        {
            return await OutcomeAsync(decision, intent, AuditStatus.Failed, state?.PriorState, e.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return await OutcomeAsync(decision, intent, AuditStatus.TimedOut, state?.PriorState,
                $"no answer within {_run.Options.ActionTimeout.TotalSeconds:0} s; the outcome is unknown; a later run reads the live state before any retry");
        }
    }

    /// <summary>Whether the change reads back as done, within a fresh action timeout; a failed read is "not confirmed".</summary>
    private async Task<bool> ConfirmedAsync(IConnector connector, ActionRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_run.Options.ActionTimeout);
        try
        {
            return await connector.VerifyAsync(request, timeout.Token);
        }
        catch (ConnectorException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<DecisionResult> OutcomeAsync(Decision decision, AuditRecord intent, AuditStatus status, string? priorState, string? detail)
    {
        var entry = Describe(decision, status) with
        {
            IntentSequence = intent.Sequence,
            PriorState = priorState,
            Error = status is AuditStatus.Failed or AuditStatus.TimedOut ? detail : null,
            Reason = status is AuditStatus.Noop or AuditStatus.Succeeded ? detail : null,
        };

        // The outcome must be written even when the run is being cancelled: the action has happened.
        var row = await _run.Store.AppendAsync(entry, CancellationToken.None);
        return new DecisionResult(decision, status, row.Sequence, detail);
    }

    private AuditEntry Describe(Decision decision, AuditStatus status)
    {
        var identity = decision.Identity;
        return _run.Entry(status) with
        {
            IdempotencyKey = decision.Action is null ? null : IdempotencyKey.For(decision),
            RuleId = decision.Rule.Id,
            RuleFile = decision.Rule.Source.File.Replace('\\', '/'),
            RuleHash = decision.Rule.Source.ContentHash,
            RulesCommit = decision.Rule.Source.GitCommit,
            FindingId = decision.Finding.Id,
            FindingSource = decision.Finding.Source,
            Provider = (identity?.Provider ?? decision.Finding.Subject.Provider).Name(),
            IdentityId = identity?.Id ?? decision.Finding.Subject.Id,
            IdentityName = identity?.Display ?? decision.Finding.Subject.Name,
            Action = decision.Action?.Name,
            Parameters = decision.Parameters.Canonical,
            Destructive = decision.Action?.Destructive ?? false,
            Verdict = decision.Verdict.Name(),
            Guard = decision.Guard,
            Reason = decision.Reason ?? decision.Note,
            Facts = IdempotencyKey.Facts(decision),
        };
    }
}
