using System.Data;
using Dapper;
using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>The quarantine of `respond serve` beside the inbox, in the audit database.</summary>
public sealed partial class SqlServerAuditStore : IRejectedRecords
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> RejectAsync(IReadOnlyList<RejectedRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) return [];
        return await InboxAsync("quarantine rejected records", async (connection, transaction) =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var kept = new List<bool>(records.Count);
            foreach (var record in records)
            {
                var p = new DynamicParameters();
                p.Add("Fingerprint", record.Fingerprint, DbType.AnsiStringFixedLength, size: 64);
                p.Add("Origin", record.Origin, DbType.String, size: 400);
                p.Add("Key", record.Key.Length > 1000 ? record.Key[..1000] : record.Key, DbType.String, size: 1000);
                p.Add("Payload", record.Payload, DbType.String, size: -1);
                p.Add("Reason", record.Reason, DbType.String, size: -1);
                p.Add("Now", now, DbType.DateTime2);
                kept.Add(await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Reject, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) == 1);
            }

            return (IReadOnlyList<bool>)kept;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RejectedItem>> ListRejectedAsync(bool includeResubmitted, CancellationToken cancellationToken) =>
        await InboxAsync("read the quarantine", async (connection, transaction) =>
            (IReadOnlyList<RejectedItem>)(await connection.QueryAsync<RejectedRow>(new CommandDefinition(SqlServerInboxStatements.ListRejected,
                new { All = includeResubmitted ? 1 : 0 }, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken))).Select(r => r.ToItem()).ToList(), cancellationToken);

    /// <inheritdoc />
    public async Task<RejectedItem?> GetRejectedAsync(long id, CancellationToken cancellationToken) =>
        await InboxAsync("read the quarantine", async (connection, transaction) =>
            (await connection.QuerySingleOrDefaultAsync<RejectedRow>(new CommandDefinition(SqlServerInboxStatements.GetRejected, new { Id = id }, transaction, CommandTimeoutSeconds,
                cancellationToken: cancellationToken)))?.ToItem(), cancellationToken);

    /// <inheritdoc />
    public async Task<bool?> ResubmitAsync(long id, IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return await InboxAsync("resubmit a quarantined record", async (connection, transaction) =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var exists = await connection.QuerySingleOrDefaultAsync<RejectedRow>(new CommandDefinition(SqlServerInboxStatements.GetRejected, new { Id = id }, transaction, CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            if (exists is null) return (bool?)null;
            var mark = new DynamicParameters();
            mark.Add("Id", id, DbType.Int64);
            mark.Add("Now", now, DbType.DateTime2);
            if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.MarkResubmitted, mark, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) != 1)
            {
                return false;
            }

            foreach (var entry in entries)
            {
                var p = new DynamicParameters();
                p.Add("Source", entry.Source, DbType.String, size: 400);
                p.Add("FindingId", entry.FindingId, DbType.String, size: 400);
                p.Add("Origin", entry.Origin, DbType.String, size: 400);
                p.Add("Payload", entry.Payload, DbType.String, size: -1);
                p.Add("ReceivedAt", now, DbType.DateTime2);
                await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Insert, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
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

        public DateTime RejectedAt { get; set; }

        public DateTime? ResubmittedAt { get; set; }

        public RejectedItem ToItem() => new(Id, Origin, Key, Payload, Reason, Utc(RejectedAt), ResubmittedAt is { } r ? Utc(r) : null);

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
