using System.Data;
using Dapper;
using Microsoft.Data.SqlClient;
using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>The inbox of `respond serve` in the audit database; leases are taken with UPDLOCK, READPAST so instances skip each other's rows.</summary>
public sealed partial class SqlServerAuditStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return await InboxAsync("add findings to the inbox", async (connection, transaction) =>
        {
            var receivedAt = _time.GetUtcNow().UtcDateTime;
            var added = new List<bool>(entries.Count);
            foreach (var entry in entries)
            {
                var p = new DynamicParameters();
                p.Add("Source", entry.Source, DbType.String, size: 400);
                p.Add("FindingId", entry.FindingId, DbType.String, size: 400);
                p.Add("Origin", entry.Origin, DbType.String, size: 400);
                p.Add("Payload", entry.Payload, DbType.String, size: -1);
                p.Add("ReceivedAt", receivedAt, DbType.DateTime2);
                added.Add(await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Insert, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) == 1);
            }

            return (IReadOnlyList<bool>)added;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxItem>> LeaseAsync(string owner, int max, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var now = _time.GetUtcNow().UtcDateTime;
        return await InboxAsync("lease inbox items", async (connection, transaction) =>
        {
            var p = new DynamicParameters();
            p.Add("Max", max, DbType.Int32);
            p.Add("Owner", owner, DbType.String, size: 200);
            p.Add("Now", now, DbType.DateTime2);
            p.Add("Until", now + duration, DbType.DateTime2);
            var rows = await connection.QueryAsync<InboxRow>(new CommandDefinition(SqlServerInboxStatements.Lease, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
            return (IReadOnlyList<InboxItem>)rows.OrderBy(r => r.Sequence).Select(r => r.ToItem()).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> CompleteAsync(long sequence, string owner, string outcome, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        return await InboxAsync("complete an inbox item", async (connection, transaction) =>
        {
            var p = new DynamicParameters();
            p.Add("Sequence", sequence, DbType.Int64);
            p.Add("Owner", owner, DbType.String, size: 200);
            p.Add("Outcome", outcome, DbType.String, size: -1);
            p.Add("Now", _time.GetUtcNow().UtcDateTime, DbType.DateTime2);
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Complete, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> CompleteManyAsync(IReadOnlyList<InboxCompletion> completions, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        if (completions.Count == 0) return [];
        return await InboxAsync($"complete {completions.Count} inbox items", async (connection, transaction) =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var completed = new List<bool>(completions.Count);
            foreach (var completion in completions)
            {
                ArgumentNullException.ThrowIfNull(completion, nameof(completions));
                var p = new DynamicParameters();
                p.Add("Sequence", completion.Sequence, DbType.Int64);
                p.Add("Owner", owner, DbType.String, size: 200);
                p.Add("Outcome", completion.Outcome, DbType.String, size: -1);
                p.Add("Now", now, DbType.DateTime2);
                completed.Add(await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Complete, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) == 1);
            }

            return (IReadOnlyList<bool>)completed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<int> ReleaseAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        return await InboxAsync("release inbox leases", (connection, transaction) =>
            connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Release, new { Owner = new DbString { Value = owner, Length = 200 } },
                transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> RequeueAsync(string source, string findingId, CancellationToken cancellationToken) =>
        await InboxAsync("requeue an inbox item", async (connection, transaction) =>
            await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerInboxStatements.Requeue,
                new { Source = new DbString { Value = source, Length = 400 }, FindingId = new DbString { Value = findingId, Length = 400 } },
                transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxItem>> ReceivedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        await InboxAsync("read the inbox", async (connection, transaction) =>
        {
            var p = new DynamicParameters();
            p.Add("Since", since.UtcDateTime, DbType.DateTime2);
            return (IReadOnlyList<InboxItem>)(await connection.QueryAsync<InboxRow>(new CommandDefinition(SqlServerInboxStatements.ReceivedSince, p, transaction, cancellationToken: cancellationToken)))
                .Select(r => r.ToItem()).ToList();
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<InboxCounts> CountAsync(CancellationToken cancellationToken) =>
        await InboxAsync("count the inbox", async (connection, transaction) =>
        {
            var p = new DynamicParameters();
            p.Add("Now", _time.GetUtcNow().UtcDateTime, DbType.DateTime2);
            var row = await connection.QuerySingleAsync<CountRow>(new CommandDefinition(SqlServerInboxStatements.Counts, p, transaction, cancellationToken: cancellationToken));
            return new InboxCounts(row.Pending, row.Leased, row.Completed);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<string?> ReadCursorAsync(string name, CancellationToken cancellationToken) =>
        await InboxAsync("read a poller cursor", (connection, transaction) =>
            connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(SqlServerInboxStatements.ReadCursor,
                new { Name = new DbString { Value = name, Length = 200 } }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <inheritdoc />
    public async Task SaveCursorAsync(string name, string value, CancellationToken cancellationToken) =>
        await InboxAsync("save a poller cursor", async (connection, transaction) =>
        {
            var p = new DynamicParameters();
            p.Add("Name", name, DbType.String, size: 200);
            p.Add("Value", value, DbType.String, size: -1);
            p.Add("Now", _time.GetUtcNow().UtcDateTime, DbType.DateTime2);
            return await connection.ExecuteAsync(new CommandDefinition(SqlServerInboxStatements.SaveCursor, p, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
        }, cancellationToken);

    private async Task<T> InboxAsync<T>(string what, Func<SqlConnection, System.Data.Common.DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (Exception ex) when (IsStoreFault(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new AuditWriteException($"audit store {Name}: could not {what}: {ex.Message}", ex);
        }
    }

    private sealed class InboxRow
    {
        public long Sequence { get; set; }

        public string Source { get; set; } = "";

        public string FindingId { get; set; } = "";

        public string Origin { get; set; } = "";

        public string Payload { get; set; } = "";

        public DateTime ReceivedAt { get; set; }

        public int Attempts { get; set; }

        public InboxItem ToItem() => new(Sequence, Source, FindingId, Payload, Origin, new DateTimeOffset(DateTime.SpecifyKind(ReceivedAt, DateTimeKind.Utc)), Attempts);
    }

    private sealed record CountRow(long Pending, long Leased, long Completed);
}
