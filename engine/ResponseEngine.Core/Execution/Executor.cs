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
/// The one place where guards, dry-run and auditing are decided. Decisions go through in batches of
/// <see cref="GuardBatchSize"/>, one provider's after another's in turn: the guard phase — every decision of the batch through the guards, one after
/// the other, under a lock every process on the store shares, each seeing the ones passed before it (their intents are
/// counted while staged: <see cref="RunContext.StagedIntents"/>) — ends by writing the batch's refusal, dry-run and
/// intent rows in one transaction; only then, with every intent durable (no intent, no action), the connector
/// calls (read; no-op when already done; apply; verify), per provider with its concurrency, each followed by its
/// outcome row with the prior state, written once the connector has made the change durable
/// (<see cref="IConnector.MakeDurableAsync"/>). Outcome rows are written while the next action proceeds, so they share
/// commits, and the changes made meanwhile share the connector's flush.
/// A failed audit write stops the run before any further action; a connector failure is recorded and the run goes on.
/// </summary>
public sealed class Executor : IDisposable
{
    /// <summary>Decisions guarded under one hold of the guard lock and audited in one transaction.</summary>
    public const int DefaultGuardBatchSize = 64;

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private readonly RunContext _run;
    private readonly ImmutableArray<IExecutionGuard> _guards;
    private readonly SemaphoreSlim _guardPhase = new(1, 1);
    private readonly InRunState _state = new();

    public Executor(RunContext run, IEnumerable<IExecutionGuard>? guards = null, int guardBatchSize = DefaultGuardBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(guardBatchSize, 1);
        _run = run;
        _guards = [.. guards ?? DefaultGuards(run.Options)];
        GuardBatchSize = guardBatchSize;
    }

    /// <summary>Decisions guarded under one hold of the guard lock and audited in one transaction.</summary>
    public int GuardBatchSize { get; }

    public void Dispose() => _guardPhase.Dispose();

    /// <summary>
    /// Called with each decision once the guards have decided it, before its row is staged: how a plan names what it
    /// counted on the snapshot. The guard loop is sequential, so it sees one decision at a time.
    /// </summary>
    internal Func<Decision, Decision>? AfterGuards { get; init; }

    /// <summary>
    /// Set by a plan, whose scratch store keeps no dry-run row and whose guards read none: each decision's row is staged
    /// with the run's provenance and its status only (it still takes its sequence), not hashed keys and facts nobody reads.
    /// </summary>
    internal bool RowsUnread { get; init; }

    /// <summary>The guards in their fixed order, for runs and plans alike; the first refusal wins and names itself.</summary>
    /// <param name="options">The configuration the guards read.</param>
    /// <param name="budgets">False leaves out the rate limits and the breaker: only for comparing two rule sets' own effect.</param>
    public static IReadOnlyList<IExecutionGuard> DefaultGuards(EngineOptions options, bool budgets = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        IExecutionGuard[] limits = budgets ? [new RateLimitGuard(), new BreakerGuard()] : [];
        return
        [
            new StaticGuard(new RuleModeGuard()),
            new StaticGuard(new ProtectedIdentityGuard(options.Guards.Protected)),
            new StaticGuard(new PreconditionGuard()),
            new LockoutGuard(),
            new DedupeGuard(),
            .. limits,
            new ApprovalGate(),
        ];
    }

    public async Task<RunSummary> ExecuteAsync(IReadOnlyList<Decision> decisions, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var results = new DecisionResult?[decisions.Count];
        var done = 0;
        void Done(int index, DecisionResult result)
        {
            results[index] = result;
            progress?.Report(Interlocked.Increment(ref done));
        }

        var order = ProviderFairOrder(decisions);
        for (var start = 0; start < order.Count; start += GuardBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var passed = await GuardAsync(decisions, order.GetRange(start, Math.Min(GuardBatchSize, order.Count - start)), Done, cancellationToken);
            await ApplyAllAsync(passed, Done, cancellationToken);
        }

        return new RunSummary(_run.RunId, _run.DryRun, [.. results.Where(r => r is not null).Select(r => r!)]);
    }

    /// <summary>
    /// The order decisions meet the guards in, in a run and in a plan: one of each provider in turn, each provider's in
    /// plan order, so that limits shared by all providers (the breaker, a global rate limit) are not used up by whichever
    /// provider the plan lists first — as when each provider's worker took the guard lock in turn.
    /// </summary>
    private static List<int> ProviderFairOrder(IReadOnlyList<Decision> decisions)
    {
        var lanes = decisions.Select((d, i) => (Decision: d, Index: i))
            .GroupBy(x => x.Decision.Identity?.Provider ?? x.Decision.Finding.Subject.Provider)
            .Select(g => g.Select(x => x.Index).ToList())
            .ToList();
        var order = new List<int>(decisions.Count);
        for (var round = 0; order.Count < decisions.Count; round++)
        {
            foreach (var lane in lanes.Where(l => round < l.Count)) order.Add(lane[round]);
        }

        return order;
    }

