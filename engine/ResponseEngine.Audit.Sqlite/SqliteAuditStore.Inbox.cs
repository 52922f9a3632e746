using Dapper;
using Microsoft.Data.Sqlite;
using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>The inbox of `respond serve` in the same SQLite file as the trail; every write is one BEGIN IMMEDIATE transaction.</summary>
public sealed partial class SqliteAuditStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> AddAsync(IReadOnlyList<InboxEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return await InboxWriteAsync("add findings to the inbox", async (connection, transaction) =>
        {
            var receivedAt = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow());
            var added = new List<bool>(entries.Count);
            foreach (var entry in entries)
            {
                var rows = await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Insert,
                    new { entry.Source, entry.FindingId, entry.Origin, entry.Payload, ReceivedAt = receivedAt }, transaction, cancellationToken: cancellationToken));
                added.Add(rows == 1);
            }

            return added;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxItem>> LeaseAsync(string owner, int max, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var now = _time.GetUtcNow();
        return await InboxWriteAsync("lease inbox items", async (connection, transaction) =>
        {
            var rows = await connection.QueryAsync<InboxRow>(new CommandDefinition(SqliteInboxStatements.Lease,
                new { Owner = owner, Until = SqliteAuditRow.FormatTimestamp(now + duration), Now = SqliteAuditRow.FormatTimestamp(now), Max = max },
                transaction, cancellationToken: cancellationToken));
            return (IReadOnlyList<InboxItem>)rows.OrderBy(r => r.Sequence).Select(r => r.ToItem()).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> CompleteAsync(long sequence, string owner, string outcome, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        return await InboxWriteAsync("complete an inbox item", async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Complete,
                new { Sequence = sequence, Owner = owner, Outcome = outcome, Now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow()) },
                transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<bool>> CompleteManyAsync(IReadOnlyList<InboxCompletion> completions, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        if (completions.Count == 0) return [];
        return await InboxWriteAsync($"complete {completions.Count} inbox items", async (connection, transaction) =>
        {
            var now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow());
            var completed = new List<bool>(completions.Count);
            foreach (var completion in completions)
            {
                ArgumentNullException.ThrowIfNull(completion, nameof(completions));
                completed.Add(await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Complete,
                    new { completion.Sequence, Owner = owner, completion.Outcome, Now = now }, transaction, cancellationToken: cancellationToken)) == 1);
            }

            return (IReadOnlyList<bool>)completed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<int> ReleaseAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        return await InboxWriteAsync("release inbox leases", (connection, transaction) =>
            connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Release, new { Owner = owner }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> RequeueAsync(string source, string findingId, CancellationToken cancellationToken) =>
        await InboxWriteAsync("requeue an inbox item", async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.Requeue, new { Source = source, FindingId = findingId },
                transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxItem>> ReceivedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        await InboxReadAsync("read the inbox", async connection =>
            (IReadOnlyList<InboxItem>)(await connection.QueryAsync<InboxRow>(new CommandDefinition(SqliteInboxStatements.ReceivedSince,
                new { Since = SqliteAuditRow.FormatTimestamp(since) }, cancellationToken: cancellationToken))).Select(r => r.ToItem()).ToList(), cancellationToken);

    /// <inheritdoc />
    public async Task<InboxCounts> CountAsync(CancellationToken cancellationToken) =>
        await InboxReadAsync("count the inbox", async connection =>
        {
            var row = await connection.QuerySingleAsync<CountRow>(new CommandDefinition(SqliteInboxStatements.Counts,
                new { Now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow()) }, cancellationToken: cancellationToken));
            return new InboxCounts(row.Pending, row.Leased, row.Completed);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<string?> ReadCursorAsync(string name, CancellationToken cancellationToken) =>
        await InboxReadAsync("read a poller cursor", connection =>
            connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(SqliteInboxStatements.ReadCursor, new { Name = name }, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <inheritdoc />
    public async Task SaveCursorAsync(string name, string value, CancellationToken cancellationToken) =>
        await InboxWriteAsync("save a poller cursor", (connection, transaction) =>
            connection.ExecuteAsync(new CommandDefinition(SqliteInboxStatements.SaveCursor,
                new { Name = name, Value = value, Now = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow()) }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);

    private async Task<T> InboxWriteAsync<T>(string what, Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            using var transaction = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: one writer between read and write
            var result = await write(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new AuditWriteException($"audit store '{Path}': could not {what}: {Describe(ex)}", ex);
        }
    }

    private async Task<T> InboxReadAsync<T>(string what, Func<SqliteConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await read(connection);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new AuditWriteException($"audit store '{Path}': could not {what}: {Describe(ex)}", ex);
        }
    }

    private sealed class InboxRow
    {
        public long Sequence { get; set; }

        public string Source { get; set; } = "";

        public string FindingId { get; set; } = "";

        public string Origin { get; set; } = "";

        public string Payload { get; set; } = "";

        public string ReceivedAt { get; set; } = "";

        public long Attempts { get; set; }

        public InboxItem ToItem() => new(Sequence, Source, FindingId, Payload, Origin, SqliteAuditRow.ParseTimestamp(ReceivedAt), (int)Attempts);
    }

    private sealed record CountRow(long Pending, long Leased, long Completed);
}
