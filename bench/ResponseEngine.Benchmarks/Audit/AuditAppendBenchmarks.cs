using BenchmarkDotNet.Attributes;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;

namespace ResponseEngine.Benchmarks.Audit;

/// <summary>
/// Audit rows per second on SQLite (WAL, synchronous=FULL: every acknowledged row is fsynced), side by side:
/// one row per transaction from one writer (what every append cost before group commit, and still what a lone
/// sequential caller gets), concurrent writers sharing group commits, and <see cref="SqliteAuditStore.AppendManyAsync"/>
/// batches. Rows are shaped like the executor's (rule, finding, identity, parameters, prior state, facts; ~1.2 KB).
/// Every iteration starts on a fresh file; Mean is per row, so rows/s = 1 s / Mean.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class AuditAppendBenchmarks
{
    private const int SequentialRows = 500;
    private const int Rows = 4096;

    private string _folder = null!;
    private SqliteAuditStore _store = null!;
    private AuditEntry[] _entries = [];

    [GlobalSetup]
    public void GlobalSetup() => _entries = [.. Enumerable.Range(0, Rows).Select(Entry)];

    [IterationSetup]
    public void IterationSetup()
    {
        _folder = Directory.CreateTempSubdirectory("respond-bench-audit-").FullName;
        _store = new SqliteAuditStore(Path.Combine(_folder, "respond.db"), Workload.Time);
        _store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = SequentialRows, Description = "1 writer, one row per transaction (old path)")]
    public async Task<long> Sequential()
    {
        long last = 0;
        for (var i = 0; i < SequentialRows; i++) last = (await _store.AppendAsync(_entries[i], CancellationToken.None)).Sequence;
        return Check(last, SequentialRows);
    }

    [Benchmark(OperationsPerInvoke = Rows, Description = "8 concurrent writers, group commit")]
    public Task<long> Writers8() => ConcurrentAsync(8);

    [Benchmark(OperationsPerInvoke = Rows, Description = "64 concurrent writers, group commit")]
    public Task<long> Writers64() => ConcurrentAsync(64);

    [Benchmark(OperationsPerInvoke = Rows, Description = "AppendManyAsync, 100 rows per call")]
    public Task<long> Batch100() => BatchesAsync(100);

    [Benchmark(OperationsPerInvoke = Rows, Description = "AppendManyAsync, 1,024 rows per call")]
    public Task<long> Batch1024() => BatchesAsync(1024);

    private async Task<long> ConcurrentAsync(int writers)
    {
        var each = Rows / writers;
        var ends = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            long last = 0;
            for (var i = 0; i < each; i++) last = (await _store.AppendAsync(_entries[(w * each) + i], CancellationToken.None)).Sequence;
            return last;
        })));
        return Check(ends.Max(), Rows);
    }

    private async Task<long> BatchesAsync(int size)
    {
        long last = 0;
        for (var start = 0; start < Rows; start += size)
        {
            var records = await _store.AppendManyAsync(new ArraySegment<AuditEntry>(_entries, start, Math.Min(size, Rows - start)), CancellationToken.None);
            last = records[^1].Sequence;
        }

        return Check(last, Rows);
    }

    private static long Check(long last, int expected) =>
        last == expected ? last : throw new InvalidOperationException($"expected {expected} rows, the last sequence is {last}");

    /// <summary>An executor-like row: an intent for revoke_group with prior state and facts.</summary>
    internal static AuditEntry Entry(int i) => new()
    {
        RunId = "run-2026-03-01T12-00-00Z-bench",
        Host = "respond-01.corp.example",
        EngineVersion = "0.1.0+bench",
        Actor = "CORP\\svc-respond",
        Status = i % 2 == 0 ? AuditStatus.Intended : AuditStatus.Succeeded,
        IdempotencyKey = $"sha256:{i:x8}5b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c",
        IntentSequence = i % 2 == 0 ? null : i,
        RuleId = "ad-weak-password-privileged",
        RuleFile = "rules/ad/ad-weak-password-privileged.yaml",
        RuleHash = "sha256:9c1d6f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",
        RulesCommit = "0d1121f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0",
        FindingId = $"f-{i:D7}",
        FindingSource = "defender",
        Provider = "ad",
        IdentityId = $"5f0c3a1e-9b7d-4c2a-8e6f-{i:D12}",
        IdentityName = $"u{i:D6}@corp.example",
        Action = "revoke_group",
        Parameters = """{"groups":["Domain Admins","Enterprise Admins"]}""",
        Destructive = true,
        Verdict = "execute",
        Reason = "weak password on a privileged account: remove from the privileged groups until the password is reset",
        PriorState = """{"enabled":true,"groups":["Domain Users","Domain Admins","Enterprise Admins","VPN Users","Engineering"],"password_must_change":false,"sessions_revoked_at":null}""",
        Facts = """{"finding":{"type":"weak_password","severity":"critical","attributes":{"reason":"breached","risk_score":95,"country":"RU"}},"identity":{"privileged":true,"enabled":true,"groups":["Domain Users","Domain Admins","Enterprise Admins","VPN Users","Engineering"],"tags":[]}}""",
    };
}
