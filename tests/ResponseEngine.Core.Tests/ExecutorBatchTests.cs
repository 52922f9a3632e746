using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The executor's batched guard phase: one lock hold and one transaction for the refusals and intents of a batch, every
/// intent durable before any connector call, guards that count what was passed before them in the batch, and a run that
/// stops acting once an outcome row cannot be written.
/// </summary>
public sealed class ExecutorBatchTests
{
    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly CountingStore _store;
    private readonly FakeConnector _ad;

    public ExecutorBatchTests()
    {
        _store = new CountingStore(new InMemoryAuditStore(_time));
        var users = Enumerable.Range(1, 4).Select(i => Build.User($"da{i}", groups: ["Domain Admins"]))
            .Concat(Enumerable.Range(1, 20).Select(i => Build.User($"user{i}")));
        _ad = new FakeConnector(Provider.Ad, Build.Directory([.. users]));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RunContext Run(EngineOptions? options = null) =>
        new(Guid.NewGuid().ToString("N")[..8], options ?? new EngineOptions(), _store,
            new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, _time, false, "tests", "host", "0.0.0-test");

    private static Finding[] Findings(params string[] names) => [.. names.Select((n, i) => Build.Finding(name: n, id: $"f-{n}-{i}"))];

    private static string[] Users(int count) => [.. Enumerable.Range(1, count).Select(i => $"user{i}")];

    private async Task<RunSummary> ExecuteAsync(RuleSet rules, Finding[] findings, EngineOptions? options = null, int batch = Executor.DefaultGuardBatchSize)
    {
        var run = Run(options);
        var resolver = await ResponseRun.ResolveAsync(findings, run, Ct);
        var plan = new Planner(rules, resolver, run.Time).Plan(findings);
        using var executor = new Executor(run, guardBatchSize: batch);
        return await executor.ExecuteAsync(plan.Decisions, null, Ct);
    }

    [Fact]
    public async Task Execute_GuardPhaseOfABatch_IsOneTransactionAndEveryIntentIsDurableBeforeTheFirstAction()
    {
        var intentsAtFirstApply = -1;
        _ad.BeforeApply = _ =>
        {
            if (intentsAtFirstApply < 0) intentsAtFirstApply = _store.Inner.Rows.Count(r => r.Entry.Status == AuditStatus.Intended);
            return Task.CompletedTask;
        };

        var summary = await ExecuteAsync(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, Findings([.. Users(10), "nobody"]));

        summary.Count(AuditStatus.Succeeded).Should().Be(10);
        summary.Count(AuditStatus.Skipped).Should().Be(1, "the unknown account is refused");
        intentsAtFirstApply.Should().Be(10, "the batch's intents are committed before any connector call");
        _store.Batches.Should().ContainSingle("one transaction for the whole guard phase").Which.Should().Be(11);
        _store.Singles.Should().Be(10, "one outcome row per action");
        var rows = _store.Inner.Rows;
        rows.Take(11).Should().OnlyContain(r => r.Entry.Status == AuditStatus.Intended || r.Entry.Status == AuditStatus.Skipped);
        rows.Where(r => r.Entry.Status == AuditStatus.Succeeded).Should().OnlyContain(r => rows.Any(i => i.Sequence == r.Entry.IntentSequence && i.Entry.Status == AuditStatus.Intended));
        (await _store.VerifyAsync(Ct)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Execute_SmallBatches_GuardsCountEveryIntentBeforeThemStagedOrWritten()
    {
        var rules = RuleFiles.Load(RuleFiles.Rule(extra: "limits: { max_per_hour: 5 }")).RuleSet!;

        var summary = await ExecuteAsync(rules, Findings(Users(12)), batch: 4);

        summary.Count(AuditStatus.Succeeded).Should().Be(5, "four in the first batch, one more in the second, then the limit");
        summary.Results.Count(r => r.Decision.Guard == "rate_limited").Should().Be(7);
        _store.Batches.Should().Equal(4, 4, 4);
    }

    [Fact]
    public async Task Execute_TwoRulesOnOneAccountInTwoBatches_TheSecondIsPendingRemediationNotActedTwice()
    {
        var rules = RuleFiles.Load(("rules/test/first.yaml", RuleFiles.Rule(id: "first")), ("rules/test/second.yaml", RuleFiles.Rule(id: "second"))).RuleSet!;

        var summary = await ExecuteAsync(rules, Findings("user1"), batch: 1);

        summary.Count(AuditStatus.Succeeded).Should().Be(1, "whether the second decision is in the first one's batch must not change what the run does");
        summary.Results.Should().ContainSingle(r => r.Decision.Guard == "pending_remediation");
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task Execute_TwoRulesOnOneAccountInOneBatch_TheSecondIsPendingRemediationNotActedTwice()
    {
        var rules = RuleFiles.Load(("rules/test/first.yaml", RuleFiles.Rule(id: "first")), ("rules/test/second.yaml", RuleFiles.Rule(id: "second"))).RuleSet!;

        var summary = await ExecuteAsync(rules, Findings("user1"));

        summary.Count(AuditStatus.Succeeded).Should().Be(1);
        summary.Results.Should().ContainSingle(r => r.Decision.Guard == "pending_remediation")
            .Which.Detail.Should().Contain("is about to disable_user this account");
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task Execute_BreakerOpensMidBatch_TheTrailKeepsTheOrderOfDecisions()
    {
        var options = new EngineOptions { Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 3, Window = TimeSpan.FromHours(1) } } };

        var summary = await ExecuteAsync(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, Findings(Users(6)), options);

        summary.Count(AuditStatus.Succeeded).Should().Be(3);
        summary.Count(AuditStatus.Held).Should().Be(3);
        _store.Inner.Rows.Take(7).Select(r => r.Entry.Status).Should().Equal(
            AuditStatus.Intended, AuditStatus.Intended, AuditStatus.Intended, AuditStatus.BreakerOpened, AuditStatus.Held, AuditStatus.Held, AuditStatus.Held);
        _store.Batches.Should().Equal(4, 3);
    }

    [Fact]
    public async Task Execute_OutcomeRowRefused_NoFurtherActionStartsAndTheRunFails()
    {
        _store.RefuseOutcomes = true;

        var act = () => ExecuteAsync(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, Findings(Users(4)));

        await act.Should().ThrowAsync<AuditWriteException>();
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(1, "the lane stops as soon as an outcome cannot be written");
        (await _store.OpenIntentsAsync(Ct)).Should().HaveCount(4, "the applied one and the three never started are the reconciler's");
    }

    [Fact]
    public async Task Execute_CancelledDuringAnAction_ActionsNotStartedAreClosedAsNotAttempted()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        _ad.BeforeApply = _ =>
        {
            cancel.Cancel();
            return Task.CompletedTask;
        };
        var run = Run();
        var findings = Findings(Users(4));
        var plan = new Planner(RuleFiles.Load(RuleFiles.Rule()).RuleSet!, await ResponseRun.ResolveAsync(findings, run, Ct), run.Time).Plan(findings);
        using var executor = new Executor(run);

        var act = () => executor.ExecuteAsync(plan.Decisions, null, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        _ad.Calls.Count(c => c.StartsWith("apply", StringComparison.Ordinal)).Should().Be(1);
        var closed = _store.Inner.Rows.Where(r => r.Entry.Status == AuditStatus.Failed).ToList();
        closed.Should().HaveCount(3).And.OnlyContain(r => r.Entry.Error!.StartsWith("not attempted", StringComparison.Ordinal));
        var open = await _store.OpenIntentsAsync(Ct);
        open.Should().HaveCountLessThanOrEqualTo(1, "only the action the cancellation interrupted may be left to the reconciler");
        open.Where(r => !r.Entry.IdentityName!.StartsWith("user1@", StringComparison.Ordinal)).Should().BeEmpty();
    }

    /// <summary>Counts single appends and batch sizes; can refuse outcome rows as a failing disk would.</summary>
    private sealed class CountingStore(InMemoryAuditStore inner) : IAuditStore
    {
        public InMemoryAuditStore Inner { get; } = inner;

        public List<int> Batches { get; } = [];

        public int Singles { get; private set; }

        public bool RefuseOutcomes { get; set; }

        public Task InitializeAsync(CancellationToken cancellationToken) => Inner.InitializeAsync(cancellationToken);

        public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
        {
            if (RefuseOutcomes && entry.Status.IsOutcome()) throw new AuditWriteException("disk full (test)");
            lock (Batches) Singles++;
            return Inner.AppendAsync(entry, cancellationToken);
        }

        public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
        {
            if (RefuseOutcomes && entries.Any(e => e.Status.IsOutcome())) throw new AuditWriteException("disk full (test)");
            lock (Batches) Batches.Add(entries.Count);
            return Inner.AppendManyAsync(entries, cancellationToken);
        }

        public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => Inner.ReadAsync(query, cancellationToken);

        public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) => Inner.CountAsync(query, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) => Inner.OpenIntentsAsync(cancellationToken);

        public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => Inner.LockAsync(name, timeout, cancellationToken);

        public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => Inner.VerifyAsync(cancellationToken);

        public ValueTask DisposeAsync() => Inner.DisposeAsync();
    }
}