    /// <summary>A decision the guards passed, with its durable intent row.</summary>
    private sealed record Passed(int Index, Decision Decision, AuditRecord Intent);

    /// <summary>
    /// The guard phase of one batch: under the shared lock, each decision through every guard in order (a passed one is
    /// staged as an intent that the following decisions' guards count), then all the batch's rows in one transaction.
    /// Returns the decisions to act on; their intents are durable, and the lock is released, when it returns.
    /// </summary>
    private async Task<List<Passed>> GuardAsync(IReadOnlyList<Decision> decisions, List<int> batchIndices, Action<int, DecisionResult> done, CancellationToken cancellationToken)
    {
        using var activity = EngineTelemetry.Source.StartActivity("respond.guard");
        activity?.SetTag("respond.run.id", _run.RunId).SetTag("respond.batch.size", batchIndices.Count);
        var rows = new List<(int Index, Decision Decision, AuditStatus Status, int Position)>(batchIndices.Count);
        var batch = new GuardBatch(_run.Store);
        await _guardPhase.WaitAsync(cancellationToken);
        try
        {
            await using var storeLock = await _run.Store.LockAsync(LockoutGuard.LockName, LockTimeout, cancellationToken);
            _run.Staging = batch;
            // What the guards read from the trail is read once for the batch where the store's filters can be repeated in memory.
            _run.View = _run.Store.ComparesTextOrdinally ? new GuardView(_run.Store, Targets(decisions, batchIndices)) : null;
            try
            {
                foreach (var index in batchIndices)
                {
                    // Checked on the account as the decisions this run passed before will leave it (in-run state).
                    var decision = _state.See(decisions[index]);
                    foreach (var guard in _guards)
                    {
                        if (decision.Verdict != Verdict.Execute) break;
                        decision = await guard.CheckAsync(decision, _run, cancellationToken);
                    }

                    decision = _state.Explain(decision);
                    if (AfterGuards is { } after) decision = after(decision);

                    AuditStatus status;
                    if (decision.Verdict != Verdict.Execute)
                    {
                        status = decision.Verdict == Verdict.Hold ? AuditStatus.Held : AuditStatus.Skipped;
                    }
                    else
                    {
                        _run.Pass(decision);
                        _state.Pass(decision);
                        status = _run.DryRun ? AuditStatus.DryRun : AuditStatus.Intended;
                    }

                    var row = RowsUnread && _run.DryRun ? _run.Entry(status) : Describe(decision, status);
                    rows.Add((index, decision, status, batch.Stage(row, status == AuditStatus.Intended ? decision : null)));
                }

                // No audit, no action: every intent of the batch is durable before the lock is released and any connector is called.
                await batch.FlushAsync(cancellationToken);
            }
            finally
            {
                _run.Staging = null;
                _run.View = null;
            }
        }
        finally
        {
            _guardPhase.Release();
        }

        var passed = new List<Passed>();
        foreach (var (index, decision, status, position) in rows)
        {
            var record = batch.Record(position);
            if (status == AuditStatus.Intended) passed.Add(new Passed(index, decision, record));
            else done(index, new DecisionResult(decision, status, record.Sequence, status == AuditStatus.DryRun ? null : decision.Reason));
        }

        return passed;
    }

    /// <summary>The accounts and actions of a batch's decisions, as the trail names them, for the batch's one read of their rows.</summary>
    private static List<AuditTarget> Targets(IReadOnlyList<Decision> decisions, List<int> batchIndices) =>
        [.. batchIndices.Select(i => decisions[i]).Where(d => d.Identity is not null && d.Action is not null)
            .Select(d => new AuditTarget(d.Identity!.Provider.Name(), d.Identity.Id, d.Action!.Name)).Distinct()];

