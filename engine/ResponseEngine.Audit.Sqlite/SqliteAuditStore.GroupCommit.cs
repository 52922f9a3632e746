using Dapper;
using Microsoft.Data.Sqlite;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>
/// Group commit: appends that arrive while a commit is in flight wait in a queue and are written together by the next
/// transaction: one BEGIN IMMEDIATE, one read of the chain's tail, the rows linked in arrival order, one COMMIT (one
/// fsync of the WAL under synchronous=FULL). Every caller's task completes only after the transaction holding its row has
/// committed, so "intent before action" holds exactly as with one transaction per row; a lone append is still written
/// at once, alone. When the database refuses a row of a group (a constraint or trigger), each request of the group is
/// retried in a transaction of its own, so one bad row fails only its own caller; any other failure fails the whole
/// group. No caller is ever told its row is stored when it is not.
/// </summary>
public sealed partial class SqliteAuditStore
{
    /// <summary>Rows per group transaction at most (a single <see cref="AppendManyAsync"/> may exceed it; it is never split).</summary>
    internal const int MaxGroupRows = 1024;

    private readonly Lock _queueGate = new();
    private List<PendingAppend> _queue = [];
    private Task? _writer;
    private long _commits;
    private int _inFlight;

    /// <summary>Requests not yet answered: queued, or in the group being written (for tests).</summary>
    internal int Unanswered
    {
        get
        {
            lock (_queueGate) return _queue.Count + _inFlight;
        }
    }

    /// <summary>Write transactions committed by this instance (for tests: fewer than appends when groups formed).</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <inheritdoc />
    /// <remarks>The rows go through the group-commit queue as one request: never split, possibly committed together with other appends.</remarks>
    public async Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return [];
        foreach (var entry in entries) ArgumentNullException.ThrowIfNull(entry, nameof(entries));
        return await EnqueueAsync(entries, cancellationToken).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<AuditRecord>> EnqueueAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingAppend(entries, cancellationToken);
        lock (_queueGate)
        {
            _queue.Add(pending);
            _writer ??= Task.Run(DrainAsync, CancellationToken.None);
        }

