using System.Diagnostics;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The contract on a SQLite file, plus what only SQLite has: WAL, the lock file, read-only files. Lock exclusivity is shown
/// between store instances in this process: each opens its own handle on the lock file, and flock excludes handles, not
/// processes, so two instances exercise exactly what two processes would.
/// </summary>
public sealed class SqliteAuditStoreTests : AuditStoreContract
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => Path.Combine(_directory.Path, SqliteAuditStore.DefaultFileName);

    protected override string Dialect => "sqlite";

    protected override IAuditStore NewStoreInstance(TimeProvider time) => SqliteAuditStore.Open(DatabasePath, time);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    protected override async Task<object?> ExecuteRawAsync(string sql)
    {
        await using var connection = await RawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    protected override async Task AlterRowByHandAsync(long sequence, string reason)
    {
        await ExecuteRawAsync("DROP TRIGGER audit_log_no_update");
        await using var connection = await RawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE audit_log SET reason = $reason WHERE sequence = $sequence";
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$sequence", sequence);
        (await command.ExecuteNonQueryAsync(Ct)).Should().Be(1);
    }

    protected override async Task DeleteRowByHandAsync(long sequence)
    {
        await ExecuteRawAsync("DROP TRIGGER audit_log_no_delete");
        await ExecuteRawAsync($"DELETE FROM audit_log WHERE sequence = {sequence}");
    }

    protected override async Task<IReadOnlyList<long>> RecordedMigrationsAsync()
    {
        await using var connection = await RawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_migrations ORDER BY version";
        var versions = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct)) versions.Add(reader.GetInt64(0));
        return versions;
    }

    [Fact]
    public void DefaultFileName_IsRespondDb()
    {
        SqliteAuditStore.DefaultFileName.Should().Be("respond.db");
        SqliteAuditStore.Open("respond.db", Time).Path.Should().Be(Path.GetFullPath("respond.db"));
    }

    [Fact]
    public void Constructor_InMemoryDatabase_IsRefused()
    {
        var act = () => new SqliteAuditStore("Data Source=:memory:", Time);

        act.Should().Throw<ArgumentException>().WithMessage("*in-memory*");
    }

    [Fact]
    public async Task Constructor_AcceptsAConnectionStringOrAPath()
    {
        await using var byConnectionString = new SqliteAuditStore($"Data Source={DatabasePath}", Time);
        await using var byPath = new SqliteAuditStore(DatabasePath, Time);
        await byConnectionString.InitializeAsync(Ct);
        await byConnectionString.AppendAsync(Entry(), Ct);

        (await byPath.CountAsync(new AuditQuery(), Ct)).Should().Be(1);
        byPath.Path.Should().Be(byConnectionString.Path);
    }

    [Fact]
    public async Task Initialize_PutsTheDatabaseInWalMode()
    {
        await StoreAsync();

        (await ExecuteRawAsync("PRAGMA journal_mode")).Should().Be("wal");
    }

    [Fact]
    public async Task Append_ReadOnlyDatabase_ThrowsAuditWriteExceptionNamingThePath()
    {
        var writable = await StoreAsync();
        await writable.AppendAsync(Entry(), Ct);
        // Tests run as root here, where chmod 0444 does not stop a write: open the file read-only instead.
        await using var readOnly = new SqliteAuditStore($"Data Source={DatabasePath};Mode=ReadOnly", Time);
        await readOnly.InitializeAsync(Ct);

        var act = () => readOnly.AppendAsync(Entry(), Ct);

        var thrown = await act.Should().ThrowAsync<AuditWriteException>();
        thrown.Which.Message.Should().Contain(DatabasePath).And.Contain("read-only");
        (await writable.CountAsync(new AuditQuery(), Ct)).Should().Be(1);
    }

    [Fact]
    public async Task Initialize_UnreachableFile_ThrowsAuditWriteExceptionNamingThePath()
    {
        var path = Path.Combine(_directory.Path, "no-such-folder", "respond.db");
        await using var store = SqliteAuditStore.Open(path, Time);

        var act = () => store.InitializeAsync(Ct);

        (await act.Should().ThrowAsync<AuditWriteException>()).Which.Message.Should().Contain(path);
    }

    [Fact]
    public async Task Append_AnotherWriterHoldsTheDatabasePastTheBusyTimeout_ThrowsAuditWriteException()
    {
        await StoreAsync();
        await using var blocker = await RawAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        await using var impatient = new SqliteAuditStore(DatabasePath, Time, TimeSpan.Zero);
        var act = () => impatient.AppendAsync(Entry(), Ct);

        (await act.Should().ThrowAsync<AuditWriteException>()).Which.Message.Should().Contain(DatabasePath).And.Contain("locked");
    }

    [Fact]
    public async Task Lock_IsAFileBesideTheDatabase()
    {
        var store = (SqliteAuditStore)await StoreAsync();

        await using (await store.LockAsync("lockout", TimeSpan.Zero, Ct))
        {
            File.Exists(DatabasePath + ".lockout.lock").Should().BeTrue();
        }

        store.LockPath("lockout").Should().Be(DatabasePath + ".lockout.lock");
        store.LockPath("a/b c").Should().MatchRegex(@"respond\.db\.[0-9a-f]{16}\.lock$");
    }

    [Fact]
    public async Task PersonIndex_ATrailWrittenBeforeV006_IsBackfilledByTheMigration_AndFoundAsBefore()
    {
        // A trail as V001-V005 and the engine before the person index left it: rows in audit_log only. (Written by this
        // store, then its V006 table and migration record removed: the earlier engine inserted into audit_log alone.)
        var store = await StoreAsync();
        var rows = new List<AuditEntry>();
        rows.Add(Entry(AuditStatus.Succeeded) with { Provider = "ad", IdentityId = "3f2504e0-4f89-11d3-9a0c-0305e82c3301", IdentityName = "alice", Facts = """{"finding_type":"x"}""" });
        rows.Add(Entry(AuditStatus.Succeeded) with
        {
            Provider = "entra", IdentityId = "e-alice", IdentityName = "alice@corp.example.com",
            Facts = """{"finding_type":"x","linked_from":{"provider":"ad","id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","account":"alice","evidence":"objectSid S-1-5-21-1 = onPremisesSecurityIdentifier"}}""",
        });
        rows.Add(Entry(AuditStatus.Succeeded) with
        {
            Provider = "okta", IdentityId = "00u-alice", IdentityName = "alice@corp.example.com",
            Facts = """{"linked_from":{"provider":"entra","id":"E-ALICE","account":"alice@corp.example.com","evidence":"Okta login alice@corp.example.com = Entra userPrincipalName"}}""",
        });
        rows.Add(Entry(AuditStatus.Succeeded) with { Provider = "okta", IdentityId = "00u-bob", IdentityName = "bob", Facts = "not json, \"linked_from\"" });
        rows.Add(Entry(AuditStatus.BreakerOpened));
        await store.AppendManyAsync(rows, Ct);
        await ExecuteRawAsync("DROP TABLE audit_person");
        await ExecuteRawAsync("DELETE FROM schema_migrations WHERE version = 6");
        (await ExecuteRawAsync("SELECT count(*) FROM sqlite_master WHERE name = 'audit_person'")).Should().Be(0L);

        var upgraded = await StoreAsync();

        (await ExecuteRawAsync("SELECT count(*) FROM audit_person")).Should().Be(4L);
        var all = await upgraded.ReadAsync(new AuditQuery(), Ct);
        var everything = new AuditPersonQuery { Keys = all.Where(r => r.Entry.Provider is not null).Select(r => AuditPersons.Key(r.Entry.Provider!, r.Entry.IdentityId!)).ToList() };
        (await upgraded.ReadPersonLinksAsync(everything, Ct)).Should().BeEquivalentTo(AuditPersons.Scan(all, everything), o => o.WithoutStrictOrdering());
        var person = await PersonLookup.FindAsync(upgraded, "alice", Ct);
        person.Select(a => a.Id).Should().Equal("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "e-alice", "00u-alice");
        person[2].Evidence.Should().Be("Okta login alice@corp.example.com = Entra userPrincipalName");
        (await upgraded.ReadAsync(new AuditQuery { Accounts = [.. person.Select(a => a.Key)] }, Ct)).Select(r => r.Sequence).Should().Equal(1, 2, 3);
        (await upgraded.VerifyAsync(Ct)).Intact.Should().BeTrue();

        // New rows after the upgrade are indexed as they are written.
        await upgraded.AppendAsync(Entry(AuditStatus.Succeeded) with { Provider = "ad", IdentityId = "3F2504E0-4F89-11D3-9A0C-0305E82C3301", IdentityName = "alice" }, Ct);
        (await upgraded.ReadAsync(new AuditQuery { Accounts = [.. person.Select(a => a.Key)] }, Ct)).Select(r => r.Sequence).Should().Equal(1, 2, 3, 6);
    }

    [Fact]
    public async Task Migration_AppliedScriptChangedLater_IsRefused()
    {
        await StoreAsync();
        await ExecuteRawAsync("DROP TABLE schema_migrations");
        await ExecuteRawAsync("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
        await ExecuteRawAsync("INSERT INTO schema_migrations VALUES (1, 'audit', '" + new string('0', 64) + "', '2026-01-01T00:00:00.0000000Z')");

        var act = StoreAsync;

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("V001__audit").And.Contain("changed after it was applied");
    }

    [Fact]
    public async Task AppendMany_LinksTheRowsInOrderInOneTransaction()
    {
        var store = (SqliteAuditStore)await StoreAsync();
        await store.AppendAsync(Entry(), Ct);

        var records = await store.AppendManyAsync([.. Enumerable.Range(0, 50).Select(i => Entry(AuditStatus.Skipped) with { Reason = $"refusal {i}" })], Ct);

        records.Select(r => r.Sequence).Should().Equal(Enumerable.Range(2, 50).Select(i => (long)i));
        records.Select(r => r.Entry.Reason).Should().Equal(Enumerable.Range(0, 50).Select(i => $"refusal {i}"));
        records.Zip(records.Skip(1)).Should().AllSatisfy(p => p.Second.PreviousHash.Should().Be(p.First.Hash));
        store.Commits.Should().Be(2);
        (await store.ReadAsync(new AuditQuery { AfterSequence = 1 }, Ct)).Should().BeEquivalentTo(records, o => o.WithStrictOrdering());
        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, 51, null, null));
    }

    [Fact]
    public async Task AppendMany_OneRowRefusedByTheDatabase_StoresNoneOfThemAndTheChainGoesOn()
    {
        var store = (SqliteAuditStore)await StoreAsync();
        var before = await store.AppendAsync(Entry() with { Reason = "before" }, Ct);
        await PoisonRowsWithReasonAsync("poison");

        var act = () => store.AppendManyAsync([Entry() with { Reason = "a" }, Entry() with { Reason = "poison" }, Entry() with { Reason = "c" }], Ct);

        (await act.Should().ThrowAsync<AuditWriteException>()).Which.Message.Should().Contain("3 rows in one transaction").And.Contain("poisoned row");
        (await store.ReadAsync(new AuditQuery(), Ct)).Should().ContainSingle().Which.Should().BeEquivalentTo(before);
        var after = await store.AppendAsync(Entry() with { Reason = "after" }, Ct);
        after.Sequence.Should().Be(2);
        after.PreviousHash.Should().Be(before.Hash);
        (await store.VerifyAsync(Ct)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Append_CallersArrivingDuringACommit_AreCommittedTogether()
    {
        var store = (SqliteAuditStore)await StoreAsync();
        const int Callers = 40;

        var appends = await WhileAnotherWriterHoldsTheDatabaseAsync(store, Callers, () =>
            [.. Enumerable.Range(0, Callers).Select(i => store.AppendAsync(Entry() with { Reason = $"caller-{i}" }, Ct))]);

        var records = await Task.WhenAll(appends);
        records.Select(r => r.Sequence).Order().Should().Equal(Enumerable.Range(1, Callers).Select(i => (long)i));
        store.Commits.Should().BeLessThanOrEqualTo(2, "the first caller's transaction was waiting for the other writer and every later caller queued behind it");
        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, Callers, null, null));
    }

    [Fact]
    public async Task Append_GroupWithARowTheDatabaseRefuses_OnlyThatCallerFailsAndEveryAcknowledgedRowIsStored()
    {
        var store = (SqliteAuditStore)await StoreAsync();
        await PoisonRowsWithReasonAsync("poison");
        const int Callers = 30;
        static string ReasonOf(int i) => i % 7 == 3 ? "poison" : $"caller-{i}";

        var appends = await WhileAnotherWriterHoldsTheDatabaseAsync(store, Callers + 1, () =>
        [
            .. Enumerable.Range(0, Callers).Select(i => store.AppendAsync(Entry() with { Reason = ReasonOf(i) }, Ct)),
            FirstAsync(store.AppendManyAsync([Entry() with { Reason = "batch-a" }, Entry() with { Reason = "poison" }], Ct)),
        ]);

        await Task.WhenAll(appends.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        var acknowledged = appends.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
        var failed = appends.Where(t => t.IsFaulted).ToList();
        failed.Should().HaveCount(Enumerable.Range(0, Callers).Count(i => ReasonOf(i) == "poison") + 1, "every poisoned request fails, and nothing else");
        failed.Should().AllSatisfy(t => t.Exception!.InnerException.Should().BeOfType<AuditWriteException>());
        acknowledged.Should().HaveCount(Callers - failed.Count + 1).And.OnlyContain(r => r.Entry.Reason!.StartsWith("caller-", StringComparison.Ordinal));

        // Read back through a fresh connection: every acknowledged row is there as acknowledged, and nothing else.
        SqliteConnection.ClearAllPools();
        await using var reopened = SqliteAuditStore.Open(DatabasePath, Time);
        var stored = await reopened.ReadAsync(new AuditQuery(), Ct);
        stored.Should().BeEquivalentTo(acknowledged);
        stored.Select(r => r.Sequence).Should().Equal(Enumerable.Range(1, acknowledged.Count).Select(i => (long)i));
        (await reopened.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, acknowledged.Count, null, null));
    }

    /// <summary>
    /// Holds the database's write lock from a raw connection while <paramref name="start"/> issues requests, waits
    /// (polling with a deadline) until all <paramref name="requests"/> wait in the store (queued, or in the group whose
    /// transaction is blocked), then releases the lock and returns the requests' tasks.
    /// </summary>
    private async Task<IReadOnlyList<Task<AuditRecord>>> WhileAnotherWriterHoldsTheDatabaseAsync(SqliteAuditStore store, int requests, Func<IReadOnlyList<Task<AuditRecord>>> start)
    {
        await using var blocker = await RawAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        var tasks = start();
        var deadline = Stopwatch.StartNew();
        while (store.Unanswered < requests)
        {
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the requests should wait behind the blocked transaction");
            await Task.Yield();
        }

        await using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        return tasks;
    }

    private static async Task<AuditRecord> FirstAsync(Task<IReadOnlyList<AuditRecord>> records) => (await records)[0];

    private Task PoisonRowsWithReasonAsync(string reason) =>
        ExecuteRawAsync($"CREATE TRIGGER test_poison BEFORE INSERT ON audit_log WHEN NEW.reason = '{reason}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");

    [Fact]
    public async Task Append_Throughput_IsReported()
    {
        // Not an assertion: prints the rate so a change that slows appends down shows in the test log.
        var store = await StoreAsync();
        const int Rows = 1_000;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Rows; i++) await store.AppendAsync(FullEntry(), Ct);
        stopwatch.Stop();

        TestContext.Current.TestOutputHelper?.WriteLine($"SQLite: {Rows} sequential appends in {stopwatch.ElapsedMilliseconds} ms = {Rows / stopwatch.Elapsed.TotalSeconds:F0} appends/s (synchronous=FULL, WAL)");
        (await store.VerifyAsync(Ct)).RowsChecked.Should().Be(Rows);
    }

    private async Task<SqliteConnection> RawAsync()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync(Ct);
        return connection;
    }
}
