using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Inbox;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Operations;

/// <summary>Where an operator acted from; recorded in the run id of every row the action writes (operator-cli-…, operator-console-…, operator-api-…).</summary>
public enum OperatorChannel
{
    Cli,
    Console,
    Api,
}

/// <summary>Who acts, and through what: the name is the audit row's actor.</summary>
public sealed record OperatorIdentity(string Name, OperatorChannel Channel)
{
    public string ChannelName => Channel switch
    {
        OperatorChannel.Cli => "cli",
        OperatorChannel.Console => "console",
        OperatorChannel.Api => "api",
        _ => throw new ArgumentOutOfRangeException(nameof(Channel)),
    };
}

/// <summary>Why an operator action was refused; the API maps each to an HTTP status, the CLI to exit code 2.</summary>
public enum OperationProblem
{
    /// <summary>The request itself is wrong (a blank reason).</summary>
    Invalid,

    /// <summary>No such audit row.</summary>
    NotFound,

    /// <summary>The row is not in a state that allows it (not held, rejected, expired, already undone, not reversible).</summary>
    Conflict,

    /// <summary>A guard refused it (undo of a protected identity, lockout protection).</summary>
    Refused,
}

/// <summary>An operator action that was refused before anything was written or done; the message says why and what to do.</summary>
public sealed class OperationException : Exception
{
    public OperationException(OperationProblem problem, string message)
        : base(message) => Problem = problem;

    public OperationException()
    {
    }

    public OperationException(string message)
        : base(message)
    {
    }

    public OperationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OperationProblem Problem { get; } = OperationProblem.Invalid;
}

/// <summary>A decision held for approval and waiting for an answer.</summary>
public sealed record PendingApproval(AuditRecord Held, DateTimeOffset ExpiresAt);

/// <summary>The answer to approve or reject: the held row, the answer's row (or the earlier approval it repeats), whether its finding went back into the inbox.</summary>
public sealed record AnswerResult(AuditRecord Held, AuditRecord Answer, bool AlreadyApproved, bool Requeued);

/// <summary>A re-arm: whether the breaker was open, the rearm row, the destructive actions it held, their findings, and how many went back into the inbox.</summary>
public sealed record RearmResult(bool WasOpen, AuditRecord? Row, int HeldActions, int HeldFindings, int Requeued);

/// <summary>An undo: the outcome it reversed, its own intent, and its outcome (failed with the connector's error, or succeeded).</summary>
public sealed record UndoResult(AuditRecord Reversed, AuditRecord Intent, AuditRecord Outcome)
{
    public bool Succeeded => Outcome.Entry.Status == AuditStatus.Succeeded;
}

/// <summary>
/// What a person does to the engine — approve, reject, re-arm the breaker (and requeue what it held), undo — in one
/// place that the CLI, the console's pages and the /v1 API all call. Every state change is one or more audit rows
/// naming the operator, the reason (required, not blank) and the channel; undo passes the same guards as always
/// (protected identities, lockout protection) under the store's lockout lock.
/// </summary>
public sealed class OperatorActions
{
    /// <summary>An undo row is named for what it did: `undo:disable_user` re-enabled the account, and is never counted as a disable.</summary>
    public const string UndoPrefix = "undo:";

    private readonly IAuditStore _store;
    private readonly EngineOptions _options;
    private readonly Func<IReadOnlyDictionary<Provider, IConnector>> _connectors;
    private readonly TimeProvider _time;
    private readonly IFindingInbox? _inbox;
    private readonly string _host;
    private readonly string _engineVersion;

    /// <param name="connectors">Made only when an undo needs them (approve and reject never reach a directory).</param>
    /// <param name="inbox">Where approved and requeued findings go back (the store itself when it is the inbox).</param>
    public OperatorActions(IAuditStore store, EngineOptions options, Func<IReadOnlyDictionary<Provider, IConnector>> connectors, TimeProvider time,
        string host, string engineVersion, IFindingInbox? inbox = null)
    {
        _store = store;
        _options = options;
        _connectors = connectors;
        _time = time;
        _host = host;
        _engineVersion = engineVersion;
        _inbox = inbox ?? store as IFindingInbox;
    }

    /// <summary>Called after findings went back into the inbox, so a waiting worker looks at once.</summary>
    public Action? Requeued { get; init; }

    /// <summary>The reason trimmed, or <see cref="OperationProblem.Invalid"/> when it is blank.</summary>
    public static string RequireReason(string? reason, string what)
    {
        var trimmed = reason?.Trim();
        return string.IsNullOrEmpty(trimmed)
            ? throw new OperationException(OperationProblem.Invalid, $"{what}: the reason must say why (it is recorded in the audit trail with your name); it is blank")
            : trimmed;
    }

