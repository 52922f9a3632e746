using System.Data;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Data.SqlClient;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>
/// The audit trail on SQL Server, for deployments where several engine nodes share one trail and a DBA owns retention;
/// appends are serialised by an applock inside the insert transaction, so the sequence stays contiguous and the chain intact.
/// </summary>
public sealed partial class SqlServerAuditStore : IAuditStore, ResponseEngine.Inbox.IFindingInbox
{
    private const int ChainPageSize = 1000;

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly TimeSpan _writeTimeout;

    /// <summary>A store on the database named by the connection string, waiting up to 30 seconds for other appenders.</summary>
    public SqlServerAuditStore(string connectionString, TimeProvider timeProvider)
        : this(connectionString, timeProvider, TimeSpan.FromSeconds(30))
    {
    }

    /// <summary>A store on the database named by the connection string; <paramref name="writeTimeout"/> bounds one append.</summary>
    public SqlServerAuditStore(string connectionString, TimeProvider timeProvider, TimeSpan writeTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (writeTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(writeTimeout), writeTimeout, "must be positive");
        var builder = new SqlConnectionStringBuilder(connectionString);
        _connectionString = builder.ConnectionString;
        Name = $"SQL Server {builder.DataSource}/{(string.IsNullOrEmpty(builder.InitialCatalog) ? "(default database)" : builder.InitialCatalog)}";
        _time = timeProvider;
        _writeTimeout = writeTimeout;
    }

    /// <summary>Server and database, never the credentials: what error messages and `respond audit` name.</summary>
    public string Name { get; }

    /// <summary>A store on the database named by <paramref name="connectionString"/>.</summary>
    public static SqlServerAuditStore Open(string connectionString, TimeProvider timeProvider) => new(connectionString, timeProvider);

    private int WriteTimeoutMs => (int)Math.Min(int.MaxValue, _writeTimeout.TotalMilliseconds);

