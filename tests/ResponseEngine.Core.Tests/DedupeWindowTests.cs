using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The dedupe window: the same action with the same parameters on the same account, done within <c>guards.dedupe.window</c>,
/// is refused whatever the source, finding id or rule — before an intent is written or the directory is called. A
/// password reset is the case that hurts: the directory cannot say it is "already done", so a repeat would reset again.
/// </summary>
public sealed class DedupeWindowTests
{
    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly InMemoryAuditStore _store;
    private readonly FakeConnector _ad;

    public DedupeWindowTests()
    {
        _store = new InMemoryAuditStore(_time);
        _ad = new FakeConnector(Provider.Ad, Build.Directory([.. Enumerable.Range(1, 3).Select(i => Build.User($"user{i}"))]));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RuleSet Rule(string id) => RuleFiles.Load(RuleFiles.Rule(id: id, actions: "  - action: reset_password")).RuleSet!;

    private static Finding From(string source, string id, string name = "user1") => Build.Finding(name: name, id: id) with { Source = source };

    private async Task<RunSummary> ExecuteAsync(RuleSet rules, EngineOptions? options, bool dryRun, params Finding[] findings) =>
        (await ResponseRun.RunAsync(rules, findings, new RunContext(Guid.NewGuid().ToString("N")[..8], options ?? new EngineOptions(), _store,
            new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, _time, dryRun, "tests", "host", "0.0.0-test"), null, Ct)).Summary;

    private int Resets(string id) => _ad.Calls.Count(c => c == $"apply reset_password {id}");

    [Fact]
    public async Task Dedupe_RepeatFindingFromAnotherSourceAndRuleInALaterRun_RefusedWithoutIntentOrCall()
    {
        (await ExecuteAsync(Rule("itdr-weak"), null, false, From("itdr", "a-1"))).Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        _time.Advance(TimeSpan.FromHours(3));

        var repeat = await ExecuteAsync(Rule("siem-weak"), null, false, From("siem", "b-77"));

        var refused = repeat.Results.Should().ContainSingle().Subject;
        refused.Status.Should().Be(AuditStatus.Skipped);
        refused.Decision.Guard.Should().Be("dedupe");
        refused.Decision.Reason.Should().Contain("24h dedupe window").And.Contain("rule itdr-weak").And.Contain("finding itdr/a-1");
        Resets("id-user1").Should().Be(1, "one reset, whatever the number of tools that report the weak password");
        _store.Rows.Count(r => r.Entry.Status == AuditStatus.Intended).Should().Be(1, "the repeat writes no second intent");
    }

    [Fact]
    public async Task Dedupe_RepeatPastTheConfiguredWindow_ActsAgain()
    {
        var options = new EngineOptions { Guards = new GuardOptions { Dedupe = new DedupeOptions { Window = TimeSpan.FromHours(1) } } };
        await ExecuteAsync(Rule("itdr-weak"), options, false, From("itdr", "a-1"));
        _time.Advance(TimeSpan.FromMinutes(59));
        var within = await ExecuteAsync(Rule("siem-weak"), options, false, From("siem", "b-1"));
        _time.Advance(TimeSpan.FromMinutes(2));
        var after = await ExecuteAsync(Rule("siem-weak"), options, false, From("siem", "b-2"));

        within.Results.Should().ContainSingle().Which.Decision.Reason.Should().Contain("1h dedupe window");
        after.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        Resets("id-user1").Should().Be(2);
    }

    [Fact]
    public async Task Dedupe_WindowOff_LeavesOnlyTheSameDecisionCheck()
    {
        var options = new EngineOptions { Guards = new GuardOptions { Dedupe = new DedupeOptions { Window = TimeSpan.Zero } } };
        await ExecuteAsync(Rule("itdr-weak"), options, false, From("itdr", "a-1"));

        (await ExecuteAsync(Rule("siem-weak"), options, false, From("siem", "b-1"))).Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        Resets("id-user1").Should().Be(2);
    }

    [Fact]
    public async Task Dedupe_FailedAttemptFromAnotherSource_DoesNotBlockTheRepeat()
    {
        _ad.BeforeApply = _ => throw new ConnectorException("the directory refused", transient: false);
        (await ExecuteAsync(Rule("itdr-weak"), null, false, From("itdr", "a-1"))).Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Failed);
        _ad.BeforeApply = null;

        var repeat = await ExecuteAsync(Rule("siem-weak"), null, false, From("siem", "b-1"));

        repeat.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded, "the failed attempt took no effect");
    }

    [Fact]
    public async Task Dedupe_OtherAccountOrOtherAction_NotRefused()
    {
        await ExecuteAsync(Rule("itdr-weak"), null, false, From("itdr", "a-1"));

        var other = await ExecuteAsync(Rule("siem-weak"), null, false, From("siem", "b-1", "user2"));
        var disable = await ExecuteAsync(RuleFiles.Load(RuleFiles.Rule(id: "siem-ato")).RuleSet!, null, false, From("siem", "b-2"));

        other.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
        disable.Results.Should().ContainSingle().Which.Status.Should().Be(AuditStatus.Succeeded);
    }

    [Fact]
    public async Task Dedupe_TwoSourcesInOneDryRun_SecondRefused()
    {
        var dry = await ExecuteAsync(Rule("weak"), null, true, From("itdr", "a-1"), From("siem", "b-1"));

        dry.Count(AuditStatus.DryRun).Should().Be(1);
        // Within one run the first is still in flight when the second meets the guards: pending_remediation refuses it
        // before the window is consulted; across runs (the test above) the dedupe window does.
        dry.Results.Should().ContainSingle(r => r.Status == AuditStatus.Skipped).Which.Decision.Guard.Should().BeOneOf("dedupe", "pending_remediation");
        Resets("id-user1").Should().Be(0);
    }
}
