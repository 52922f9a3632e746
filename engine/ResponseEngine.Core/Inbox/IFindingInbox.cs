namespace ResponseEngine.Inbox;

/// <summary>A finding to keep until it has been decided: its identity (source, id), the record as received, and where it came from.</summary>
public sealed record InboxEntry(string Source, string FindingId, string Payload, string Origin);

/// <summary>A finding in the inbox, as a lease hands it out.</summary>
public sealed record InboxItem(long Sequence, string Source, string FindingId, string Payload, string Origin, DateTimeOffset ReceivedAt, int Attempts);

/// <summary>An inbox item to mark done, and the short outcome to record on it.</summary>
public sealed record InboxCompletion(long Sequence, string Outcome);

/// <summary>How much work the inbox holds, for /readyz and the metrics.</summary>
public sealed record InboxCounts(long Pending, long Leased, long Completed);

/// <summary>
/// The durable inbox of `respond serve`, kept in the audit database: a finding is committed here before the webhook
/// answers 202 or a poller moves its cursor, and stays until a processor has run it through the executor. (source, id)
/// is unique, so a duplicate is accepted once. Several instances share one inbox by leasing: a lease hands an item to
/// one owner until it expires; an item whose owner died is leased again after that. The executor's guards, not the
/// lease, are what keep an action from running twice (dedupe under the store lock); the lease keeps instances from
/// doing the same work.
/// </summary>
public interface IFindingInbox
{
    /// <summary>Commits the entries in one transaction (all or none); per entry, true when new and false for a duplicate (source, id).</summary>
    Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="max"/> items that are neither completed nor under another live lease, oldest first.</summary>
    Task<IReadOnlyList<InboxItem>> LeaseAsync(string owner, int max, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Marks an item done with a short outcome; false when it was already completed (by another owner whose lease had expired).</summary>
    Task<bool> CompleteAsync(long sequence, string owner, string outcome, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="CompleteAsync"/> for several items in one transaction (all or none); per item, in order, false when it
    /// was already completed. The processor completes a whole batch this way, after every outcome of the batch is audited.
    /// </summary>
    Task<IReadOnlyList<bool>> CompleteManyAsync(IReadOnlyList<InboxCompletion> completions, string owner, CancellationToken cancellationToken);

    /// <summary>Gives back the owner's leases on items it did not complete, so another instance takes them at once (graceful shutdown).</summary>
    Task<int> ReleaseAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Opens a completed item again, so the processor decides its finding once more under every guard (after the reconciler closed an interrupted intent as failed).</summary>
    Task<bool> RequeueAsync(string source, string findingId, CancellationToken cancellationToken);

    /// <summary>Findings received at or after <paramref name="since"/>, oldest first (for `respond plan --findings audit:30d`).</summary>
    Task<IReadOnlyList<InboxItem>> ReceivedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);

    Task<InboxCounts> CountAsync(CancellationToken cancellationToken);

    /// <summary>The persisted cursor of a poller (a link, a timestamp, a file offset), or null before its first run.</summary>
    Task<string?> ReadCursorAsync(string name, CancellationToken cancellationToken);

    Task SaveCursorAsync(string name, string value, CancellationToken cancellationToken);
}