    private int CommandTimeoutSeconds => (int)Math.Min(int.MaxValue, Math.Ceiling(_writeTimeout.TotalSeconds) + 15);

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await AcquireSessionLockAsync(connection, SqlServerStatements.MigrationLockResource, TimeSpan.FromSeconds(60), cancellationToken);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(SqlServerStatements.CreateMigrationsTable, commandTimeout: CommandTimeoutSeconds, cancellationToken: cancellationToken));
                var applied = (await connection.QueryAsync<AppliedMigration>(new CommandDefinition(SqlServerStatements.SelectMigrations, cancellationToken: cancellationToken)))
                    .ToDictionary(m => m.Version, m => m.Checksum.Trim());
                foreach (var migration in SqlServerMigrations.All)
                {
                    if (applied.TryGetValue(migration.Version, out var checksum))
                    {
                        migration.EnsureUnchanged(checksum, Name);
                        continue;
                    }

                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                    foreach (var batch in migration.Batches())
                    {
                        await connection.ExecuteAsync(new CommandDefinition(batch, transaction: transaction, commandTimeout: 300, cancellationToken: cancellationToken));
                    }

                    var parameters = new DynamicParameters();
                    parameters.Add("Version", migration.Version, DbType.Int32);
                    parameters.Add("Name", migration.Name, DbType.String);
                    parameters.Add("Checksum", migration.Checksum, DbType.AnsiStringFixedLength, size: 64);
                    parameters.Add("AppliedAt", _time.GetUtcNow().UtcDateTime, DbType.DateTime2);
                    await connection.ExecuteAsync(new CommandDefinition(SqlServerStatements.InsertMigration, parameters, transaction, cancellationToken: cancellationToken));
                    await transaction.CommitAsync(cancellationToken);
                }
            }
            finally
            {
                await ReleaseSessionLockAsync(connection, SqlServerStatements.MigrationLockResource);
            }
        }
        catch (Exception ex) when (IsStoreFault(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new AuditWriteException($"audit store {Name}: could not create or upgrade the schema: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return (await AppendInOneTransactionAsync([entry], $"a '{entry.Status.Name()}' row", cancellationToken))[0];
    }

    /// <inheritdoc />
    /// <remarks>One transaction under the same append lock as <see cref="AppendAsync"/>: the tail is read once and the rows linked to it in order.</remarks>
    public async Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return [];
        foreach (var entry in entries) ArgumentNullException.ThrowIfNull(entry, nameof(entries));
        return await AppendInOneTransactionAsync(entries, $"{entries.Count} rows in one transaction", cancellationToken);
    }

    /// <summary>
    /// Appends the entries in one transaction under the append applock: reads the tail once, links each row to the one
    /// before, signs the new tail's anchor, commits. <paramref name="what"/> names the rows in the error.
    /// </summary>
    private async Task<AuditRecord[]> AppendInOneTransactionAsync(IReadOnlyList<AuditEntry> entries, string what, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var tail = await connection.QuerySingleOrDefaultAsync<ChainTail>(new CommandDefinition(
                SqlServerStatements.LockAndSelectLast,
                new { Resource = SqlServerStatements.AppendLockResource, TimeoutMs = WriteTimeoutMs },
                transaction,
                CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            var sequence = tail?.Sequence ?? 0;
            var previousHash = tail?.Hash.Trim() ?? AuditRecord.GenesisHash;
            var recordedAt = new DateTimeOffset(_time.GetUtcNow().UtcTicks, TimeSpan.Zero);
            var records = new AuditRecord[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                sequence++;
                var record = new AuditRecord(sequence, recordedAt, entries[i], previousHash, AuditRecord.ComputeHash(sequence, recordedAt, entries[i], previousHash));
                await connection.ExecuteAsync(new CommandDefinition(SqlServerStatements.Insert, SqlServerAuditRow.InsertParameters(record), transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
                if (AuditPersons.Of(record.Entry) is { } person)
                {
                    var index = new DynamicParameters();
                    index.Add("Sequence", sequence, DbType.Int64);
                    index.Add("Person", person.Person, DbType.String, size: 470);
                    index.Add("PersonName", person.PersonName, DbType.String, size: 400);
                    index.Add("Account", person.Account, DbType.String, size: 470);
                    index.Add("AccountName", record.Entry.IdentityName, DbType.String, size: 400);
                    await connection.ExecuteAsync(new CommandDefinition(SqlServerStatements.InsertPerson, index, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
                }
                records[i] = record;
                previousHash = record.Hash;
            }

            await WriteAnchorAsync(connection, transaction, sequence, previousHash, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return records;
        }
        catch (Exception ex) when (IsStoreFault(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new AuditWriteException($"audit store {Name}: could not append {what}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = Filter(query);
        parameters.Add("Limit", query.Limit is { } limit ? Math.Max(0L, limit) : long.MaxValue, DbType.Int64);
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SqlServerAuditRow>(new CommandDefinition(
            query.Descending ? SqlServerStatements.SelectDescending : SqlServerStatements.SelectAscending, parameters, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <inheritdoc />
    public async Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(SqlServerStatements.Count, Filter(query), cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SqlServerAuditRow>(new CommandDefinition(SqlServerStatements.SelectOpenIntents, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <inheritdoc />
    /// <remarks>
    /// sp_getapplock owned by a dedicated session, held until disposed; appends use other connections and another
    /// resource, so the holder's own appends never wait on it. If the connection drops, the server releases the lock.
    /// </remarks>
    public async Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var resource = LockResource(name);
        var connection = await OpenAsync(cancellationToken);
        try
        {
            await AcquireSessionLockAsync(connection, resource, timeout, cancellationToken);
            return new SessionLock(connection, resource);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var verifier = new AuditChainVerifier();
        while (true)
        {
            var page = (await connection.QueryAsync<SqlServerAuditRow>(new CommandDefinition(
                SqlServerStatements.SelectChainPage, new { AfterSequence = verifier.Checked, Limit = ChainPageSize }, cancellationToken: cancellationToken))).AsList();
            foreach (var row in page)
            {
                if (verifier.Check(row.Sequence, row.ToRecord) is { } broken) return broken;
            }

            if (page.Count < ChainPageSize) return verifier.Intact();
        }
    }

    /// <inheritdoc />
    /// <remarks>Reads the V007 table audit_person through its indexes: the rows of the accounts and persons asked for, not the trail.</remarks>
    public async Task<IReadOnlyList<AuditPersonLink>> ReadPersonLinksAsync(AuditPersonQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Keys is not { Count: > 0 } && query.Name is null) return [];
        var parameters = new DynamicParameters();
        parameters.Add("Keys", query.Keys is { Count: > 0 } keys ? JsonSerializer.Serialize(keys.ToArray(), StatusJson.Default.StringArray) : null, DbType.String, size: -1);
        parameters.Add("Name", query.Name, DbType.String, size: 400);
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<PersonLinkRow>(new CommandDefinition(SqlServerStatements.SelectPersonLinks, parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new AuditPersonLink(r.Person, r.PersonName, r.Account, r.Provider, r.IdentityId, r.IdentityName, r.Sequence))];
    }

    /// <summary>Nothing to release: connections are pooled by SqlClient and closed after each operation.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The applock resource for a lock name (at most 255 characters; longer names are hashed).</summary>
    internal static string LockResource(string name)
    {
        var resource = "respond:lock:" + name;
        return resource.Length <= 255 ? resource : "respond:lock:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)));
    }

    private async Task<SqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task AcquireSessionLockAsync(SqlConnection connection, string resource, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var infinite = timeout == Timeout.InfiniteTimeSpan;
        if (!infinite && timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be zero or more, or infinite");
        var timeoutMs = infinite ? -1 : (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);
        var commandTimeout = infinite ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.TotalSeconds) + 30);
        var parameters = new DynamicParameters();
        parameters.Add("Resource", resource, DbType.String, size: 255);
        parameters.Add("TimeoutMs", timeoutMs, DbType.Int32);
        int result;
        try
        {
            result = await connection.ExecuteScalarAsync<int>(new CommandDefinition(SqlServerStatements.AcquireSessionLock, parameters, commandTimeout: commandTimeout, cancellationToken: cancellationToken));
        }
        catch (SqlException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"audit store {Name}: waiting for lock '{resource}' was cancelled", ex, cancellationToken);
        }

        switch (result)
        {
            case >= 0:
                return;
            case -1:
                throw new TimeoutException($"audit store {Name}: lock '{resource}' is held by another process or store; gave up after {timeout}");
            default:
                throw new InvalidOperationException($"audit store {Name}: sp_getapplock on '{resource}' failed with {result} ({(result == -3 ? "chosen as deadlock victim" : result == -2 ? "cancelled" : "parameter or call error")})");
        }
    }

    private static async Task ReleaseSessionLockAsync(SqlConnection connection, string resource)
    {
        try
        {
            var parameters = new DynamicParameters();
            parameters.Add("Resource", resource, DbType.String, size: 255);
            await connection.ExecuteAsync(new CommandDefinition(SqlServerStatements.ReleaseSessionLock, parameters));
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // The session is going away with the connection, and the server releases session locks with it.
        }
    }

    private static DynamicParameters Filter(AuditQuery query)
    {
        var p = new DynamicParameters();
        p.Add("AfterSequence", query.AfterSequence, DbType.Int64);
        p.Add("BeforeSequence", query.BeforeSequence, DbType.Int64);
        p.Add("Since", query.Since?.UtcDateTime, DbType.DateTime2);
        p.Add("Until", query.Until?.UtcDateTime, DbType.DateTime2);
        p.Add("Identity", query.Identity, DbType.String);
        p.Add("Accounts", query.Accounts is { } accounts ? JsonSerializer.Serialize(accounts.ToArray(), StatusJson.Default.StringArray) : null, DbType.String, size: -1);
        p.Add("Guard", query.Guard, DbType.String);
        p.Add("RunId", query.RunId, DbType.String);
        p.Add("Statuses", query.Statuses is { } statuses ? JsonSerializer.Serialize(statuses.Select(s => s.Name()).ToArray(), StatusJson.Default.StringArray) : null, DbType.String, size: -1);
        p.Add("RuleId", query.RuleId, DbType.String);
        p.Add("Action", query.Action, DbType.String);
        p.Add("Provider", query.Provider, DbType.String);
        p.Add("IdentityId", query.IdentityId, DbType.String);
        p.Add("IdempotencyKey", query.IdempotencyKey, DbType.String);
        p.Add("Parameters", query.Parameters, DbType.String, size: -1);
        p.Add("DryRun", query.DryRun, DbType.Boolean);
        p.Add("Destructive", query.Destructive, DbType.Boolean);
        return p;
    }

    private static bool IsStoreFault(Exception ex) => ex is DbException or InvalidOperationException or IOException or TimeoutException;

    private sealed record ChainTail(long Sequence, string Hash);

    private sealed record AppliedMigration(int Version, string Name, string Checksum);

    private sealed record PersonLinkRow(string Person, string? PersonName, string Account, string Provider, string IdentityId, string? IdentityName, long Sequence);

    private sealed class SessionLock(SqlConnection connection, string resource) : IAsyncDisposable
    {
        private SqlConnection? _connection = connection;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _connection, null) is not { } held) return;
            await ReleaseSessionLockAsync(held, resource);
            await held.DisposeAsync();
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class StatusJson : System.Text.Json.Serialization.JsonSerializerContext;
