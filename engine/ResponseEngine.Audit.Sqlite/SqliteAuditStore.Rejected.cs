using Dapper;
using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>The quarantine of `respond serve` beside the inbox, in the same SQLite file.</summary>
public sealed partial class SqliteAuditStore : IRejectedRecords
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> RejectAsync(IReadOnlyList<RejectedRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) return [];
        return await InboxWriteAsync("quarantine rejected records", async (connection, transaction) =>
        {
            var now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow());
            var kept = new List<bool>(records.Count);
            foreach (var record in records)
            {
                kept.Add(await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Reject,
                    new { record.Fingerprint, record.Origin, record.Key, record.Payload, record.Reason, Now = now }, transaction, cancellationToken: cancellationToken)) == 1);
            }

            return (IReadOnlyList<bool>)kept;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RejectedItem>> ListRejectedAsync(bool includeResubmitted, CancellationToken cancellationToken) =>
        await InboxReadAsync("read the quarantine", async connection =>
            (IReadOnlyList<RejectedItem>)(await connection.QueryAsync<RejectedRow>(new CommandDefinition(SqliteInboxStatements.ListRejected,
                new { All = includeResubmitted ? 1 : 0 }, cancellationToken: cancellationToken))).Select(r => r.ToItem()).ToList(), cancellationToken);

    /// <inheritdoc />
    public async Task<RejectedItem?> GetRejectedAsync(long id, CancellationToken cancellationToken) =>
        await InboxReadAsync("read the quarantine", async connection =>
            (await connection.QuerySingleOrDefaultAsync<RejectedRow>(new CommandDefinition(SqliteInboxStatements.GetRejected, new { Id = id }, cancellationToken: cancellationToken)))?.ToItem(),
            cancellationToken);

    /// <inheritdoc />
    public async Task<bool?> ResubmitAsync(long id, IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return await InboxWriteAsync("resubmit a quarantined record", async (connection, transaction) =>
        {
            var now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow());
            var exists = await connection.QuerySingleOrDefaultAsync<RejectedRow>(new CommandDefinition(SqliteInboxStatements.GetRejected, new { Id = id }, transaction, cancellationToken: cancellationToken));
            if (exists is null) return (bool?)null;
            if (await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.MarkResubmitted, new { Id = id, Now = now }, transaction, cancellationToken: cancellationToken)) != 1) return false;
            foreach (var entry in entries)
            {
                await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Insert,
                    new { entry.Source, entry.FindingId, entry.Origin, entry.Payload, ReceivedAt = now }, transaction, cancellationToken: cancellationToken));
            }

            return true;
        }, cancellationToken);
    }

    private sealed class RejectedRow
    {
        public long Id { get; set; }

        public string Origin { get; set; } = "";

        public string Key { get; set; } = "";

        public string Payload { get; set; } = "";

        public string Reason { get; set; } = "";

        public string RejectedAt { get; set; } = "";

        public string? ResubmittedAt { get; set; }

        public RejectedItem ToItem() => new(Id, Origin, Key, Payload, Reason, SqliteAuditRow.ParseTimestamp(RejectedAt),
            ResubmittedAt is null ? null : SqliteAuditRow.ParseTimestamp(ResubmittedAt));
    }
}