    /// <summary>
    /// Acts on the passed decisions of a batch: one worker per provider, at most its concurrency in flight; each action's
    /// outcome row is written while the worker goes on to the next action (so outcome rows share commits). When an
    /// outcome cannot be written, or the run is cancelled, no further action starts; intents of actions not started are
    /// closed as failed (not attempted) when the store still answers, and otherwise left to the reconciler.
    /// </summary>
    private async Task ApplyAllAsync(List<Passed> passed, Action<int, DecisionResult> done, CancellationToken cancellationToken)
    {
        if (passed.Count == 0) return;
        var started = new bool[passed.Count];
        var outcomes = new List<Task>();
        var errors = new List<Exception>();
        var auditFailed = 0;
        bool Stopping() => cancellationToken.IsCancellationRequested || Volatile.Read(ref auditFailed) != 0;

        // A stop ends the lanes before their next action, but a directory call already in flight keeps its own token for
        // the grace: cut mid-call, its effect would be unknown and left to the reconciler.
        using var inFlightToken = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _run.Time);
        await using var graceOnStop = cancellationToken.UnsafeRegister(static state =>
        {
            var (source, grace) = ((CancellationTokenSource, TimeSpan))state!;
            try
            {
                source.CancelAfter(grace);
            }
            catch (ObjectDisposedException)
            {
                // The batch already ended.
            }
        }, (inFlightToken, _run.Options.StopGrace));

