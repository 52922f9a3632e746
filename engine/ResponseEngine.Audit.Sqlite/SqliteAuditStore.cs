using System.Data;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>
/// The embedded audit trail: one SQLite file in WAL mode, so the engine runs with no server and several processes
/// can share one trail; each write transaction reads the chain's tail and links its rows to it. Appends that arrive
/// together share one transaction (group commit, see SqliteAuditStore.GroupCommit.cs).
/// </summary>
public sealed partial class SqliteAuditStore : IAuditStore, ResponseEngine.Inbox.IFindingInbox
{
    /// <summary>The file the engine uses when the configuration names none.</summary>
    public const string DefaultFileName = "respond.db";

    private const int ChainPageSize = 1000;

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly TimeProvider _time;

    /// <summary>Opens (lazily) the trail in the given file or connection string, with a 30-second wait for other writers.</summary>
    public SqliteAuditStore(string connectionStringOrPath, TimeProvider timeProvider)
        : this(connectionStringOrPath, timeProvider, TimeSpan.FromSeconds(30))
    {
    }

    /// <summary>Opens (lazily) the trail; <paramref name="busyTimeout"/> bounds how long an append waits for another writer.</summary>
    public SqliteAuditStore(string connectionStringOrPath, TimeProvider timeProvider, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (busyTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(busyTimeout), busyTimeout, "must be zero or more");

        var builder = connectionStringOrPath.Contains('=', StringComparison.Ordinal)
            ? new SqliteConnectionStringBuilder(connectionStringOrPath)
            : new SqliteConnectionStringBuilder { DataSource = connectionStringOrPath };
        if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException("the SQLite audit store needs a file: an in-memory database is neither durable nor shared", nameof(connectionStringOrPath));
        }

