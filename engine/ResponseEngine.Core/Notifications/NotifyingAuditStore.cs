using ResponseEngine.Audit;

namespace ResponseEngine.Notifications;

/// <summary>
/// The run's view of the audit store that tells a <see cref="INotificationSink"/> about the rows a person should hear
/// about (breaker opened, approval needed, action failed) once they are committed: every path that writes such a row
/// notifies, a row rolled back never does, and the store's own behaviour is untouched.
/// </summary>
public sealed class NotifyingAuditStore(IAuditStore inner, INotificationSink sink) : IAuditStore
{
    public IAuditStore Inner => inner;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var record = await inner.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
        Tell(record);
        return record;
    }

    public async Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var records = await inner.AppendManyAsync(entries, cancellationToken).ConfigureAwait(false);
        foreach (var record in records) Tell(record);
        return records;
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => inner.ReadAsync(query, cancellationToken);

    public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) => inner.CountAsync(query, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) => inner.OpenIntentsAsync(cancellationToken);

    public bool ComparesTextOrdinally => inner.ComparesTextOrdinally;

    public Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken) =>
        inner.ReadTargetsAsync(targets, cancellationToken);

    public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => inner.LockAsync(name, timeout, cancellationToken);

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

    public Task<IReadOnlyList<AuditPersonLink>> ReadPersonLinksAsync(AuditPersonQuery query, CancellationToken cancellationToken) =>
        inner.ReadPersonLinksAsync(query, cancellationToken);

    /// <summary>The store belongs to whoever opened it; the run's view does not close it.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Tell(AuditRecord record)
    {
        if (Notification.ForAuditRow(record) is { } notification) sink.Publish(notification);
    }
}
