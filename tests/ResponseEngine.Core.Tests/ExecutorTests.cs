using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Core.Tests;

public class ExecutorTests
{
    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly InMemoryAuditStore _store;
    private readonly DirectorySnapshot _directory;
    private readonly FakeConnector _ad;

    public ExecutorTests()
    {
        _store = new InMemoryAuditStore(_time);
        var users = Enumerable.Range(1, 4).Select(i => Build.User($"da{i}", groups: ["Domain Admins"]))
            .Concat(Enumerable.Range(1, 20).Select(i => Build.User($"user{i}")))
            .Append(Build.User("bg", groups: ["Domain Admins"], tags: ["break_glass"]));
        _directory = Build.Directory([.. users]);
        _ad = new FakeConnector(Provider.Ad, _directory);
    }

    private RunContext Run(EngineOptions? options = null, bool dryRun = false) =>
        new(Guid.NewGuid().ToString("N")[..8], options ?? new EngineOptions(), _store,
            new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, _time, dryRun, "tests", "host", "0.0.0-test");

    private static RuleSet Rules(string extra = "", string when = "true") =>
        RuleFiles.Load(RuleFiles.Rule(when: when, extra: extra)).RuleSet!;

    private static Finding[] Findings(params string[] names) =>
        [.. names.Select((n, i) => Build.Finding(name: n, id: $"f-{n}-{i}"))];

    private async Task<RunSummary> ExecuteAsync(RuleSet rules, Finding[] findings, EngineOptions? options = null, bool dryRun = false) =>
        (await ResponseRun.RunAsync(rules, findings, Run(options, dryRun), null, CancellationToken.None)).Summary;

    [Fact]
    public async Task Execute_WritesTheIntentBeforeTheConnectorActs()
    {
        var sawIntent = false;
        _ad.BeforeApply = _ =>
        {
            sawIntent = _store.Rows.Any(r => r.Entry.Status == AuditStatus.Intended && r.Entry.IdentityName!.StartsWith("user1@", StringComparison.Ordinal));
            return Task.CompletedTask;
        };

        var summary = await ExecuteAsync(Rules(), Findings("user1"));

        sawIntent.Should().BeTrue();
        summary.Results.Should().ContainSingle(r => r.Status == AuditStatus.Succeeded);
        _ad.IsDisabled("id-user1").Should().BeTrue();
        var rows = _store.Rows.Select(r => r.Entry.Status).ToList();
        rows.Should().Equal(AuditStatus.Intended, AuditStatus.Succeeded);
        _store.Rows[1].Entry.IntentSequence.Should().Be(1);
        _store.Rows[1].Entry.PriorState.Should().Be("""{"enabled":true}""");
        (await _store.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Execute_SecondRunDoesNothingNew()
    {
        var rules = Rules();
        var findings = Findings("user1", "user2");
        await ExecuteAsync(rules, findings);
        var applies = _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal));

        var second = await ExecuteAsync(rules, findings);

        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(applies);
        second.Results.Should().OnlyContain(r => r.Status == AuditStatus.Skipped && r.Decision.Guard == "dedupe");
    }

    [Fact]
    public async Task Execute_AlreadyInDesiredState_IsANoop()
    {
        // With the dedupe window off, only the directory's read stops the second rule (with it on, dedupe refuses first: DedupeWindowTests).
        var windowOff = new EngineOptions { Guards = new GuardOptions { Dedupe = new DedupeOptions { Window = TimeSpan.Zero } } };
        await ExecuteAsync(Rules(), Findings("user1"), windowOff);

        var other = RuleFiles.Load(RuleFiles.Rule(id: "other-rule")).RuleSet!;
        var summary = await ExecuteAsync(other, Findings("user1"), windowOff);

        summary.Results.Should().ContainSingle(r => r.Status == AuditStatus.Noop);
    }

    [Fact]
    public async Task Execute_RuleThatWouldDisableEveryDomainAdmin_LeavesTheMinimumEnabled()
    {
        var summary = await ExecuteAsync(Rules(when: "member_of('Domain Admins')"), Findings("da1", "da2", "da3", "da4", "bg"));

        summary.Results.Select(r => (r.Decision.Identity!.Name, r.Status, r.Decision.Guard)).Should().Equal(
            ("da1", AuditStatus.Succeeded, null),
            ("da2", AuditStatus.Succeeded, null),
            ("da3", AuditStatus.Skipped, "lockout_protection"),
            ("da4", AuditStatus.Skipped, "lockout_protection"),
            ("bg", AuditStatus.Skipped, "protected_identity"));
        (await _ad.CountCriticalAsync("Domain Admins", CancellationToken.None)).EnabledMemberIds.Should().BeEquivalentTo(["id-da3", "id-da4", "id-bg"],
            "the break-glass account is an enabled Domain Admin too, but it does not count toward the minimum");
        summary.Results[2].Decision.Reason.Should().Be(
            "'da3' holds Domain Admins directly; would leave 1 enabled holder, minimum 2 (break-glass accounts not counted: 1)");
        _store.Rows.Where(r => r.Entry.Guard == "lockout_protection").Should().HaveCount(2);
    }