        builder.DataSource = System.IO.Path.GetFullPath(builder.DataSource);
        builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds));
        _connectionString = builder.ToString();
        Path = builder.DataSource;
        _pragmas = SqliteStatements.Pragmas.Replace("{0}", ((long)busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        _time = timeProvider;
    }

    /// <summary>The full path of the database file, for messages and for `respond audit`.</summary>
    public string Path { get; }

    /// <summary>A store on the file at <paramref name="path"/> (use <see cref="DefaultFileName"/> for the embedded default).</summary>
    public static SqliteAuditStore Open(string path, TimeProvider timeProvider) =>
        new(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate }.ToString(), timeProvider);

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            var mode = await connection.ExecuteScalarAsync<string>(new CommandDefinition(SqliteStatements.JournalMode, cancellationToken: cancellationToken));
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                await connection.ExecuteAsync(new CommandDefinition(SqliteStatements.EnableWal, cancellationToken: cancellationToken));
            }

            var applied = await AppliedAsync(connection, cancellationToken);
            foreach (var migration in SqliteMigrations.All)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    migration.EnsureUnchanged(checksum, Path);
                    continue;
                }

                using var transaction = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: one migrator at a time
                var now = (await AppliedAsync(connection, cancellationToken, transaction));
                if (now.TryGetValue(migration.Version, out checksum))
                {
                    migration.EnsureUnchanged(checksum, Path); // another process applied it while we waited
                    continue;
                }

                await connection.ExecuteAsync(new CommandDefinition(migration.Script, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    SqliteStatements.InsertMigration,
                    new { migration.Version, migration.Name, migration.Checksum, AppliedAt = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow()) },
                    transaction,
                    cancellationToken: cancellationToken));
                transaction.Commit();
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new AuditWriteException($"audit store '{Path}': could not create or upgrade the schema: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>Returns once the row is committed (synchronous=FULL); concurrent appends are committed together.</remarks>
    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return (await EnqueueAsync([entry], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (where, parameters) = Filter(query);
        var sql = new StringBuilder(SqliteStatements.SelectRows).Append(where)
            .Append(query.Descending ? SqliteStatements.OrderDescending : SqliteStatements.OrderAscending);
        if (query.Limit is { } limit)
        {
            sql.Append(SqliteStatements.LimitClause);
            parameters.Add("Limit", Math.Max(0, limit));
        }

        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SqliteAuditRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <inheritdoc />
    public async Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (where, parameters) = Filter(query);
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(SqliteStatements.CountRows + where, parameters, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SqliteAuditRow>(new CommandDefinition(SqliteStatements.SelectOpenIntents, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <inheritdoc />
    /// <remarks>SQLite compares TEXT with the BINARY collation unless a column says otherwise, and none of audit_log's does.</remarks>
    public bool ComparesTextOrdinally => true;

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0) return [];
        var set = targets.ToHashSet();
        var ids = JsonSerializer.Serialize(set.Select(t => t.IdentityId).Distinct(StringComparer.Ordinal).ToArray(), StatusJson.Default.StringArray);
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SqliteAuditRow>(new CommandDefinition(SqliteStatements.SelectTargetRows, new { IdentityIds = ids }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord()).Where(r => AuditTargets.Matches(r, set))];
    }

    /// <inheritdoc />
    /// <remarks>The lock is a file beside the database (<c>respond.db.NAME.lock</c>); it does not hold the database's write lock, so the holder's appends proceed.</remarks>
    public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return SqliteFileLock.AcquireAsync(LockPath(name), timeout, _time, cancellationToken);
    }

    /// <summary>The lock file for a lock name: readable names stay readable, anything else is hashed.</summary>
    public string LockPath(string name)
    {
        var safe = name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? name
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16];
        return $"{Path}.{safe}.lock";
    }

    /// <inheritdoc />
    public async Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var verifier = new AuditChainVerifier();
        while (true)
        {
            var page = (await connection.QueryAsync<SqliteAuditRow>(new CommandDefinition(
                SqliteStatements.SelectChainPage, new { AfterSequence = verifier.Checked, Limit = ChainPageSize }, cancellationToken: cancellationToken))).AsList();
            foreach (var row in page)
            {
                if (verifier.Check(row.Sequence, row.ToRecord) is { } broken) return broken;
            }

            if (page.Count < ChainPageSize) return verifier.Intact();
        }
    }

    /// <inheritdoc />
    /// <remarks>Reads the V006 table audit_person through its indexes: the rows of the accounts and persons asked for, not the trail.</remarks>
    public async Task<IReadOnlyList<AuditPersonLink>> ReadPersonLinksAsync(AuditPersonQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var clauses = new List<string>();
        var parameters = new DynamicParameters();
        if (query.Keys is { Count: > 0 } keys)
        {
            clauses.Add(SqliteStatements.PersonFilters.Person);
            clauses.Add(SqliteStatements.PersonFilters.Account);
            parameters.Add("Keys", JsonSerializer.Serialize(keys.ToArray(), StatusJson.Default.StringArray));
        }

        if (query.Name is { } name)
        {
            clauses.Add(SqliteStatements.PersonFilters.PersonName);
            clauses.Add(SqliteStatements.PersonFilters.AccountName);
            parameters.Add("Name", name);
        }

        if (clauses.Count == 0) return [];
        var sql = SqliteStatements.SelectPersonLinks.Replace("{0}", string.Join(" UNION ", clauses), StringComparison.Ordinal);
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<PersonLinkRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToLink())];
    }

    /// <summary>Closes the pooled connections to the file, so it can be moved, copied or deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        await WaitForWriterAsync().ConfigureAwait(false);
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(_pragmas, cancellationToken: cancellationToken));
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(SqliteConnection connection, CancellationToken cancellationToken, IDbTransaction? transaction = null)
    {
        await connection.ExecuteAsync(new CommandDefinition(SqliteStatements.CreateMigrationsTable, transaction: transaction, cancellationToken: cancellationToken));
        var rows = await connection.QueryAsync<AppliedMigration>(new CommandDefinition(SqliteStatements.SelectMigrations, transaction: transaction, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => (int)r.Version, r => r.Checksum);
    }

    /// <summary>Whether a time-range search bounds the sequence first (<see cref="SqliteStatements.Filters.SequenceWithinTimeRange"/>); off only in the test that compares it with the plain query.</summary>
    internal bool BoundSequenceByTime { get; init; } = true;

    private (string Where, DynamicParameters Parameters) Filter(AuditQuery query)
    {
        var (where, values) = FilterSql(query, BoundSequenceByTime);
        var parameters = new DynamicParameters();
        foreach (var (name, value) in values) parameters.Add(name, value);
        return (where, parameters);
    }

    /// <summary>The WHERE clause of a query (composed of fixed fragments, each only when its filter is set) and its parameters.</summary>
    internal static (string Where, List<KeyValuePair<string, object?>> Parameters) FilterSql(AuditQuery query, bool boundByTime)
    {
        var clauses = new List<string>();
        var parameters = new List<KeyValuePair<string, object?>>();
        void Add(string clause, string name, object? value)
        {
            clauses.Add(clause);
            parameters.Add(new(name, value));
        }

        if (query.AfterSequence is { } after) Add(SqliteStatements.Filters.AfterSequence, "AfterSequence", after);
        if (query.BeforeSequence is { } before) Add(SqliteStatements.Filters.BeforeSequence, "BeforeSequence", before);
        if (query.Since is { } since) Add(SqliteStatements.Filters.Since, "Since", SqliteAuditRow.FormatTimestamp(since));
        if (query.Until is { } until) Add(SqliteStatements.Filters.Until, "Until", SqliteAuditRow.FormatTimestamp(until));
        // Only for a closed range with no other indexed filter: the bounds cost a scan of the range's recorded_at entries,
        // which an equality filter's index (identity, rule, status …) or an open range read from the newest row never needs
        // (measured in bench/README.md: with them the bound made identity + range 1,000x slower).
        var indexed = query.Identity is not null || query.Guard is not null || query.RunId is not null || query.Statuses is not null || query.RuleId is not null
            || query.Action is not null || query.Provider is not null || query.IdentityId is not null || query.IdempotencyKey is not null || query.Accounts is not null;
        if (boundByTime && query.Since is not null && query.Until is not null && !indexed)
        {
            var range = string.Join(" AND ", clauses.Where(c => c is SqliteStatements.Filters.Since or SqliteStatements.Filters.Until));
            clauses.Add(SqliteStatements.Filters.SequenceWithinTimeRange.Replace("{0}", range, StringComparison.Ordinal));
        }

        if (query.Identity is { } identity) Add(SqliteStatements.Filters.Identity, "Identity", identity);
        if (query.Accounts is { } accounts) Add(SqliteStatements.Filters.Accounts, "Accounts", JsonSerializer.Serialize(accounts.ToArray(), StatusJson.Default.StringArray));
        if (query.Guard is { } guard) Add(SqliteStatements.Filters.Guard, "Guard", guard);
        if (query.RunId is { } runId) Add(SqliteStatements.Filters.RunId, "RunId", runId);
        if (query.Statuses is { Count: 1 } one) Add(SqliteStatements.Filters.Status, "Status", one.First().Name());
        else if (query.Statuses is { } statuses) Add(SqliteStatements.Filters.Statuses, "Statuses", JsonSerializer.Serialize(statuses.Select(s => s.Name()).ToArray(), StatusJson.Default.StringArray));
        if (query.RuleId is { } ruleId) Add(SqliteStatements.Filters.RuleId, "RuleId", ruleId);
        if (query.Action is { } action) Add(SqliteStatements.Filters.Action, "Action", action);
        if (query.Provider is { } provider) Add(SqliteStatements.Filters.Provider, "Provider", provider);
        if (query.IdentityId is { } identityId) Add(SqliteStatements.Filters.IdentityId, "IdentityId", identityId);
        if (query.IdempotencyKey is { } key) Add(SqliteStatements.Filters.IdempotencyKey, "IdempotencyKey", key);
        if (query.Parameters is { } canonical) Add(SqliteStatements.Filters.Parameters, "Parameters", canonical);
        if (query.DryRun is { } dryRun) Add(SqliteStatements.Filters.DryRun, "DryRun", dryRun ? 1 : 0);
        if (query.Destructive is { } destructive) Add(SqliteStatements.Filters.Destructive, "Destructive", destructive ? 1 : 0);
        return (clauses.Count == 0 ? "" : " WHERE " + string.Join(" AND ", clauses), parameters);
    }

    private static string Describe(Exception ex) => ex is SqliteException sqlite
        ? $"{sqlite.Message} (SQLite error {sqlite.SqliteErrorCode}{(sqlite.SqliteErrorCode == 8 ? ": the database is read-only" : sqlite.SqliteErrorCode == 13 ? ": the disk is full" : sqlite.SqliteErrorCode is 5 or 6 ? ": another writer held the database past the busy timeout" : "")})"
        : ex.Message;

    private sealed record ChainTail(long Sequence, string Hash);

    private sealed record AppliedMigration(long Version, string Name, string Checksum);

    private sealed record PersonLinkRow(string Person, string? PersonName, string Account, string Provider, string IdentityId, string? IdentityName, long Sequence)
    {
        public AuditPersonLink ToLink() => new(Person, PersonName, Account, Provider, IdentityId, IdentityName, Sequence);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class StatusJson : System.Text.Json.Serialization.JsonSerializerContext;