        var workers = passed.Select((p, i) => (Passed: p, Position: i)).GroupBy(x => x.Passed.Decision.Identity!.Provider).Select(lane => Task.Run(async () =>
        {
            using var slots = new SemaphoreSlim(Math.Max(1, _run.Options.ConcurrencyPerProvider));
            var inFlight = new List<Task>();
            foreach (var (item, position) in lane)
            {
                await slots.WaitAsync(CancellationToken.None);
                if (Stopping())
                {
                    slots.Release();
                    break;
                }

                started[position] = true;
                inFlight.Add(Task.Run(async () =>
                {
                    Task<DecisionResult>? outcome = null;
                    try
                    {
                        outcome = await ApplyAsync(item.Decision, item.Intent, inFlightToken.Token);
                    }
                    catch (Exception e)
                    {
                        // Cancelled mid-call, or an unexpected fault: the outcome is unknown, the intent stays open for the reconciler.
                        lock (errors) errors.Add(e);
                    }
                    finally
                    {
                        // Watch the outcome row before the slot is free: an outcome already refused stops the lane before its next action.
                        if (outcome is not null)
                        {
                            var recorded = outcome.ContinueWith(t =>
                            {
                                if (t.IsCompletedSuccessfully)
                                {
                                    done(item.Index, t.Result);
                                    return;
                                }

                                Interlocked.Exchange(ref auditFailed, 1);
                                lock (errors) errors.Add(t.Exception?.InnerException ?? new AuditWriteException("the outcome row was not written"));
                            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                            lock (outcomes) outcomes.Add(recorded);
                        }

                        slots.Release();
                    }
                }, CancellationToken.None));
            }

            await Task.WhenAll(inFlight);
        }, CancellationToken.None)).ToList();

        await Task.WhenAll(workers);
        Task[] writes;
        lock (outcomes) writes = [.. outcomes];
        await Task.WhenAll(writes);

        var notStarted = passed.Where((_, i) => !started[i]).ToList();
        if (notStarted.Count > 0 && auditFailed == 0)
        {
            // Known not to have acted (the connector was never called): closed now rather than left open for the reconciler.
            try
            {
                var entries = notStarted.Select(p => OutcomeEntry(p.Decision, p.Intent, AuditStatus.Failed, null,
                    "not attempted: the run was cancelled before this action started")).ToList();
                var records = await _run.Store.AppendManyAsync(entries, CancellationToken.None);
                for (var i = 0; i < notStarted.Count; i++)
                {
                    done(notStarted[i].Index, new DecisionResult(notStarted[i].Decision, AuditStatus.Failed, records[i].Sequence, entries[i].Error));
                }
            }
            catch (AuditWriteException e)
            {
                errors.Add(e);
            }
        }

        var audit = errors.OfType<AuditWriteException>().FirstOrDefault();
        if (audit is not null) throw audit;
        if (errors.FirstOrDefault(e => e is not OperationCanceledException) is { } fault) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
        cancellationToken.ThrowIfCancellationRequested();
        if (errors.Count > 0) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(errors[0]);
    }

    /// <summary>
    /// The connector part of one action. Returns the task writing its outcome row, started but not awaited, so the
    /// caller can go on to its next action while the row is committed.
    /// </summary>
    private async Task<Task<DecisionResult>> ApplyAsync(Decision decision, AuditRecord intent, CancellationToken cancellationToken)
    {
        var identity = decision.Identity!;
        if (!_run.Connectors.TryGetValue(identity.Provider, out var connector))
        {
            return OutcomeAsync(decision, intent, AuditStatus.Failed, null, $"no connector is configured for {identity.Provider.Name()}");
        }

        var request = new ActionRequest(decision.Action!, decision.Parameters, new TargetRef(identity.Provider, identity.Id, identity.Name));
        using var activity = EngineTelemetry.Source.StartActivity("respond.action");
        activity?.SetTag("respond.rule", decision.Rule.Id).SetTag("respond.provider", identity.Provider.Name()).SetTag("respond.action", decision.ActionName)
            .SetTag("respond.audit.intent", intent.Sequence);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_run.Options.ActionTimeout);
        TargetState? state = null;
        try
        {
            state = await connector.ReadAsync(request, timeout.Token);
            if (state.AlreadyDone)
            {
                return OutcomeAsync(decision, intent, AuditStatus.Noop, state.PriorState, state.Description ?? "already in the desired state");
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
                var lost = e is ConnectorException ? e.Message : "no answer in time";
                switch (await ConfirmedAsync(connector, request, cancellationToken))
                {
                    case (true, _):
                        return OutcomeAsync(decision, intent, AuditStatus.Succeeded, state.PriorState,
                            $"the directory's answer was lost ({lost}); reading it back confirmed the change", connector);
                    case (null, var readError) when e is ConnectorException:
                        // Neither the answer nor a read-back: the change may be in place. Recording `failed` would be a claim the
                        // trail cannot back; the outcome is unknown, and the next run reads the live state before any retry.
                        return OutcomeAsync(decision, intent, AuditStatus.TimedOut, state.PriorState,
                            $"the directory's answer was lost ({lost}) and reading it back failed ({readError}); the outcome is unknown; a later run reads the live state before any retry");
                }

                throw;
            }

            var verified = await connector.VerifyAsync(request, timeout.Token);
            return verified
                ? OutcomeAsync(decision, intent, AuditStatus.Succeeded, state.PriorState, null, connector)
                : OutcomeAsync(decision, intent, AuditStatus.Failed, state.PriorState, "applied, but reading it back did not confirm the change", connector);
        }
        catch (TargetChangedException e)
        {
            // Changed since the decision was made, and the connector did nothing: a no-op with the state it found then,
            // never a failure, and never a success (with a prior state undo would wrongly restore) it did not cause.
            return OutcomeAsync(decision, intent, AuditStatus.Noop, e.Current.PriorState, e.Message);
        }
        catch (ConnectorException e)
        {
            return OutcomeAsync(decision, intent, AuditStatus.Failed, state?.PriorState, e.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return OutcomeAsync(decision, intent, AuditStatus.TimedOut, state?.PriorState,
                $"no answer within {_run.Options.ActionTimeout.TotalSeconds:0} s; the outcome is unknown; a later run reads the live state before any retry");
        }
    }

    /// <summary>
    /// Whether the change reads back as done, within a fresh action timeout: true or false when the directory answered;
    /// null, with the reason, when the read-back itself failed (the outcome stays unknown).
    /// </summary>
    private async Task<(bool? Done, string? Error)> ConfirmedAsync(IConnector connector, ActionRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_run.Options.ActionTimeout);
        try
        {
            return (await connector.VerifyAsync(request, timeout.Token), null);
        }
        catch (ConnectorException e)
        {
            return (null, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {_run.Options.ActionTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Writes the outcome row. After a change (<paramref name="applied"/> is the connector that made it), first waits
    /// until the connector has made it durable, so the trail never records a change a crash of the machine could undo;
    /// meanwhile the lane goes on, and the next changes share the connector's flush.
    /// </summary>
    private async Task<DecisionResult> OutcomeAsync(Decision decision, AuditRecord intent, AuditStatus status, string? priorState, string? detail, IConnector? applied = null)
    {
        if (applied is not null)
        {
            try
            {
                await applied.MakeDurableAsync(CancellationToken.None);
            }
            catch (ConnectorException e)
            {
                // Made, but perhaps not kept: neither success nor failure can be claimed; the next run reads the live state.
                status = AuditStatus.TimedOut;
                detail = $"the change was made but the directory could not make it durable ({e.Message}); the outcome is unknown; a later run reads the live state before any retry";
            }
        }

        // The outcome must be written even when the run is being cancelled: the action has happened.
        var row = await _run.Store.AppendAsync(OutcomeEntry(decision, intent, status, priorState, detail), CancellationToken.None);
        EngineTelemetry.ActionCompleted(decision, status, row.RecordedAt - intent.RecordedAt);
        return new DecisionResult(decision, status, row.Sequence, detail);
    }

    private AuditEntry OutcomeEntry(Decision decision, AuditRecord intent, AuditStatus status, string? priorState, string? detail) =>
        Describe(decision, status) with
        {
            IntentSequence = intent.Sequence,
            PriorState = priorState,
            Error = status is AuditStatus.Failed or AuditStatus.TimedOut ? detail : null,
            Reason = status is AuditStatus.Noop or AuditStatus.Succeeded ? detail : null,
        };

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