    /// <summary>One row by its number.</summary>
    public async Task<AuditRecord> FindAsync(long sequence, CancellationToken cancellationToken)
    {
        var rows = await _store.ReadAsync(new AuditQuery { AfterSequence = sequence - 1, Limit = 1 }, cancellationToken);
        return rows.Count == 1 && rows[0].Sequence == sequence ? rows[0] : throw new OperationException(OperationProblem.NotFound, $"there is no audit row #{sequence}");
    }

    /// <summary>
    /// Decisions held for approval, neither approved nor rejected, and not expired (guards.approval.expires); oldest first,
    /// one per decision. Reads only the held rows of the expiry window and the answers to them.
    /// </summary>
    public async Task<IReadOnlyList<PendingApproval>> PendingApprovalsAsync(CancellationToken cancellationToken)
    {
        var expires = _options.Guards.Approval.Expires;
        var since = _time.GetUtcNow() - expires;
        var held = (await _store.ReadAsync(new AuditQuery { Since = since, Statuses = [AuditStatus.Held], Guard = "approval", DryRun = false }, cancellationToken))
            .Where(r => r.Entry.IdempotencyKey is not null).ToList();
        if (held.Count == 0) return [];
        var answered = (await _store.ReadAsync(new AuditQuery { AfterSequence = held[0].Sequence, Statuses = [AuditStatus.Approved, AuditStatus.Rejected], DryRun = false }, cancellationToken))
            .Select(r => r.Entry.IdempotencyKey).ToHashSet(StringComparer.Ordinal);
        return held.Where(r => !answered.Contains(r.Entry.IdempotencyKey)).GroupBy(r => r.Entry.IdempotencyKey).Select(g => g.First())
            .Select(r => new PendingApproval(r, r.RecordedAt + expires)).ToList();
    }

    public Task<AnswerResult> ApproveAsync(long sequence, string? reason, OperatorIdentity who, CancellationToken cancellationToken) =>
        AnswerAsync(AuditStatus.Approved, sequence, RequireReason(reason, "approve"), who, cancellationToken);

    public Task<AnswerResult> RejectAsync(long sequence, string? reason, OperatorIdentity who, CancellationToken cancellationToken) =>
        AnswerAsync(AuditStatus.Rejected, sequence, RequireReason(reason, "reject"), who, cancellationToken);

    private async Task<AnswerResult> AnswerAsync(AuditStatus answer, long sequence, string why, OperatorIdentity who, CancellationToken cancellationToken)
    {
        var held = await FindAsync(sequence, cancellationToken);
        if (held.Entry.Status != AuditStatus.Held || held.Entry.IdempotencyKey is null)
            throw new OperationException(OperationProblem.Conflict, $"audit #{held.Sequence} is {held.Entry.Status.Name()}, not a held decision");
        if (held.Entry.Guard != "approval")
            throw new OperationException(OperationProblem.Conflict, $"audit #{held.Sequence} is held by the {held.Entry.Guard}, not waiting for approval" +
                (held.Entry.Guard == "breaker" ? "; review it and run `respond breaker rearm --reason …`" : ""));
        var answers = await _store.ReadAsync(new AuditQuery { IdempotencyKey = held.Entry.IdempotencyKey, Statuses = [AuditStatus.Approved, AuditStatus.Rejected] }, cancellationToken);
        if (answers.FirstOrDefault(r => r.Entry.Status == AuditStatus.Rejected) is { } rejected)
            throw new OperationException(OperationProblem.Conflict, $"audit #{held.Sequence} was rejected by {rejected.Entry.Actor} (audit #{rejected.Sequence}): {rejected.Entry.Reason}");
        var now = _time.GetUtcNow();
        var expires = _options.Guards.Approval.Expires;
        if (answer == AuditStatus.Approved && answers.Count > 0 && answers[^1] is var approved && now - approved.RecordedAt <= expires)
            return new AnswerResult(held, approved, AlreadyApproved: true, Requeued: false);
        if (answer == AuditStatus.Approved && now - held.RecordedAt > expires)
            throw new OperationException(OperationProblem.Conflict, $"audit #{held.Sequence} was held at {held.RecordedAt:yyyy-MM-dd HH:mm}Z, more than guards.approval.expires ({DurationText.Format(expires)}) ago; the request has expired (the next finding about it asks again)");

        var e = held.Entry;
        var row = await _store.AppendAsync(Entry(who, answer) with
        {
            IdempotencyKey = e.IdempotencyKey, IntentSequence = held.Sequence, RuleId = e.RuleId, RuleHash = e.RuleHash,
            FindingId = e.FindingId, FindingSource = e.FindingSource, Provider = e.Provider,
            IdentityId = e.IdentityId, IdentityName = e.IdentityName, Action = e.Action, Parameters = e.Parameters,
            Guard = "approval", Reason = why,
        }, cancellationToken);
        var requeued = answer == AuditStatus.Approved && await RequeueAsync(e.FindingSource, e.FindingId, cancellationToken);
        if (requeued) Requeued?.Invoke();
        return new AnswerResult(held, row, AlreadyApproved: false, requeued);
    }