        // Not WaitAsync(cancellationToken): once a request is in a transaction the caller learns how it ended.
        return pending.Completion.Task;
    }

    /// <summary>Writes groups until the queue is empty; runs on one task at a time per store instance.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            List<PendingAppend> group;
            lock (_queueGate)
            {
                _inFlight = 0;
                if (_queue.Count == 0)
                {
                    _writer = null;
                    return;
                }

                group = TakeGroup();
                _inFlight = group.Count;
            }

            group.RemoveAll(p => p.Cancelled());
            if (group.Count == 0) continue;
            try
            {
                await WriteGroupAsync(group).ConfigureAwait(false);
            }
            catch (Exception ex) when (group.Count > 1 && IsRowSpecific(ex) && !group.Any(p => p.Completion.Task.IsCompleted))
            {
                // Nothing of the group was committed, and the database refused a row, not the transaction. Find the
                // request that failed: each alone, in order, so the others still go in.
                foreach (var pending in group)
                {
                    try
                    {
                        await WriteGroupAsync([pending]).ConfigureAwait(false);
                    }
                    catch (Exception single)
                    {
                        pending.Fail(Wrap(single, pending));
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var pending in group) pending.Fail(Wrap(ex, pending)); // no-op for a request already acknowledged
            }
        }
    }

    private List<PendingAppend> TakeGroup()
    {
        var rows = 0;
        var taken = 0;
        while (taken < _queue.Count && (taken == 0 || rows + _queue[taken].Entries.Count <= MaxGroupRows))
        {
            rows += _queue[taken].Entries.Count;
            taken++;
        }

        if (taken == _queue.Count)
        {
            var all = _queue;
            _queue = [];
            return all;
        }

        var group = _queue.GetRange(0, taken);
        _queue.RemoveRange(0, taken);
        return group;
    }

    /// <summary>One transaction for the whole group; completes the callers only after COMMIT returned.</summary>
    private async Task WriteGroupAsync(IReadOnlyList<PendingAppend> group)
    {
        var results = new AuditRecord[group.Count][];
        await using (var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using var transaction = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: the chain's tail cannot move under us
            var last = await connection.QuerySingleOrDefaultAsync<ChainTail>(new CommandDefinition(SqliteStatements.SelectLast, transaction: transaction)).ConfigureAwait(false);
            var sequence = last?.Sequence ?? 0;
            var previousHash = last?.Hash ?? AuditRecord.GenesisHash;
            var recordedAt = new DateTimeOffset(_time.GetUtcNow().UtcTicks, TimeSpan.Zero);
            using var insert = PreparedInsert.Create(connection, transaction);
            for (var g = 0; g < group.Count; g++)
            {
                var entries = group[g].Entries;
                var records = results[g] = new AuditRecord[entries.Count];
                for (var i = 0; i < entries.Count; i++)
                {
                    sequence++;
                    var record = new AuditRecord(sequence, recordedAt, entries[i], previousHash, AuditRecord.ComputeHash(sequence, recordedAt, entries[i], previousHash));
                    await insert.ExecuteAsync(SqliteAuditRow.From(record), AuditPersons.Of(record.Entry)).ConfigureAwait(false);
                    records[i] = record;
                    previousHash = record.Hash;
                }
            }

            await WriteAnchorAsync(connection, transaction, sequence, previousHash).ConfigureAwait(false);
            transaction.Commit();
            Interlocked.Increment(ref _commits);

            // Durable now: tell the callers before anything else can throw, so a retry never writes these rows again.
            for (var g = 0; g < group.Count; g++) group[g].Completion.TrySetResult(results[g]);
        }
    }

    /// <summary>
    /// Errors one row can cause (a constraint or trigger, a value too big or of the wrong type): worth retrying the
    /// group's requests one by one. Anything else (busy past the timeout, read-only, disk full, I/O) would fail every
    /// retry the same way, each after its own busy timeout, so the whole group fails at once instead.
    /// </summary>
    private static bool IsRowSpecific(Exception ex) => ex is SqliteException { SqliteErrorCode: 18 or 19 or 20 or 25 };

    private AuditWriteException Wrap(Exception ex, PendingAppend pending)
    {
        var what = pending.Entries.Count == 1 ? $"a '{pending.Entries[0].Status.Name()}' row" : $"{pending.Entries.Count} rows in one transaction";
        return new AuditWriteException($"audit store '{Path}': could not append {what}: {Describe(ex)}", ex);
    }

    /// <summary>Waits for the group being written, so that disposing never cuts a commit short.</summary>
    private async Task WaitForWriterAsync()
    {
        Task? writer;
        lock (_queueGate) writer = _writer;
        if (writer is not null) await writer.ConfigureAwait(false);
    }

    private sealed class PendingAppend(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        public IReadOnlyList<AuditEntry> Entries { get; } = entries;

        public TaskCompletionSource<IReadOnlyList<AuditRecord>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>A request cancelled while it waited is dropped before its transaction starts, never after.</summary>
        public bool Cancelled() => cancellationToken.IsCancellationRequested && Completion.TrySetCanceled(cancellationToken);

        public void Fail(AuditWriteException error) => Completion.TrySetException(error);
    }

    /// <summary>
    /// The INSERT compiled once per group transaction and run for each row with new values: preparing a 30-column
    /// statement per row (as one Dapper call per row does) costs more than writing the row.
    /// </summary>
    private sealed class PreparedInsert : IDisposable
    {
        private static readonly (string Name, Func<SqliteAuditRow, object?> Get)[] Columns =
        [
            ("@Sequence", r => r.Sequence), ("@RecordedAt", r => r.RecordedAt), ("@RunId", r => r.RunId), ("@Host", r => r.Host),
            ("@EngineVersion", r => r.EngineVersion), ("@Actor", r => r.Actor), ("@Status", r => r.Status), ("@DryRun", r => r.DryRun),
            ("@IdempotencyKey", r => r.IdempotencyKey), ("@IntentSequence", r => r.IntentSequence), ("@RuleId", r => r.RuleId),
            ("@RuleFile", r => r.RuleFile), ("@RuleHash", r => r.RuleHash), ("@RulesCommit", r => r.RulesCommit), ("@FindingId", r => r.FindingId),
            ("@FindingSource", r => r.FindingSource), ("@Provider", r => r.Provider), ("@IdentityId", r => r.IdentityId),
            ("@IdentityName", r => r.IdentityName), ("@Action", r => r.Action), ("@Parameters", r => r.Parameters),
            ("@Destructive", r => r.Destructive), ("@Verdict", r => r.Verdict), ("@Guard", r => r.Guard), ("@Reason", r => r.Reason),
            ("@Error", r => r.Error), ("@PriorState", r => r.PriorState), ("@Facts", r => r.Facts), ("@PreviousHash", r => r.PreviousHash),
            ("@Hash", r => r.Hash),
        ];

        private readonly SqliteCommand _command;
        private readonly SqliteCommand _person;

        private PreparedInsert(SqliteCommand command, SqliteCommand person) => (_command, _person) = (command, person);

        public static PreparedInsert Create(SqliteConnection connection, SqliteTransaction transaction)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = SqliteStatements.Insert;
            foreach (var (name, _) in Columns) command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            command.Prepare();
            var person = connection.CreateCommand();
            person.Transaction = transaction;
            person.CommandText = SqliteStatements.InsertPerson;
            foreach (var name in (string[])["@Sequence", "@Person", "@PersonName", "@Account", "@AccountName"]) person.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            person.Prepare();
            return new PreparedInsert(command, person);
        }

        /// <summary>The row, and its person-index entry (V006) when it is about an account.</summary>
        public async Task ExecuteAsync(SqliteAuditRow row, AuditPersonKey? person)
        {
            for (var i = 0; i < Columns.Length; i++) _command.Parameters[i].Value = Columns[i].Get(row) ?? DBNull.Value;
            await _command.ExecuteNonQueryAsync().ConfigureAwait(false);
            if (person is null) return;
            _person.Parameters[0].Value = row.Sequence;
            _person.Parameters[1].Value = person.Person;
            _person.Parameters[2].Value = (object?)person.PersonName ?? DBNull.Value;
            _person.Parameters[3].Value = person.Account;
            _person.Parameters[4].Value = (object?)row.IdentityName ?? DBNull.Value;
            await _person.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        public void Dispose()
        {
            _command.Dispose();
            _person.Dispose();
        }
    }
}
