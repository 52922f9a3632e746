using System.Collections.Concurrent;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// A connector may make its changes durable in groups (<see cref="IConnector.MakeDurableAsync"/>: the local directory
/// flushes its journal once for the changes of a batch). The trail must still never say a change succeeded before the
/// change is durable, and a change that could not be made durable is recorded as of unknown outcome, never as done.
/// </summary>
public sealed class ExecutorDurabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Execute_GeneratedRunsAndConcurrency_NoSucceededRowBeforeItsChangeIsDurable()
    {
        var gen = Gen.Select(Gen.Int[1, 24], Gen.Int[1, 4], Gen.Bool);
        await gen.SampleAsync(async (users, concurrency, yieldInFlush) =>
        {
            var (store, ad, run) = Setup(users, concurrency);
            var early = new ConcurrentBag<string>();
            store.BeforeAppend = entry =>
            {
                if (entry.Status == AuditStatus.Succeeded && ad.NotDurable.ContainsKey(entry.IdentityId!)) early.Add(entry.IdentityId!);
            };
            if (yieldInFlush) ad.BeforeDurable = async () => await Task.Yield();

            var (_, summary) = await ResponseRun.RunAsync(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, Findings(users), run, null, Ct);

            early.Should().BeEmpty($"a succeeded row waits for the flush of its change ({users} users, concurrency {concurrency})");
            summary.Results.Should().HaveCount(users).And.OnlyContain(r => r.Status == AuditStatus.Succeeded);
            ad.NotDurable.Should().BeEmpty();
        }, iter: 40, threads: 1);
    }

    [Fact]
    public async Task Execute_FlushFails_OutcomeIsUnknownNeverSucceededAndNoIntentIsLeftOpen()
    {
        var (store, ad, run) = Setup(users: 5, concurrency: 1);
        ad.BeforeDurable = () => throw new ConnectorException("cannot flush the journal to disk: Input/output error", transient: true);

        var (_, summary) = await ResponseRun.RunAsync(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, Findings(5), run, null, Ct);

        summary.Results.Should().HaveCount(5).And.OnlyContain(r => r.Status == AuditStatus.TimedOut);
        store.Rows.Where(r => r.Entry.Status == AuditStatus.TimedOut).Should().HaveCount(5)
            .And.OnlyContain(r => r.Entry.Error!.Contains("could not make it durable", StringComparison.Ordinal)
                                  && r.Entry.Error.Contains("Input/output error", StringComparison.Ordinal));
        (await store.OpenIntentsAsync(Ct)).Should().BeEmpty();
    }

    private static (InMemoryAuditStore Store, FakeConnector Ad, RunContext Run) Setup(int users, int concurrency)
    {
        var time = new FakeTimeProvider(Build.Now);
        var store = new InMemoryAuditStore(time);
        var ad = new FakeConnector(Provider.Ad, Build.Directory([.. Enumerable.Range(1, users).Select(i => Build.User($"user{i}"))]));
        var options = new EngineOptions
        {
            ConcurrencyPerProvider = concurrency,
            Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 10_000 }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
        };
        var run = new RunContext(Guid.NewGuid().ToString("N")[..8], options, store, new Dictionary<Provider, IConnector> { [Provider.Ad] = ad },
            time, false, "tests", "host", "0.0.0-test");
        return (store, ad, run);
    }

    private static Finding[] Findings(int users) =>
        [.. Enumerable.Range(1, users).Select(i => Build.Finding(name: $"user{i}", id: $"f-user{i}"))];
}