    [Fact]
    public async Task Execute_LockoutCountsIntentsStillInFlightFromOtherRuns()
    {
        var rules = Rules(when: "member_of('Domain Admins')");
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        _ad.BeforeApply = async request =>
        {
            if (request.Target.Id != "id-da1") return;
            entered.TrySetResult();
            await blocker.Task;
        };

        var first = ResponseRun.RunAsync(rules, Findings("da1"), Run(), null, CancellationToken.None);
        await entered.Task;
        var second = await ExecuteAsync(rules, Findings("da2", "da3", "da4"));
        blocker.SetResult();
        await first;

        // Four Domain Admins and a break-glass one, which does not count: with da1 gone, only da2 may go.
        second.Results.Select(r => (r.Decision.Identity!.Name, r.Status)).Should().Equal(
            ("da2", AuditStatus.Succeeded), ("da3", AuditStatus.Skipped), ("da4", AuditStatus.Skipped));
        second.Results[1].Decision.Guard.Should().Be("lockout_protection", "da1's open intent in the other run counts as gone");
    }

    [Fact]
    public async Task Execute_RateLimitOfFivePerHour_ExecutesFiveAndHoldsAcrossRestarts()
    {
        var rules = Rules(extra: "limits: { max_per_hour: 5 }");
        var names = Enumerable.Range(1, 20).Select(i => $"user{i}").ToArray();

        var summary = await ExecuteAsync(rules, Findings(names));

        summary.Count(AuditStatus.Succeeded).Should().Be(5);
        summary.Results.Count(r => r.Decision.Guard == "rate_limited").Should().Be(15);

        _time.Advance(TimeSpan.FromMinutes(30));
        var restarted = await ExecuteAsync(rules, Findings(names));
        restarted.Count(AuditStatus.Succeeded).Should().Be(0, "the window is counted from the audit store, not from memory");

        _time.Advance(TimeSpan.FromMinutes(31));
        var later = await ExecuteAsync(rules, Findings(names));
        later.Count(AuditStatus.Succeeded).Should().Be(5, "the first five left the sliding window");
    }