    /// <summary>The breaker's state: open or not, and its latest event (opened or re-armed).</summary>
    public Task<(bool Open, AuditRecord? Event)> BreakerStateAsync(CancellationToken cancellationToken) => BreakerGuard.StateAsync(_store, cancellationToken);

    /// <summary>The destructive actions the breaker held since it opened (the rows the breaker guard wrote).</summary>
    public async Task<IReadOnlyList<AuditRecord>> HeldByBreakerAsync(AuditRecord opened, CancellationToken cancellationToken) =>
        await _store.ReadAsync(new AuditQuery { AfterSequence = opened.Sequence, Statuses = [AuditStatus.Held], Guard = "breaker", DryRun = false }, cancellationToken);

    /// <summary>Closes an open breaker (a rearm row with the operator and reason); with <paramref name="requeue"/> puts the held findings back into the inbox.</summary>
    public async Task<RearmResult> RearmAsync(string? reason, bool requeue, OperatorIdentity who, CancellationToken cancellationToken)
    {
        var why = RequireReason(reason, "breaker rearm");
        var (open, opened) = await BreakerStateAsync(cancellationToken);
        if (!open) return new RearmResult(false, null, 0, 0, 0);
        var held = await HeldByBreakerAsync(opened!, cancellationToken);
        var row = await _store.AppendAsync(Entry(who, AuditStatus.BreakerRearmed) with { Guard = "breaker", Reason = why }, cancellationToken);
        var findings = held.Select(r => (r.Entry.FindingSource, r.Entry.FindingId)).Distinct().ToList();
        var back = 0;
        if (requeue)
        {
            foreach (var (source, id) in findings)
            {
                if (await RequeueAsync(source, id, cancellationToken)) back++;
            }

            if (back > 0) Requeued?.Invoke();
        }

        return new RearmResult(true, row, held.Count, findings.Count, back);
    }

    /// <summary>
    /// Why <paramref name="sequence"/> cannot be undone (null when it can, as far as the trail tells: a succeeded,
    /// reversible action with a prior state, not an undo, not undone yet); the outcome row it would reverse.
    /// </summary>
    public async Task<(AuditRecord? Outcome, string? Problem, OperationProblem Kind)> UndoableAsync(AuditRecord row, CancellationToken cancellationToken)
    {
        var outcome = row.Entry.Status == AuditStatus.Intended
            ? (await _store.ReadAsync(new AuditQuery { AfterSequence = row.Sequence, Statuses = [AuditStatus.Succeeded] }, cancellationToken)).FirstOrDefault(r => r.Entry.IntentSequence == row.Sequence)
            : row;
        if (outcome is null || outcome.Entry.Status != AuditStatus.Succeeded || outcome.Entry.PriorState is null)
            return (null, $"audit #{row.Sequence} is not a succeeded action with a recorded prior state", OperationProblem.Conflict);
        var e = outcome.Entry;
        if (e.Action?.StartsWith(UndoPrefix, StringComparison.Ordinal) == true) return (outcome, $"audit #{outcome.Sequence} is an undo; an undo is not undone", OperationProblem.Conflict);
        if (ActionCatalogue.Default.Find(e.Action ?? "") is not { } action) return (outcome, $"unknown action '{e.Action}'", OperationProblem.Conflict);
        if (!action.Reversal.Reversible) return (outcome, $"{action.Name} cannot be undone: {action.Reversal.How}", OperationProblem.Conflict);
        if (await _store.CountAsync(new AuditQuery { IdempotencyKey = UndoPrefix + e.IdempotencyKey, Statuses = [AuditStatus.Intended] }, cancellationToken) > 0)
            return (outcome, $"audit #{outcome.Sequence} has already been undone", OperationProblem.Conflict);
        return (outcome, null, default);
    }

