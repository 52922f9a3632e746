using System.Text;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Okta;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Reliability.Tests.Crash;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>
/// The whole engine (resolve, plan, guards, intent, connector, outcome) on ~210 Okta actions while the wire times out,
/// answers 500/503/429 and resets connections — before the org sees a call or after it acted — on fake time. Then, faults
/// off, the breaker re-armed and two hours later, a clean run. Every decision ends in a recorded final status; no call is
/// retried past its budget, and a call that may have acted is never repeated blind; the breaker and the per-rule limit
/// hold; the audit says succeeded exactly when the org changed; every planned action ends done exactly once.
/// </summary>
public sealed class OktaFaultTests
{
    private const int MaxRetries = 3;
    private const int BreakerThreshold = 120;
    private const int WeakPerHour = 45;
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= Reliability.Inputs(8); seed++) data.Add(seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Run_UnderInjectedWireFaults_EveryDecisionFinalWithinBudgetAndLimits(int seed)
    {
        var cancel = TestContext.Current.CancellationToken;
        var clock = new DrivenClock(Start);
        var scenario = CrashScenario.For(seed);
        var org = scenario.Org(new Uri("https://faulty.okta.example/"), clock);
        using var scratch = Reliability.ScratchDirectory();
        await using var store = new SqliteAuditStore(Path.Combine(scratch.Path, "respond.db"), clock);
        await store.InitializeAsync(cancel);
        var wire = new OktaFaultInjector(seed, 0.08, org, store, clock);
        using var http = new HttpClient(wire) { Timeout = Timeout.InfiniteTimeSpan };
        using var okta = OktaConnector.Create(
            new OktaOptions { BaseUrl = org.BaseUrl, ApiToken = CrashScenario.OrgToken, RequestTimeout = null, MaxRetries = MaxRetries },
            PrivilegedPolicy.Default, clock, http);
        var options = new EngineOptions
        {
            Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = BreakerThreshold }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
        };
        var rules = RuleLoader.Default(clock).Load([.. CrashScenario.Rules(weakLimit: WeakPerHour).Select(r => (r.File, Encoding.UTF8.GetBytes(r.Yaml)))], null);
        rules.RuleSet.Should().NotBeNull(string.Join("\n", rules.Diagnostics));
        var findings = FindingReader.ReadText(scenario.FindingsText(), "findings.ndjson");
        var connectors = new Dictionary<Provider, IConnector> { [Provider.Okta] = okta };
        var because = $"seed {seed}";

        var faulty = new RunContext("faulty", options, store, connectors, clock, false, "reliability", "test", "test");
        var (_, first) = await clock.RunAsync(() => ResponseRun.RunAsync(rules.RuleSet!, findings.Findings, faulty, null, cancel), TimeSpan.FromDays(1));
        var injected = wire.Injected;
        injected.Values.Sum().Should().BePositive(because);

        // Every decision ends in a recorded final status, and every intent has exactly one outcome.
        first.Results.Should().OnlyContain(r => r.Status != AuditStatus.Intended, because);
        (await store.OpenIntentsAsync(cancel)).Should().BeEmpty(because);
        var rows = await store.ReadAsync(new AuditQuery(), cancel);
        var intents = rows.Where(r => r.Entry.Status == AuditStatus.Intended).ToList();
        var outcomes = rows.Where(r => r.Entry.IntentSequence is not null).GroupBy(r => r.Entry.IntentSequence!.Value).ToDictionary(g => g.Key, g => g.ToList());
        intents.Should().OnlyContain(i => outcomes.ContainsKey(i.Sequence) && outcomes[i.Sequence].Count == 1, because);

        // Limits hold under faults: intents are what the guards count, and effects can only follow intents.
        intents.Count(i => i.Entry.Destructive).Should().BeLessThanOrEqualTo(BreakerThreshold, because);
        rows.Should().Contain(r => r.Entry.Status == AuditStatus.BreakerOpened, "210 destructive actions pass a threshold of 120; " + because);
        intents.Count(i => i.Entry.RuleId == "weak").Should().BeLessThanOrEqualTo(WeakPerHour, because);
        wire.Effects.Count.Should().BeLessThanOrEqualTo(BreakerThreshold, because);

        AssertRetryBudget(wire.Calls, because);

        // The trail tells the truth: an outcome says succeeded (or noop) exactly when the org changed or was already changed.
        foreach (var intent in intents)
        {
            var outcome = outcomes[intent.Sequence][0].Entry;
            var changed = wire.Effects.Any(e => e.Action == intent.Entry.Action && e.UserId == intent.Entry.IdentityId);
            if (outcome.Status == AuditStatus.Succeeded) changed.Should().BeTrue($"#{intent.Sequence} {intent.Entry.Action} {intent.Entry.IdentityId} says succeeded; {because}");
            // timed_out says "no answer; the outcome is unknown" and is true of a change that landed (the read-back can
            // time out as well when the fake clock runs past it under load); failed claims nothing changed, so it must not.
            if (outcome.Status == AuditStatus.Failed && changed)
            {
                // Allowed only when a later intent on the same action and user recorded it (a repeated finding): else the trail lies.
                var recordedLater = intents.Any(i => i.Sequence > intent.Sequence && i.Entry.Action == intent.Entry.Action && i.Entry.IdentityId == intent.Entry.IdentityId
                    && outcomes[i.Sequence][0].Entry.Status is AuditStatus.Succeeded or AuditStatus.Noop);
                recordedLater.Should().BeTrue(
                    $"#{intent.Sequence} {intent.Entry.Action} on {intent.Entry.IdentityId} is recorded {outcome.Status.Name()} ({outcome.Error}) but the org changed; {because}");
            }
        }

        // Faults off, breaker re-armed by a person, two hours on: the clean run finishes the work, each action once.
        wire.Quiet = true;
        clock.Advance(TimeSpan.FromHours(2));
        await store.AppendAsync(faulty.Entry(AuditStatus.BreakerRearmed) with { Guard = "breaker", Reason = "reviewed after the fault test", Actor = "reviewer" }, cancel);
        var clean = new RunContext("clean", options with { Guards = options.Guards with { Breaker = new BreakerOptions { Threshold = 1000 } } },
            store, connectors, clock, false, "reliability", "test", "test");
        var reconciled = await new Reconciler(clean, ResponseEngine.Actions.ActionCatalogue.Default).ReconcileAsync(TimeSpan.Zero, cancel);
        reconciled.Should().BeEmpty("the faulty run left no open intent; " + because);
        await clock.RunAsync(() => ResponseRun.RunAsync(rules.RuleSet!, findings.Findings, clean, null, cancel), TimeSpan.FromDays(1));

        wire.Effects.GroupBy(e => (e.Action, e.UserId)).Where(g => g.Count() > 1).Should().BeEmpty("each action takes effect at most once; " + because);
        wire.Effects.Should().OnlyContain(e => e.IntentWasOpen, "every effect follows its durable intent; " + because);
        wire.Effects.Select(e => new ExpectedAction(e.Action, e.UserId, e.Action == "revoke_group" ? CrashScenario.GroupId : null))
            .Should().BeEquivalentTo(scenario.Expected, "after the clean run every planned action is done once; " + because);
        (await store.OpenIntentsAsync(cancel)).Should().BeEmpty(because);
        (await store.VerifyAsync(cancel)).Intact.Should().BeTrue(because);

        Reliability.Record("okta-faults", $"seed={seed} calls={wire.Calls.Count} faults={injected.Values.Sum()} "
            + string.Join(' ', injected.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))
            + $" first-run: {string.Join(' ', first.Results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()}={g.Count()}"))}"
            + $" effects={wire.Effects.Count} idempotent-repeats={wire.Repeats} duplicated=0 lost=0");
    }

    /// <summary>
    /// A retry is the same call again right after a retryable failure. No chain is longer than the budget allows, and a
    /// POST (not idempotent) is sent again only after a 429, which Okta answers without acting.
    /// </summary>
    private static void AssertRetryBudget(List<WireCall> calls, string because)
    {
        var chain = 1;
        for (var i = 1; i < calls.Count; i++)
        {
            var previous = calls[i - 1];
            var current = calls[i];
            var retryable = previous.Fault != WireFault.None || previous.Status is 429 or >= 500;
            if (current.Method == previous.Method && current.PathAndQuery == previous.PathAndQuery && retryable)
            {
                chain++;
                chain.Should().BeLessThanOrEqualTo(MaxRetries + 1, $"call #{current.Index} {current.Method} {current.PathAndQuery} is retried past the budget of {MaxRetries}; {because}");
                if (current.Method == "POST")
                {
                    previous.Status.Should().Be(429, $"call #{current.Index} repeats a POST after {previous.Fault}/{previous.Status}, which may have acted; {because}");
                }
            }
            else
            {
                chain = 1;
            }
        }
    }
}