    [Fact]
    public async Task Execute_BreakerOpensAtThresholdAndStaysOpenUntilRearmed()
    {
        var options = new EngineOptions { Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 3, Window = TimeSpan.FromHours(1) } } };
        var names = Enumerable.Range(1, 6).Select(i => $"user{i}").ToArray();

        var summary = await ExecuteAsync(Rules(), Findings(names), options);

        summary.Count(AuditStatus.Succeeded).Should().Be(3);
        summary.Count(AuditStatus.Held).Should().Be(3);
        _store.Rows.Should().ContainSingle(r => r.Entry.Status == AuditStatus.BreakerOpened);

        _time.Advance(TimeSpan.FromDays(2));
        var restarted = await ExecuteAsync(Rules(), Findings("user7"), options);
        restarted.Results.Should().ContainSingle(r => r.Status == AuditStatus.Held && r.Decision.Guard == "breaker");

        await _store.AppendAsync(Run().Entry(AuditStatus.BreakerRearmed) with { Reason = "reviewed" }, CancellationToken.None);
        var rearmed = await ExecuteAsync(Rules(), Findings("user7"), options);
        rearmed.Results.Should().ContainSingle(r => r.Status == AuditStatus.Succeeded);
    }

    [Fact]
    public async Task Execute_ReadOnlyAuditStore_StopsBeforeAnyAction()
    {
        _store.ReadOnly = true;

        var act = () => ExecuteAsync(Rules(), Findings("user1", "user2"));

        await act.Should().ThrowAsync<AuditWriteException>();
        _ad.Calls.Should().NotContain(c => c.StartsWith("apply", StringComparison.Ordinal));
        _ad.IsDisabled("id-user1").Should().BeFalse();
    }

    [Fact]
    public async Task Execute_AccountChangedBetweenReadAndApply_RecordedNoopWithTheStateFoundNotSucceededOrFailed()
    {
        // Another run disabled user1 after this run read it enabled: the connector, reading again as it acts, changes nothing.
        _ad.BeforeApply = request => request.Target.Id == "id-user1"
            ? throw new TargetChangedException(new TargetState(true, """{"enabled":false}""", "disabled"),
                "already disabled when the change was to be made (changed since it was read); nothing done")
            : Task.CompletedTask;

        var summary = await ExecuteAsync(Rules(), Findings("user1", "user2"));

        summary.Results.Select(r => r.Status).Should().Equal(AuditStatus.Noop, AuditStatus.Succeeded);
        summary.AnyFailed.Should().BeFalse();
        var noop = _store.Rows.Single(r => r.Entry.Status == AuditStatus.Noop).Entry;
        noop.PriorState.Should().Be("""{"enabled":false}""", "the state found when acting, not the enabled one read before: undo must not enable the account");
        noop.Reason.Should().Contain("changed since it was read");
        noop.Error.Should().BeNull();
    }

    [Fact]
    public async Task Execute_ConnectorFailure_IsRecordedAndTheRunGoesOn()
    {
        _ad.BeforeApply = request => request.Target.Id == "id-user1"
            ? throw new ConnectorException("insufficient access (50): the engine's account lacks 'Write userAccountControl'")
            : Task.CompletedTask;

        var summary = await ExecuteAsync(Rules(), Findings("user1", "user2"));

        summary.Results.Select(r => r.Status).Should().Equal(AuditStatus.Failed, AuditStatus.Succeeded);
        _store.Rows.Single(r => r.Entry.Status == AuditStatus.Failed).Entry.Error.Should().Contain("Write userAccountControl");
        summary.AnyFailed.Should().BeTrue();
    }

    [Fact]
    public async Task Execute_AnswerLostAfterTheChange_ReadBackConfirms_IsSucceeded()
    {
        _ad.AfterApply = _ => throw new ConnectorException("connection reset by peer", transient: true);

        var summary = await ExecuteAsync(Rules(), Findings("user1"));

        summary.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        _store.Rows.Single(r => r.Entry.Status == AuditStatus.Succeeded).Entry.Reason.Should().Contain("reading it back confirmed the change");
        _ad.IsDisabled("id-user1").Should().BeTrue();
    }

    [Fact]
    public async Task Execute_TransientFailureBeforeTheChange_ReadBackSaysNotInPlace_IsFailed()
    {
        _ad.BeforeApply = _ => throw new ConnectorException("connection reset by peer", transient: true);

        var summary = await ExecuteAsync(Rules(), Findings("user1"));

        summary.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Failed);
        _ad.IsDisabled("id-user1").Should().BeFalse();
    }

    [Fact]
    public async Task Execute_AnswerLostAndReadBackFails_IsOutcomeUnknownNeverFailed()
    {
        // The directory went away after taking the change: the trail must not say `failed` about a change in place.
        _ad.AfterApply = _ => throw new ConnectorException("connection reset by peer", transient: true);
        _ad.BeforeVerify = _ => throw new ConnectorException("cannot reach the domain controller", transient: true);

        var summary = await ExecuteAsync(Rules(), Findings("user1"));

        summary.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.TimedOut);
        var outcome = _store.Rows.Single(r => r.Entry.IntentSequence is not null).Entry;
        outcome.Error.Should().Contain("connection reset by peer").And.Contain("cannot reach the domain controller").And.Contain("the outcome is unknown");
        _ad.IsDisabled("id-user1").Should().BeTrue("the change did land");
        summary.AnyFailed.Should().BeTrue("an unknown outcome still makes the run exit 1");

        // The next run reads the live state first: the change is in place, so it is a no-op, never a second apply.
        _ad.AfterApply = null;
        _ad.BeforeVerify = null;
        _time.Advance(TimeSpan.FromDays(2));
        var applies = _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal));
        var again = await ExecuteAsync(Rules(), Findings("user1"));
        again.Results.Should().OnlyContain(r => r.Status != AuditStatus.Succeeded && r.Status != AuditStatus.Failed);
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(applies);
    }

    [Fact]
    public async Task Execute_DryRun_WritesDryRunRowsAndTouchesNothing()
    {
        var summary = await ExecuteAsync(Rules(extra: "limits: { max_per_hour: 2 }"), Findings("user1", "user2", "user3"), dryRun: true);

        summary.Results.Select(r => r.Status).Should().Equal(AuditStatus.DryRun, AuditStatus.DryRun, AuditStatus.Skipped);
        _ad.Calls.Should().NotContain(c => c.StartsWith("apply", StringComparison.Ordinal));
        _store.Rows.Should().OnlyContain(r => r.Entry.DryRun);
    }

    [Fact]
    public async Task Execute_ApprovalRequired_HoldsUntilApproved()
    {
        var rules = Rules(extra: "approval: required");
        var findings = Findings("user1");

        var held = await ExecuteAsync(rules, findings);
        held.Results.Should().ContainSingle(r => r.Status == AuditStatus.Held && r.Decision.Guard == "approval");

        var row = _store.Rows.Single(r => r.Entry.Status == AuditStatus.Held);
        await _store.AppendAsync(Run().Entry(AuditStatus.Approved) with { IdempotencyKey = row.Entry.IdempotencyKey, IntentSequence = row.Sequence }, CancellationToken.None);
        var approved = await ExecuteAsync(rules, findings);

        approved.Results.Should().ContainSingle(r => r.Status == AuditStatus.Succeeded);
    }

    [Fact]
    public async Task Execute_UnresolvedIdentity_IsAuditedAsSkippedAndNeverActed()
    {
        var summary = await ExecuteAsync(Rules(), Findings("mallory"));

        summary.Results.Should().ContainSingle(r => r.Status == AuditStatus.Skipped && r.Decision.Guard == "identity");
        _ad.Calls.Should().BeEmpty();
    }

    /// <summary>
    /// A stop (SIGTERM to `serve`, Ctrl+C to `run`) lets the directory call in flight finish within the grace and record
    /// its outcome, instead of cutting an HTTP or LDAP call whose effect is then unknown; nothing further starts.
    /// </summary>
    [Fact]
    public async Task Execute_StoppedWhileAnActionIsInFlight_ItFinishesAndRecordsItsOutcomeAndNothingElseStarts()
    {
        var inFlight = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        _ad.DuringApply = async (_, token) =>
        {
            inFlight.TrySetResult();
            await release.Task.WaitAsync(token);
        };
        using var stop = new CancellationTokenSource();
        var run = ResponseRun.RunAsync(Rules(), Findings("user1", "user2"), Run(), null, stop.Token);
        await inFlight.Task;
        await stop.CancelAsync();
        release.SetResult();
        await run.ContinueWith(_ => { }, TaskScheduler.Default);

        run.IsCanceled.Should().BeTrue("the run stops");
        (await _store.OpenIntentsAsync(CancellationToken.None)).Should().BeEmpty("the action in flight recorded its outcome and the one not started was closed");
        _store.Rows.Should().ContainSingle(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.IdentityName!.StartsWith("user1@", StringComparison.Ordinal));
        _store.Rows.Should().ContainSingle(r => r.Entry.Status == AuditStatus.Failed && r.Entry.Error!.Contains("not attempted", StringComparison.Ordinal));
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task Execute_StoppedAndTheCallOutlastsTheGrace_CallCancelledAndIntentLeftToTheReconciler()
    {
        var inFlight = new TaskCompletionSource();
        _ad.DuringApply = async (_, token) =>
        {
            inFlight.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
        };
        using var stop = new CancellationTokenSource();
        var run = ResponseRun.RunAsync(Rules(), Findings("user1"), Run(new EngineOptions { StopGrace = TimeSpan.FromSeconds(20) }), null, stop.Token);
        await inFlight.Task;
        await stop.CancelAsync();
        _time.Advance(TimeSpan.FromSeconds(21));
        await run.ContinueWith(_ => { }, TaskScheduler.Default);

        run.IsCanceled.Should().BeTrue();
        (await _store.OpenIntentsAsync(CancellationToken.None)).Should().ContainSingle("the outcome is unknown: the reconciler reads the live state later");
    }

    [Fact]
    public async Task Reconcile_InterruptedIntent_ReadsTheLiveStateInsteadOfRerunning()
    {
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        using var crash = new CancellationTokenSource();
        _ad.AfterApply = async _ =>
        {
            entered.TrySetResult();
            await blocker.Task;
            crash.Token.ThrowIfCancellationRequested();
        };
        var interrupted = ResponseRun.RunAsync(Rules(), Findings("user1", "user2"), Run(), null, crash.Token);
        await entered.Task;
        crash.Cancel();
        blocker.SetResult();
        await interrupted.ContinueWith(_ => { }, TaskScheduler.Default);
        (await _store.OpenIntentsAsync(CancellationToken.None)).Should().ContainSingle("the process died between intent and outcome");
        _ad.AfterApply = null;

        _time.Advance(TimeSpan.FromMinutes(5));
        var results = await new Reconciler(Run(), ActionCatalogue.Default).ReconcileAsync(TimeSpan.FromMinutes(2), CancellationToken.None);

        results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded, "the change had been applied before the crash");
        _ad.Calls.Count(c => c == "apply disable_user id-user1").Should().Be(1, "reconciled, not done twice");
        (await _store.OpenIntentsAsync(CancellationToken.None)).Should().BeEmpty();
    }

    [Fact]
    public async Task Reconcile_IntentThatNeverTookEffect_IsClosedAndDecidedAgainByTheNextRunUnderEveryGuard()
    {
        var rules = Rules(when: "member_of('Domain Admins')");
        _ad.BeforeApply = _ => throw new OperationCanceledException("the process died before the directory call");
        var crashed = () => ResponseRun.RunAsync(rules, Findings("da1"), Run(), null, CancellationToken.None);
        await crashed.Should().ThrowAsync<OperationCanceledException>();
        _ad.BeforeApply = null;
        _time.Advance(TimeSpan.FromMinutes(5));

        var results = await new Reconciler(Run(), ActionCatalogue.Default).ReconcileAsync(TimeSpan.FromMinutes(2), CancellationToken.None);

        results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Failed);
        _ad.IsDisabled("id-da1").Should().BeFalse("the reconciler itself never acts");
        (await _store.OpenIntentsAsync(CancellationToken.None)).Should().BeEmpty();

        // Meanwhile two other Domain Admins were disabled: the next run must re-check lockout, not replay the old intent.
        var minimumTwo = new EngineOptions { Guards = new GuardOptions { Lockout = new LockoutOptions { Minimum = 2 } } };
        (await ExecuteAsync(rules, Findings("da2", "da3"), minimumTwo)).Count(AuditStatus.Succeeded).Should().Be(2);
        var again = await ExecuteAsync(rules, Findings("da1"), minimumTwo);
        again.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("lockout_protection");
        _ad.IsDisabled("id-da1").Should().BeFalse();
    }

    [Fact]
    public async Task Reconcile_YoungIntent_IsLeftToTheProcessThatOwnsIt()
    {
        await _store.AppendAsync(Run().Entry(AuditStatus.Intended) with { Action = "disable_user", Provider = "ad", IdentityId = "id-user3" }, CancellationToken.None);

        var results = await new Reconciler(Run(), ActionCatalogue.Default).ReconcileAsync(TimeSpan.FromMinutes(2), CancellationToken.None);

        results.Should().BeEmpty();
    }

    [Fact]
    public async Task Execute_Cooldown_SkipsTheSameRuleOnTheSameAccountUntilItPasses()
    {
        var rules = RuleFiles.Load(RuleFiles.Rule(actions: "  - action: reset_password", extra: "limits: { cooldown: 24h }")).RuleSet!;

        (await ExecuteAsync(rules, [Build.Finding(name: "user1", id: "first")])).Count(AuditStatus.Succeeded).Should().Be(1);
        _time.Advance(TimeSpan.FromHours(23));
        var within = await ExecuteAsync(rules, [Build.Finding(name: "user1", id: "second")]);
        _time.Advance(TimeSpan.FromHours(2));
        var after = await ExecuteAsync(rules, [Build.Finding(name: "user1", id: "third")]);

        var skipped = within.Results.Should().ContainSingle().Subject.Decision;
        (skipped.Guard, skipped.Reason).Should().Be(("cooldown", "rule acted on this account within its 24h cooldown"));
        after.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
    }

    [Fact]
    public async Task Execute_ActionStillInFlightOnTheAccount_BlocksASecondOneFromAnotherRule()
    {
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        _ad.BeforeApply = async _ =>
        {
            entered.TrySetResult();
            await blocker.Task;
        };
        var first = ResponseRun.RunAsync(Rules(), Findings("user1"), Run(), null, CancellationToken.None);
        await entered.Task;
        _ad.BeforeApply = null;

        var other = RuleFiles.Load(RuleFiles.Rule(id: "other-rule")).RuleSet!;
        var second = await ExecuteAsync(other, Findings("user1"));
        blocker.SetResult();
        await first;

        second.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("pending_remediation");
        _ad.Calls.Count(c => c == "apply disable_user id-user1").Should().Be(1);
    }
}
