using System.Security.Cryptography;
using System.Text;

namespace ResponseEngine.Inbox;

/// <summary>
/// A record an input of `respond serve` could not use (not JSON, not valid text, not a finding, a vendor event that
/// does not map): kept with where it came from and why, so nothing is lost silently and it can be resubmitted.
/// </summary>
/// <param name="Origin">The input, as the inbox names it: <c>folder:drop</c>, <c>okta_logs:okta</c>, <c>graph_alerts:alerts</c>.</param>
/// <param name="Key">Where in that input: a file with line and column, or the vendor's id of the record.</param>
public sealed record RejectedRecord(string Origin, string Key, string Payload, string Reason)
{
    /// <summary>The identity of a rejection: the same record met again (a re-read file, a re-fetched page) is kept, logged and counted once.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Origin}\0{Key}\0{Payload}")));
}

/// <summary>A quarantined record as listed by `respond inbox list --rejected`.</summary>
public sealed record RejectedItem(long Id, string Origin, string Key, string Payload, string Reason, DateTimeOffset RejectedAt, DateTimeOffset? ResubmittedAt);

/// <summary>
/// The quarantine beside the inbox: records the service could not read are kept here (once per record) instead of
/// being dropped, listed for an operator, and resubmitted — re-read with the current mapping or replaced by a corrected
/// finding — into the inbox in the same transaction that marks them resubmitted.
/// </summary>
public interface IRejectedRecords
{
    /// <summary>Keeps the records in one transaction; per record, true when new and false when the same record was already kept.</summary>
    Task<IReadOnlyList<bool>> RejectAsync(IReadOnlyList<RejectedRecord> records, CancellationToken cancellationToken);

    /// <summary>The quarantine, oldest first; resubmitted records only when asked.</summary>
    Task<IReadOnlyList<RejectedItem>> ListRejectedAsync(bool includeResubmitted, CancellationToken cancellationToken);

    Task<RejectedItem?> GetRejectedAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// Adds the findings made from a rejected record to the inbox (a duplicate is accepted once) and marks the record
    /// resubmitted, in one transaction; null when there is no such record, false when it was resubmitted already
    /// (nothing is added then).
    /// </summary>
    Task<bool?> ResubmitAsync(long id, IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken);
}