    /// <summary>
    /// Reverses a succeeded action from its recorded prior state, exactly as `respond undo`: refused for protected
    /// identities and by lockout protection (under the store's lockout lock), once only, audited as intent then outcome.
    /// </summary>
    public async Task<UndoResult> UndoAsync(long sequence, string? reason, OperatorIdentity who, CancellationToken cancellationToken)
    {
        var why = RequireReason(reason, "undo");
        var row = await FindAsync(sequence, cancellationToken);
        var (outcome, problem, kind) = await UndoableAsync(row, cancellationToken);
        if (problem is not null) throw new OperationException(kind, problem);
        var e = outcome!.Entry;
        var action = ActionCatalogue.Default.Find(e.Action!)!;
        if (!Providers.TryParse(e.Provider, out var provider) || e.IdentityId is null) throw new OperationException(OperationProblem.Conflict, "the row names no target");

        var connectors = _connectors();
        var lookup = await connectors[provider].ResolveAsync(new Subject(provider, e.IdentityId, null), cancellationToken);
        var identity = lookup.Identity ?? throw new OperationException(OperationProblem.Refused, $"cannot resolve the account to undo on: {lookup.Problem}; nothing done");

        // An undo is an action too: it passes the guards that apply to what it does, under the same store lock as a run.
        await using var storeLock = await _store.LockAsync(LockoutGuard.LockName, TimeSpan.FromSeconds(30), cancellationToken);
        var inverse = action.Name == "enable_user" ? ActionCatalogue.Default.Find("disable_user")! : null;
        var probe = Probe(identity, inverse);
        probe = new ProtectedIdentityGuard(_options.Guards.Protected).Check(probe, new GuardContext(_time.GetUtcNow(), _options.Privileged));
        if (probe.Verdict == Verdict.Execute && inverse is not null)
        {
            var run = new RunContext(RunId(who), _options, _store, connectors, _time, dryRun: false, who.Name, _host, _engineVersion);
            probe = await new LockoutGuard().CheckAsync(probe, run, cancellationToken);
        }

        if (probe.Verdict != Verdict.Execute) throw new OperationException(OperationProblem.Refused, $"undo refused by {probe.Guard}: {probe.Reason}");

        var request = new ActionRequest(action, Reconciler.ParseParameters(e.Parameters), new TargetRef(provider, e.IdentityId, e.IdentityName ?? e.IdentityId));
        var undo = Entry(who, AuditStatus.Intended) with
        {
            IdempotencyKey = UndoPrefix + e.IdempotencyKey, IntentSequence = null, RuleId = e.RuleId, RuleFile = e.RuleFile, RuleHash = e.RuleHash, FindingId = e.FindingId,
            FindingSource = e.FindingSource, Provider = e.Provider, IdentityId = e.IdentityId, IdentityName = e.IdentityName, Action = UndoPrefix + e.Action,
            Parameters = e.Parameters, Verdict = "undo", Reason = $"undo of audit #{outcome.Sequence}: {why}", PriorState = e.PriorState,
        };
        var intent = await _store.AppendAsync(undo, cancellationToken);
        try
        {
            await connectors[provider].RestoreAsync(request, e.PriorState!, cancellationToken);
            var done = await _store.AppendAsync(undo with { Status = AuditStatus.Succeeded, IntentSequence = intent.Sequence }, CancellationToken.None);
            return new UndoResult(outcome, intent, done);
        }
        catch (ConnectorException ex)
        {
            var failed = await _store.AppendAsync(undo with { Status = AuditStatus.Failed, IntentSequence = intent.Sequence, Error = ex.Message }, CancellationToken.None);
            return new UndoResult(outcome, intent, failed);
        }
    }

    /// <summary>Puts a finding back into the serve inbox (when there is one and the finding came through it), so the service decides it again.</summary>
    private async Task<bool> RequeueAsync(string? source, string? findingId, CancellationToken cancellationToken) =>
        _inbox is not null && source is not null && findingId is not null && await _inbox.RequeueAsync(source, findingId, cancellationToken);

    /// <summary>A decision standing for the undo, so that the guards can judge it like any other.</summary>
    private static Decision Probe(Identity identity, ActionDefinition? action) =>
        new(
            new Finding("undo", "respond", FindingKind.Detection, "undo", Severity.Low, DateTimeOffset.MinValue, new Subject(identity.Provider, identity.Id, null), "undo", Finding.NoAttributes),
            new Rule("undo", "undo", "operator", RuleMode.Enforce, new RuleMatch(["undo"], [identity.Provider], Severity.Low), [], new RuleSource("", "", null), default),
            identity, action, ActionParameters.Empty);

    private string RunId(OperatorIdentity who) => $"operator-{who.ChannelName}-{_time.GetUtcNow():yyyyMMddTHHmmss}";

    private AuditEntry Entry(OperatorIdentity who, AuditStatus status) => new()
    {
        RunId = RunId(who),
        Host = _host,
        EngineVersion = _engineVersion,
        Actor = who.Name,
        Status = status,
    };
}
