using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// An action interrupted (crash, lost answer) is decided again and runs once, under every guard: the rule's cooldown and
/// dedupe count only attempts that took effect (succeeded, noop) or may still (open), never a failed or timed-out one.
/// </summary>
public sealed class RetryAfterInterruptionTests
{
    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly InMemoryAuditStore _store;
    private readonly FakeConnector _ad;
    private readonly RuleSet _rules = RuleFiles.Load(RuleFiles.Rule(extra: "limits: { cooldown: 24h }")).RuleSet!;

    public RetryAfterInterruptionTests()
    {
        _store = new InMemoryAuditStore(_time);
        _ad = new FakeConnector(Provider.Ad, Build.Directory([.. Enumerable.Range(1, 4).Select(i => Build.User($"user{i}"))]));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RunContext Run(EngineOptions? options = null) =>
        new(Guid.NewGuid().ToString("N")[..8], options ?? new EngineOptions(), _store,
            new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, _time, false, "tests", "host", "0.0.0-test");

    private async Task<RunSummary> ExecuteAsync(params Finding[] findings) =>
        (await ResponseRun.RunAsync(_rules, findings, Run(), null, Ct)).Summary;

    private int Applied(string id) => _ad.Calls.Count(c => c == $"apply disable_user {id}");

    [Fact]
    public async Task Retry_CrashBeforeTheCallWithCooldown_ReconciledFailedThenTheNextRunActsOnce()
    {
        var finding = Build.Finding(name: "user1", id: "f-1");
        _ad.BeforeApply = _ => throw new OperationCanceledException("the process died before the directory call");
        var crashed = () => ExecuteAsync(finding);
        await crashed.Should().ThrowAsync<OperationCanceledException>();
        _ad.BeforeApply = null;
        _time.Advance(TimeSpan.FromMinutes(10));
        (await new Reconciler(Run(), ActionCatalogue.Default).ReconcileAsync(TimeSpan.FromMinutes(5), Ct))
            .Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Failed);

        var retry = await ExecuteAsync(finding);
        var again = await ExecuteAsync(finding);

        retry.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded, "the failed attempt is inside the 24h cooldown, but it took no effect");
        _ad.IsDisabled("id-user1").Should().BeTrue();
        again.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("dedupe", "done now: the same decision is not repeated");
        Applied("id-user1").Should().Be(2, "the call that died before it took effect, and the retry's");
        (await _store.OpenIntentsAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task Retry_TimedOutAttemptThatLanded_ReadsTheLiveStateAndEndsNoop()
    {
        var finding = Build.Finding(name: "user2", id: "f-2");
        _ad.AfterApply = _ => throw new ConnectorException("connection reset", transient: true);
        _ad.BeforeVerify = _ => throw new ConnectorException("connection reset", transient: true);
        var first = await ExecuteAsync(finding);
        first.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.TimedOut, "neither the answer nor a read-back came: the outcome is unknown");
        _ad.AfterApply = null;
        _ad.BeforeVerify = null;
        _time.Advance(TimeSpan.FromMinutes(10));

        var retry = await ExecuteAsync(finding);

        retry.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Noop, "the retry reads the live state first: the change had landed");
        Applied("id-user2").Should().Be(1, "one call in all");
    }

    [Fact]
    public async Task Cooldown_AttemptThatTookEffect_StillBlocksTheRuleOnTheAccount()
    {
        (await ExecuteAsync(Build.Finding(name: "user3", id: "f-3"))).Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        _time.Advance(TimeSpan.FromHours(1));

        var later = await ExecuteAsync(Build.Finding(name: "user3", id: "f-4"));

        later.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("cooldown");
        Applied("id-user3").Should().Be(1);
    }

    [Fact]
    public async Task Cooldown_OpenIntentOfAnotherRun_StillBlocks()
    {
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        _ad.BeforeApply = async _ =>
        {
            entered.TrySetResult();
            await blocker.Task;
        };
        var first = ExecuteAsync(Build.Finding(name: "user4", id: "f-5"));
        await entered.Task;
        _ad.BeforeApply = null;

        var second = await ExecuteAsync(Build.Finding(name: "user4", id: "f-6"));
        blocker.SetResult();
        await first;

        second.Results.Should().ContainSingle().Which.Decision.Guard.Should().BeOneOf("pending_remediation", "cooldown");
        Applied("id-user4").Should().Be(1);
    }
}
