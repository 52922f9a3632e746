using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Rules;
using ResponseEngine.Service.Processing;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// The serve reconciler (<see cref="ReconcileJob"/>) on a real SQLite store that is both trail and inbox: an instance dies
/// between an intent and its outcome, another instance takes the finding over and skips it (the intent is still open),
/// then the reconciler closes the intent from the live state. Not in place → failed, and the finding is back in the inbox,
/// where it is decided again under every guard as they stand then; in place → succeeded, and the finding stays done.
/// </summary>
public sealed class ReconcileJobTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly TempDirectory _dir = new();
    private readonly FakeConnector _ad;
    private RuleSet _rules = RuleFiles.Load(RuleFiles.Rule(when: "member_of('Domain Admins')")).RuleSet!;
    private SqliteAuditStore _store = null!;
    private EngineOptions _options = new() { ReconcileAfter = TimeSpan.FromMinutes(2) };

    public ReconcileJobTests() =>
        _ad = new FakeConnector(Provider.Ad, Build.Directory([.. Enumerable.Range(1, 4).Select(i => Build.User($"da{i}", groups: ["Domain Admins"]))]));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteAuditStore(Path.Combine(_dir.Path, "respond.db"), _time);
        await _store.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    /// <summary>As `respond serve` makes it: the options as they are when the run starts, the store as trail and inbox.</summary>
    private ServeSetup Setup() => new(_options, _store, _store, new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, NewRun, _time, "0.0.0-test");

    private RunContext NewRun() =>
        new(Guid.NewGuid().ToString("N")[..8], _options, _store, new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, _time, false, "tests", "host", "0.0.0-test");

    private InboxProcessor Instance(string name) => new(_store, name, new InboxProcessorOptions { BatchSize = 10, Lease = Lease });

    private static InboxEntry Entry(string id, string name) => new("itdr", id,
        $$$"""{"id":"{{{id}}}","source":"itdr","kind":"detection","type":"weak_password","severity":"high","observed_at":"2026-11-26T07:00:00Z","subject":{"provider":"ad","name":"{{{name}}}"}}""",
        "webhook");

    /// <summary>Calls to apply, including one that died before it took effect.</summary>
    private int Applied(string id) => _ad.Calls.Count(c => c == $"apply disable_user {id}");

    /// <summary>Node A dies inside the action; its lease runs out; node B takes the finding and skips it, the intent being open.</summary>
    private async Task CrashThenTakeOverAsync()
    {
        (await _store.AddAsync([Entry("f-da1", "da1")], Ct)).Should().Equal(true);
        var crashed = () => Instance("node-a").ProcessOnceAsync(_rules, NewRun, Ct);
        await crashed.Should().ThrowAsync<OperationCanceledException>("the process dies inside the action");
        _ad.BeforeApply = null;
        _ad.AfterApply = null;
        (await _store.OpenIntentsAsync(Ct)).Should().ContainSingle("an intent without an outcome is left behind");

        _time.Advance(TimeSpan.FromMinutes(5));
        var takeover = await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct);
        takeover.Leased.Should().Be(1, "node A's lease ran out");
        takeover.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("pending_remediation", "the open intent blocks a second action on the account");
        (await _store.CountAsync(Ct)).Should().Be(new InboxCounts(0, 0, 1), "node B completed the item: nothing is left for it in the inbox");
    }

    [Fact]
    public async Task Reconcile_IntentNotInPlace_ClosedFailedAndTheFindingIsDecidedAgainUnderTheGuardsOfNow()
    {
        _ad.BeforeApply = _ => throw new OperationCanceledException("the process died before the directory call");
        await CrashThenTakeOverAsync();

        var reconciled = await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct);

        reconciled.Should().Be(1);
        var trail = await _store.ReadAsync(new AuditQuery(), Ct);
        var intent = trail.Single(r => r.Entry.Status == AuditStatus.Intended);
        trail.Should().ContainSingle(r => r.Entry.IntentSequence == intent.Sequence).Which.Entry.Should().Match<AuditEntry>(e => e.Status == AuditStatus.Failed && e.Guard == "reconciler");
        (await _store.CountAsync(Ct)).Should().Be(new InboxCounts(1, 0, 0), "the finding is pending again");
        Applied("id-da1").Should().Be(1, "the reconciler never acts: the one call is node A's, which died before it took effect");
        _ad.IsDisabled("id-da1").Should().BeFalse();

        // Meanwhile the lockout minimum was raised to four Domain Admins: the requeued finding meets the guards of now,
        // not the decision of the intent it once had.
        _options = _options with { Guards = new GuardOptions { Lockout = new LockoutOptions { Minimum = 4 } } };
        var again = await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct);

        again.Leased.Should().Be(1);
        var decision = again.Results.Should().ContainSingle().Subject;
        decision.Decision.Finding.Id.Should().Be("f-da1");
        decision.Decision.Guard.Should().Be("lockout_protection");
        Applied("id-da1").Should().Be(1, "refused: no call");
        _ad.IsDisabled("id-da1").Should().BeFalse();
        (await _store.CountAsync(Ct)).Should().Be(new InboxCounts(0, 0, 1));
        (await _store.OpenIntentsAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task Reconcile_IntentNotInPlace_RequeuedFindingIsExecutedOnceWhenTheGuardsAllow()
    {
        _ad.BeforeApply = _ => throw new OperationCanceledException("the process died before the directory call");
        await CrashThenTakeOverAsync();

        await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct);
        var again = await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct);

        again.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        Applied("id-da1").Should().Be(2, "node A's call that died before it took effect, and the new decision's");
        _ad.IsDisabled("id-da1").Should().BeTrue();
        var trail = await _store.ReadAsync(new AuditQuery(), Ct);
        trail.Count(r => r.Entry.Status == AuditStatus.Intended).Should().Be(2, "the new decision wrote its own intent first");
        trail.Count(r => r.Entry.Status == AuditStatus.Succeeded).Should().Be(1);
        (await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct)).Should().Be(0, "nothing is left open");
    }

    [Fact]
    public async Task Reconcile_IntentNotInPlaceUnderARuleWithACooldown_RequeuedFindingRunsOnce()
    {
        // Every shipped rule has a cooldown: the failed attempt must not count as the rule having acted.
        _rules = RuleFiles.Load(RuleFiles.Rule(when: "member_of('Domain Admins')", extra: "limits: { cooldown: 24h }")).RuleSet!;
        _ad.BeforeApply = _ => throw new OperationCanceledException("the process died before the directory call");
        await CrashThenTakeOverAsync();

        await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct);
        var again = await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct);
        var once = await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct);

        again.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded, "the retry is within the cooldown, but the attempt it retries took no effect");
        once.Leased.Should().Be(0, "the finding is done");
        Applied("id-da1").Should().Be(2, "node A's call that died before it took effect, and the retry's");
        _ad.IsDisabled("id-da1").Should().BeTrue();
        (await _store.OpenIntentsAsync(Ct)).Should().BeEmpty();
        (await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct)).Should().Be(0, "nothing is left open");
    }

    [Fact]
    public async Task Reconcile_IntentInPlace_ClosedSucceededAndTheFindingIsNotRequeued()
    {
        _ad.AfterApply = _ => throw new OperationCanceledException("the process died after the directory call, before the outcome");
        await CrashThenTakeOverAsync();
        Applied("id-da1").Should().Be(1);

        var reconciled = await ReconcileJob.ReconcileAsync(Setup(), NullLogger.Instance, Ct);

        reconciled.Should().Be(1);
        var trail = await _store.ReadAsync(new AuditQuery(), Ct);
        var intent = trail.Single(r => r.Entry.Status == AuditStatus.Intended);
        trail.Should().ContainSingle(r => r.Entry.IntentSequence == intent.Sequence).Which.Entry.Should().Match<AuditEntry>(e => e.Status == AuditStatus.Succeeded && e.Guard == "reconciler");
        (await _store.CountAsync(Ct)).Should().Be(new InboxCounts(0, 0, 1), "an action in place is done: its finding stays completed");
        (await Instance("node-b").ProcessOnceAsync(_rules, NewRun, Ct)).Leased.Should().Be(0);
        Applied("id-da1").Should().Be(1, "applied once in all");
    }
}
