namespace ResponseEngine.Audit;

/// <summary>Filters for reading the trail; every set filter must hold.</summary>
public sealed record AuditQuery
{
    public long? AfterSequence { get; init; }

    /// <summary>Only rows before this sequence (exclusive): with Descending and Limit, the next page of a newest-first keyset paging.</summary>
    public long? BeforeSequence { get; init; }

    public DateTimeOffset? Since { get; init; }

    /// <summary>Only rows recorded before this instant (exclusive), so that consecutive windows never share a row.</summary>
    public DateTimeOffset? Until { get; init; }

    public string? RunId { get; init; }

    public IReadOnlyCollection<AuditStatus>? Statuses { get; init; }

    public string? RuleId { get; init; }

    public string? Action { get; init; }

    public string? Provider { get; init; }

    public string? IdentityId { get; init; }

    /// <summary>Rows whose identity id or name is exactly this: an operator knows an account by either.</summary>
    public string? Identity { get; init; }

    /// <summary>
    /// Only rows about one of these accounts, each a person-index key (<see cref="AuditPersons.Key"/>: provider and id
    /// without case): a person's rows, read through the person index instead of the whole trail.
    /// </summary>
    public IReadOnlyCollection<string>? Accounts { get; init; }

    /// <summary>Only rows refused or closed by this guard (skipped, held, reconciled).</summary>
    public string? Guard { get; init; }

    public string? IdempotencyKey { get; init; }

    /// <summary>Canonical JSON of the action parameters, exactly: dedupe matches the same action with the same parameters.</summary>
    public string? Parameters { get; init; }

    public bool? DryRun { get; init; }

    /// <summary>Only rows of destructive actions (or only the others); the breaker counts these.</summary>
    public bool? Destructive { get; init; }

    /// <summary>Newest first when true (with Limit: "the last N").</summary>
    public bool Descending { get; init; }

    public int? Limit { get; init; }
}

/// <summary>An account and an action on it, as the trail names them (provider name, identity id, action name).</summary>
public sealed record AuditTarget(string Provider, string IdentityId, string Action);

/// <summary>The result of walking the hash chain.</summary>
public sealed record ChainVerification(bool Intact, long RowsChecked, long? FirstBadSequence, string? Problem);

/// <summary>
/// The append-only audit trail. An implementation never updates or deletes a row; intent and outcome are separate
/// rows. A failed append throws <see cref="AuditWriteException"/>, and the caller must not act.
/// </summary>
public interface IAuditStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema by applying the versioned migrations, recording each.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends one row: assigns the sequence and time, links it into the hash chain, and stores it durably.</summary>
    Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Appends several rows in one transaction, linked in the order given: when the task completes every row is stored
    /// durably; when it fails (<see cref="AuditWriteException"/>) none is, and the trail is as it was. The executor writes
    /// the refusals and intents of one guard phase this way.
    /// </summary>
    Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Number of rows matching the query (limits and order ignored); rate limits count executions this way.</summary>
    Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Intents that have no outcome row: work a crash interrupted, or work still running.</summary>
    Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// An exclusive lock across every process that shares this store, held until disposed; guards that count and
    /// then write (lockout, rate limits) take it so that two runs cannot both pass on the same count.
    /// </summary>
    Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Walks the whole chain and reports the first row whose hash does not match.</summary>
    Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The person index (<see cref="AuditPersonKey"/>): per person and account matching <paramref name="query"/>, the newest
    /// row. The SQL stores read their indexed <c>audit_person</c> table; this default scans the trail, for stores that keep
    /// no index (in memory, test doubles).
    /// </summary>
    async Task<IReadOnlyList<AuditPersonLink>> ReadPersonLinksAsync(AuditPersonQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return AuditPersons.Scan(await ReadAsync(new AuditQuery(), cancellationToken).ConfigureAwait(false), query);
    }

    /// <summary>
    /// True when every text filter of this store compares exactly as .NET's ordinal string equality does (SQLite's
    /// BINARY collation, the memory store), so that rows read once can be filtered again in memory with the same result
    /// as a query: the executor then reads what a guard batch needs once (<see cref="ReadTargetsAsync"/>) instead of per
    /// decision. False (the default, and SQL Server, whose collation decides) keeps the per-decision queries.
    /// </summary>
    bool ComparesTextOrdinally => false;

    /// <summary>
    /// The rows the dedupe guard reads for these accounts and actions, in one call: every non-dry-run intent and outcome
    /// (<c>intended</c>, <c>succeeded</c>, <c>noop</c>, <c>failed</c>, <c>timed_out</c>) whose provider, identity id and
    /// action equal one of <paramref name="targets"/>, in sequence order. The default asks <see cref="ReadAsync"/> once per
    /// target; a store overrides it with one query.
    /// </summary>
    async Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var rows = new Dictionary<long, AuditRecord>();
        foreach (var target in targets.Distinct())
        {
            var query = new AuditQuery { Provider = target.Provider, IdentityId = target.IdentityId, Action = target.Action, DryRun = false, Statuses = AuditTargets.Statuses };
            foreach (var row in await ReadAsync(query, cancellationToken).ConfigureAwait(false)) rows.TryAdd(row.Sequence, row);
        }

        return [.. rows.Values.OrderBy(r => r.Sequence)];
    }
}

/// <summary>What <see cref="IAuditStore.ReadTargetsAsync"/> returns, for the stores that implement it.</summary>
public static class AuditTargets
{
    /// <summary>The statuses of the rows read per target: an intent and every outcome that closes one.</summary>
    public static IReadOnlyCollection<AuditStatus> Statuses { get; } =
        [AuditStatus.Intended, AuditStatus.Succeeded, AuditStatus.Noop, AuditStatus.Failed, AuditStatus.TimedOut];

    /// <summary>Whether a row is one <see cref="IAuditStore.ReadTargetsAsync"/> returns for one of the targets (ordinal, as the stores that say so compare).</summary>
    public static bool Matches(AuditRecord row, IReadOnlySet<AuditTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(targets);
        var e = row.Entry;
        return !e.DryRun && Statuses.Contains(e.Status) && e.Provider is not null && e.IdentityId is not null && e.Action is not null
            && targets.Contains(new AuditTarget(e.Provider, e.IdentityId, e.Action));
    }
}

/// <summary>The audit trail could not be written: the action it was for must not run.</summary>
public sealed class AuditWriteException : Exception
{
    public AuditWriteException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public AuditWriteException()
    {
    }

    public AuditWriteException(string message)
        : base(message)
    {
    }
}
