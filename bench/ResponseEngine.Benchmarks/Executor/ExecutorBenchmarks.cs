using BenchmarkDotNet.Attributes;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// Audited actions through <see cref="ResponseEngine.Execution.Executor"/>: 200 <c>disable_user</c> decisions on distinct
/// users of a 250-user local directory (the size of samples/directory.json), every one executed (no rate limit, breaker
/// out of reach). Four combinations, so the costs separate: SQLite or in-memory audit store, local or no-op connector.
/// Every iteration starts from a fresh audit file and a fresh working copy; times are per action.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class ExecutorBenchmarks
{
    public const int Actions = 200;
    private const int Users = 250;

    private ExecutorWorkload _workload = null!;
    private string _folder = null!;
    private readonly List<IAsyncDisposable> _stores = [];
    private readonly List<IDisposable> _disposables = [];
    private RunContext _sqliteLocal = null!;
    private RunContext _sqliteNoop = null!;
    private RunContext _memoryLocal = null!;
    private RunContext _memoryNoop = null!;

    [GlobalSetup]
    public void GlobalSetup() => _workload = ExecutorWorkload.Create(Users, Actions);

    [IterationSetup]
    public void IterationSetup()
    {
        _folder = Directory.CreateTempSubdirectory("respond-bench-exec-").FullName;
        _sqliteLocal = Context(Sqlite("a.db"), Local("a"));
        _sqliteNoop = Context(Sqlite("b.db"), NoopConnector.For(_workload.Snapshot));
        _memoryLocal = Context(Memory(), Local("c"));
        _memoryNoop = Context(Memory(), NoopConnector.For(_workload.Snapshot));
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        foreach (var store in _stores) store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var disposable in _disposables) disposable.Dispose();
        _stores.Clear();
        _disposables.Clear();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Actions, Description = "SQLite + local connector (end to end)")]
    public Task<int> SqliteLocal() => RunAsync(_sqliteLocal);

    [Benchmark(OperationsPerInvoke = Actions, Description = "SQLite + no-op connector (guards + audit)")]
    public Task<int> SqliteNoop() => RunAsync(_sqliteNoop);

    [Benchmark(OperationsPerInvoke = Actions, Description = "memory store + local connector")]
    public Task<int> MemoryLocal() => RunAsync(_memoryLocal);

    [Benchmark(OperationsPerInvoke = Actions, Description = "memory store + no-op connector (guards only)")]
    public Task<int> MemoryNoop() => RunAsync(_memoryNoop);

    private async Task<int> RunAsync(RunContext run)
    {
        using var executor = new ResponseEngine.Execution.Executor(run);
        var summary = await executor.ExecuteAsync(_workload.Decisions, null, CancellationToken.None);
        var succeeded = summary.Count(AuditStatus.Succeeded);
        if (succeeded != Actions)
        {
            throw new InvalidOperationException($"expected {Actions} succeeded, got {succeeded}: "
                + string.Join("; ", summary.Results.Where(r => r.Status != AuditStatus.Succeeded).Take(3).Select(r => $"{r.Status.Name()} {r.Decision.Guard} {r.Detail}")));
        }

        return succeeded;
    }

    private RunContext Context(IAuditStore store, IReadOnlyDictionary<Provider, IConnector> connectors) =>
        new("bench-run", ExecutorWorkload.Options, store, connectors, Workload.Time, dryRun: false, "bench", "bench-host", "0.0.0-bench");

    private SqliteAuditStore Sqlite(string file)
    {
        var store = new SqliteAuditStore(Path.Combine(_folder, file), Workload.Time);
        store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        _stores.Add(store);
        return store;
    }

    private InMemoryAuditStore Memory()
    {
        var store = new InMemoryAuditStore(Workload.Time);
        _stores.Add(store);
        return store;
    }

    private IReadOnlyDictionary<Provider, IConnector> Local(string name)
    {
        var snapshot = Path.Combine(_folder, name + "-snapshot.json");
        var working = Path.Combine(_folder, name + "-state", "directory.json");
        File.WriteAllBytes(snapshot, _workload.SnapshotJson);
        Directory.CreateDirectory(Path.GetDirectoryName(working)!);
        File.WriteAllBytes(working, _workload.SnapshotJson); // the working copy exists, as after the first run
        var directory = LocalDirectory.Open(snapshot, working, Workload.Time, PrivilegedPolicy.Default);
        _disposables.Add(directory);
        return directory.Connectors();
    }
}
