using ResponseEngine.Audit;

namespace ResponseEngine.TestKit.Fakes;

/// <summary>An audit store in memory for executor tests: Core's <see cref="MemoryAuditStore"/>, the plan's scratch trail.</summary>
public sealed class InMemoryAuditStore(TimeProvider time) : IAuditStore
{
    private readonly MemoryAuditStore _store = new(time);

    /// <summary>When set, every append fails as a read-only database would.</summary>
    public bool ReadOnly
    {
        get => _store.ReadOnly;
        set => _store.ReadOnly = value;
    }

    public IReadOnlyList<AuditRecord> Rows => _store.Rows;

    public Task InitializeAsync(CancellationToken cancellationToken) => _store.InitializeAsync(cancellationToken);

    /// <summary>Called with each entry before it is appended, e.g. to check what else holds at that moment.</summary>
    public Action<AuditEntry>? BeforeAppend { get; set; }

    public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        BeforeAppend?.Invoke(entry);
        return _store.AppendAsync(entry, cancellationToken);
    }

    public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        foreach (var entry in entries) BeforeAppend?.Invoke(entry);
        return _store.AppendManyAsync(entries, cancellationToken);
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => _store.ReadAsync(query, cancellationToken);

    public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) => _store.CountAsync(query, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) => _store.OpenIntentsAsync(cancellationToken);

    public bool ComparesTextOrdinally => _store.ComparesTextOrdinally;

    public Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken) =>
        _store.ReadTargetsAsync(targets, cancellationToken);

    public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => _store.LockAsync(name, timeout, cancellationToken);

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => _store.VerifyAsync(cancellationToken);

    public Task<IReadOnlyList<AuditPersonLink>> ReadPersonLinksAsync(AuditPersonQuery query, CancellationToken cancellationToken) =>
        ((IAuditStore)_store).ReadPersonLinksAsync(query, cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
