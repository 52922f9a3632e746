namespace ResponseEngine.Audit;

/// <summary>
/// An audit store held in memory: the scratch trail a plan is guarded against (empty, or seeded with a copy of the real
/// trail), so that a plan runs the run's guards without ever writing the real store. It keeps the stores' contract:
/// append-only, hash-linked, all-or-nothing batches, one lock per name.
/// </summary>
public sealed class MemoryAuditStore(TimeProvider time) : IAuditStore
{
    private readonly List<AuditRecord> _rows = [];
    private readonly SemaphoreSlim _lock = new(1, 1);

    private long _lastSequence;
    private string _lastHash = AuditRecord.GenesisHash;
    private volatile int _kept;

    /// <summary>When set, every append fails as a read-only database would.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// False for a plan's scratch store: its own dry-run rows are returned with their sequence but neither kept nor hashed
    /// into the chain (the chain runs through the rows kept; a row not kept carries the hash before it), since no guard
    /// reads a dry-run row (every guard query asks for DryRun = false); the store then holds only the history it was
    /// seeded with, so a plan's memory and each guard query do not grow with the number of decisions, and a decision costs
    /// no hash.
    /// </summary>
    public bool KeepDryRunRows { get; init; } = true;

    public IReadOnlyList<AuditRecord> Rows
    {
        get
        {
            lock (_rows) return [.. _rows];
        }
    }

    /// <summary>
    /// Copies rows of another trail verbatim (sequence, time and hash kept), before anything is appended, so guards see
    /// that trail's history as it is; later appends continue its chain.
    /// </summary>
    public void Seed(IEnumerable<AuditRecord> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        lock (_rows)
        {
            if (_rows.Count > 0 || _lastSequence > 0) throw new InvalidOperationException("a store is seeded before anything is appended to it");
            _rows.AddRange(rows.OrderBy(r => r.Sequence));
            if (_rows.Count > 0) (_lastSequence, _lastHash) = (_rows[^1].Sequence, _rows[^1].Hash);
            _kept = _rows.Count;
        }
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        if (ReadOnly) throw new AuditWriteException("the audit store is read-only");
        lock (_rows) return Task.FromResult(Link(entry));
    }

    /// <summary>All rows or none, linked in order with nothing in between, like the real stores.</summary>
    public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (ReadOnly) throw new AuditWriteException("the audit store is read-only");
        lock (_rows)
        {
            var records = new List<AuditRecord>(entries.Count);
            foreach (var entry in entries) records.Add(Link(entry));
            return Task.FromResult<IReadOnlyList<AuditRecord>>(records);
        }
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        IEnumerable<AuditRecord> rows = Filter(query);
        if (query.Descending) rows = rows.Reverse();
        if (query.Limit is { } limit) rows = rows.Take(limit);
        return Task.FromResult<IReadOnlyList<AuditRecord>>([.. rows]);
    }

    public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Task.FromResult((long)Filter(query).Count);
    }

    public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken)
    {
        // A plan's scratch store with no history holds no row, and lockout protection asks it per destructive decision.
        if (_kept == 0) return Task.FromResult<IReadOnlyList<AuditRecord>>([]);
        var rows = Rows;
        var closed = rows.Where(r => r.Entry.Status.IsOutcome() && r.Entry.IntentSequence is not null).Select(r => r.Entry.IntentSequence!.Value).ToHashSet();
        return Task.FromResult<IReadOnlyList<AuditRecord>>([.. rows.Where(r => r.Entry.Status == AuditStatus.Intended && !closed.Contains(r.Sequence))]);
    }

    /// <inheritdoc />
    public bool ComparesTextOrdinally => true;

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var set = targets.ToHashSet();
        lock (_rows) return Task.FromResult<IReadOnlyList<AuditRecord>>([.. _rows.Where(r => AuditTargets.Matches(r, set))]);
    }

    public async Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!await _lock.WaitAsync(timeout, cancellationToken)) throw new TimeoutException($"lock {name} not acquired within {timeout.TotalSeconds:0.#} s");
        return new Releaser(_lock);
    }

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var rows = Rows;
        var previous = rows.Count == 0 ? AuditRecord.GenesisHash : rows[0].PreviousHash;
        foreach (var row in rows)
        {
            if (row.PreviousHash != previous || AuditRecord.ComputeHash(row.Sequence, row.RecordedAt, row.Entry, previous) != row.Hash)
            {
                return Task.FromResult(new ChainVerification(false, row.Sequence, row.Sequence, "hash mismatch"));
            }

            previous = row.Hash;
        }

        return Task.FromResult(new ChainVerification(true, rows.Count, null, null));
    }

    public ValueTask DisposeAsync()
    {
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }

    private AuditRecord Link(AuditEntry entry)
    {
        var sequence = _lastSequence + 1;
        var previous = _lastHash;
        var now = time.GetUtcNow();
        if (!KeepDryRunRows && entry.DryRun)
        {
            _lastSequence = sequence;
            return new AuditRecord(sequence, now, entry, previous, previous);
        }

        var record = new AuditRecord(sequence, now, entry, previous, AuditRecord.ComputeHash(sequence, now, entry, previous));
        (_lastSequence, _lastHash) = (sequence, record.Hash);
        _rows.Add(record);
        _kept = _rows.Count;
        return record;
    }

    /// <summary>A linear scan under the lock, like an unindexed table.</summary>
    private List<AuditRecord> Filter(AuditQuery q)
    {
        // A plan's scratch store with no history holds no row, and every guard asks it several times per decision.
        if (_kept == 0) return [];
        lock (_rows)
        {
            return [.. _rows.Where(r =>
                (q.AfterSequence is null || r.Sequence > q.AfterSequence) &&
                (q.BeforeSequence is null || r.Sequence < q.BeforeSequence) &&
                (q.Since is null || r.RecordedAt >= q.Since) &&
                (q.Until is null || r.RecordedAt < q.Until) &&
                (q.Identity is null || r.Entry.IdentityId == q.Identity || r.Entry.IdentityName == q.Identity) &&
                (q.Accounts is null || (AuditPersons.Of(r.Entry) is { } person && q.Accounts.Contains(person.Account))) &&
                (q.Guard is null || r.Entry.Guard == q.Guard) &&
                (q.RunId is null || r.Entry.RunId == q.RunId) &&
                (q.Statuses is null || q.Statuses.Contains(r.Entry.Status)) &&
                (q.RuleId is null || r.Entry.RuleId == q.RuleId) &&
                (q.Action is null || r.Entry.Action == q.Action) &&
                (q.Provider is null || r.Entry.Provider == q.Provider) &&
                (q.IdentityId is null || r.Entry.IdentityId == q.IdentityId) &&
                (q.IdempotencyKey is null || r.Entry.IdempotencyKey == q.IdempotencyKey) &&
                (q.Parameters is null || r.Entry.Parameters == q.Parameters) &&
                (q.DryRun is null || r.Entry.DryRun == q.DryRun) &&
                (q.Destructive is null || r.Entry.Destructive == q.Destructive))];
        }
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            semaphore.Release();
            return ValueTask.CompletedTask;
        }
    }
}
