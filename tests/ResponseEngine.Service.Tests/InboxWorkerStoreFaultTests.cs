using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Processing;
using ResponseEngine.Service.Rules;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// The inbox worker when the audit store's reads fail the way a provider fails (SQLite's file gone: a SqliteException, not
/// an AuditWriteException): execution stops (fail closed), /readyz's health says why, and the service keeps running and
/// resumes when the store answers. Before, such an exception left the worker and stopped the host: `respond serve` exited.
/// </summary>
public sealed class InboxWorkerStoreFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly FakeConnector _ad = new(Provider.Ad, Build.Directory([Build.User("da1", groups: ["Domain Admins"]), Build.User("da2", groups: ["Domain Admins"]), Build.User("da3", groups: ["Domain Admins"])]));
    private SqliteAuditStore _inner = null!;
    private ReadFailingStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _inner = new SqliteAuditStore(Path.Combine(_dir.Path, "respond.db"), TimeProvider.System);
        await _inner.InitializeAsync(Ct);
        _store = new ReadFailingStore(_inner);
    }

    public async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public async Task Worker_StoreReadsFailWithAProviderException_StopsExecutionKeepsRunningAndResumes()
    {
        _dir.Write("rules/ad/da-weak.yaml", RuleFiles.Rule(id: "da-weak", when: "member_of('Domain Admins')"));
        var options = new EngineOptions { Serve = new ServeOptions { PollInterval = TimeSpan.FromMilliseconds(100) } };
        RunContext NewRun() => new(Guid.NewGuid().ToString("N")[..8], options, _store, new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, TimeProvider.System, false, "tests", "host", "0.0.0-test");
        var setup = new ServeSetup(options, _store, _store, new Dictionary<Provider, IConnector> { [Provider.Ad] = _ad }, NewRun, TimeProvider.System, "0.0.0-test");
        using var metrics = new ServiceMetrics();
        var rules = new RuleSetHolder(Path.Combine(_dir.Path, "rules"), TimeProvider.System, NullLogger<RuleSetHolder>.Instance, metrics);
        rules.Reload(force: true).Should().BeTrue(string.Join("; ", rules.State.LastFailure?.Problems ?? []));
        using var signal = new InboxSignal();
        var health = new StoreHealth();
        (await _store.AddAsync([Entry("f-1", "da1")], Ct)).Should().Equal(true);

        _store.ReadsFail = true;
        using var worker = new InboxWorker(setup, rules, signal, health, metrics, NullLogger<InboxWorker>.Instance);
        await worker.StartAsync(Ct);
        try
        {
            await ServeWorkspace.Eventually(() => Task.FromResult(!health.State.Reachable || worker.ExecuteTask!.IsCompleted), Deadline, "the worker notices the store is away", () => "");
            worker.ExecuteTask!.IsCompleted.Should().BeFalse($"a store that does not answer stops execution, never the service: {worker.ExecuteTask.Exception?.GetBaseException().Message}");
            health.State.Error.Should().Contain("unable to open database file");
            _ad.IsDisabled("id-da1").Should().BeFalse("nothing runs while the store cannot be read");
            _ad.Calls.Should().NotContain(c => c.StartsWith("apply", StringComparison.Ordinal));

            _store.ReadsFail = false;
            signal.Wake();
            await ServeWorkspace.Eventually(() => Task.FromResult(_ad.IsDisabled("id-da1") && health.State.Reachable), Deadline, "execution resumes once the store answers", () => "");
            (await _inner.OpenIntentsAsync(Ct)).Should().BeEmpty("the action ran once, with its intent and outcome");
            _ad.Calls.Count(c => c == "apply disable_user id-da1").Should().Be(1);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static InboxEntry Entry(string id, string name) => new("itdr", id,
        $$$"""{"id":"{{{id}}}","source":"itdr","kind":"detection","type":"weak_password","severity":"high","observed_at":"2026-11-26T07:00:00Z","subject":{"provider":"ad","name":"{{{name}}}"}}""",
        "webhook");

    /// <summary>The real SQLite store, whose reads fail as SQLite fails when its file cannot be opened while <see cref="ReadsFail"/> is set.</summary>
    private sealed class ReadFailingStore(SqliteAuditStore inner) : IAuditStore, IFindingInbox
    {
        public volatile bool ReadsFail;

        private void Check()
        {
            if (ReadsFail) throw new SqliteException("SQLite Error 14: 'unable to open database file'.", 14);
        }

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAsync(entry, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) => inner.AppendManyAsync(entries, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
        {
            Check();
            return inner.ReadAsync(query, cancellationToken);
        }

        public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken)
        {
            Check();
            return inner.CountAsync(query, cancellationToken);
        }

        public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken)
        {
            Check();
            return inner.OpenIntentsAsync(cancellationToken);
        }

        public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => inner.LockAsync(name, timeout, cancellationToken);

        public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

        public Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken) => inner.AddAsync(entries, cancellationToken);

        public Task<IReadOnlyList<InboxItem>> LeaseAsync(string owner, int max, TimeSpan duration, CancellationToken cancellationToken) => inner.LeaseAsync(owner, max, duration, cancellationToken);

        public Task<bool> CompleteAsync(long sequence, string owner, string outcome, CancellationToken cancellationToken) => inner.CompleteAsync(sequence, owner, outcome, cancellationToken);

        public Task<IReadOnlyList<bool>> CompleteManyAsync(IReadOnlyList<InboxCompletion> completions, string owner, CancellationToken cancellationToken) => inner.CompleteManyAsync(completions, owner, cancellationToken);

        public Task<int> ReleaseAsync(string owner, CancellationToken cancellationToken) => inner.ReleaseAsync(owner, cancellationToken);

        public Task<bool> RequeueAsync(string source, string findingId, CancellationToken cancellationToken) => inner.RequeueAsync(source, findingId, cancellationToken);

        public Task<IReadOnlyList<InboxItem>> ReceivedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) => inner.ReceivedSinceAsync(since, cancellationToken);

        public Task<InboxCounts> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

        public Task<string?> ReadCursorAsync(string name, CancellationToken cancellationToken) => inner.ReadCursorAsync(name, cancellationToken);

        public Task SaveCursorAsync(string name, string value, CancellationToken cancellationToken) => inner.SaveCursorAsync(name, value, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
