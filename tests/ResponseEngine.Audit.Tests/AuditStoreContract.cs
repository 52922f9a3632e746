using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The behaviour every audit store must have, written once: each implementation's test class inherits it and only says
/// how to make a store on fresh storage and how to reach that storage behind the store's back.
/// </summary>
public abstract partial class AuditStoreContract : IAsyncDisposable
{
    private readonly List<IAuditStore> _stores = [];

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567));

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>"sqlite" or "sqlserver": the folder under schemas/ whose migrations this store applies.</summary>
    protected abstract string Dialect { get; }

    /// <summary>A new store instance on this test's storage (every call in one test shares the same trail); not initialised.</summary>
    protected abstract IAuditStore NewStoreInstance(TimeProvider time);

    /// <summary>Runs SQL on the storage directly, as a person with a database client would; returns the first column of the first row.</summary>
    protected abstract Task<object?> ExecuteRawAsync(string sql);

    /// <summary>Changes one stored row's reason behind the store's back (getting past the append-only triggers).</summary>
    protected abstract Task AlterRowByHandAsync(long sequence, string reason);

    /// <summary>Deletes one stored row behind the store's back (getting past the append-only triggers).</summary>
    protected abstract Task DeleteRowByHandAsync(long sequence);

    /// <summary>The versions recorded in the migrations table.</summary>
    protected abstract Task<IReadOnlyList<long>> RecordedMigrationsAsync();

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<IAuditStore> StoreAsync()
    {
        var store = NewStoreInstance(Time);
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    protected static AuditEntry Entry(AuditStatus status = AuditStatus.Intended) => new()
    {
        RunId = "run-1",
        Host = "node-a",
        EngineVersion = "0.1.0",
        Actor = "svc-respond",
        Status = status,
    };

    protected static AuditEntry FullEntry() => new()
    {
        RunId = "run-7f3a",
        Host = "node-a.corp.example",
        EngineVersion = "0.1.0+abc123",
        Actor = "CORP\\svc-respond",
        Status = AuditStatus.Succeeded,
        DryRun = true,
        IdempotencyKey = "idem-5b1c",
        IntentSequence = 41,
        RuleId = "ad-weak-password-privileged",
        RuleFile = "rules/ad/ad-weak-password-privileged.yaml",
        RuleHash = "sha256:9c1d",
        RulesCommit = "0d1121f",
        FindingId = "finding-123",
        FindingSource = "defender",
        Provider = "ad",
        IdentityId = "S-1-5-21-1-2-3-1104",
        IdentityName = "alice@corp.example — Ålice Ünïcode 😀",
        Action = "revoke_group",
        Parameters = """{"groups":["Domain Admins"]}""",
        Destructive = true,
        Verdict = "execute",
        Guard = "lockout_protection",
        Reason = "line one\nline two, with 'quotes' and \"double quotes\"",
        Error = "",
        PriorState = """{"groups":["Domain Admins","Staff"]}""",
        Facts = """{"identity":{"privileged":true}}""",
    };

    [Fact]
    public async Task Initialize_Twice_IsIdempotentAndRecordsEachMigrationOnce()
    {
        var store = await StoreAsync();
        await store.InitializeAsync(Ct);
        await StoreAsync(); // a second instance on the same storage

        var expected = Directory.GetFiles(Path.Combine(RepoPaths.Root, "schemas", Dialect), "V*.sql")
            .Select(f => long.Parse(Path.GetFileName(f)[1..Path.GetFileName(f).IndexOf("__", StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        expected.Should().NotBeEmpty();
        (await RecordedMigrationsAsync()).Should().Equal(expected);
    }

    [Fact]
    public async Task Append_First_HasSequenceOneAndGenesisPreviousHash()
    {
        var store = await StoreAsync();

        var record = await store.AppendAsync(Entry(), Ct);

        record.Sequence.Should().Be(1);
        record.PreviousHash.Should().Be(AuditRecord.GenesisHash);
        record.Hash.Should().Be(AuditRecord.ComputeHash(1, record.RecordedAt, record.Entry, AuditRecord.GenesisHash));
    }

    [Fact]
    public async Task Append_Several_AssignsContiguousSequencesLinkedByHash()
    {
        var store = await StoreAsync();

        var records = new List<AuditRecord>();
        for (var i = 0; i < 5; i++)
        {
            records.Add(await store.AppendAsync(Entry() with { Reason = $"r{i}" }, Ct));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        records.Select(r => r.Sequence).Should().Equal(1, 2, 3, 4, 5);
        for (var i = 1; i < records.Count; i++)
        {
            records[i].PreviousHash.Should().Be(records[i - 1].Hash);
            records[i].Hash.Should().Be(AuditRecord.ComputeHash(records[i].Sequence, records[i].RecordedAt, records[i].Entry, records[i - 1].Hash));
        }
    }

    [Fact]
    public async Task Append_StampsRecordedAtFromTheTimeProviderToTheTick()
    {
        var store = await StoreAsync();
        Time.SetUtcNow(new DateTimeOffset(2027, 6, 30, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999));

        var appended = await store.AppendAsync(Entry(), Ct);
        var read = (await store.ReadAsync(new AuditQuery(), Ct)).Single();

        appended.RecordedAt.Should().Be(Time.GetUtcNow());
        read.RecordedAt.UtcTicks.Should().Be(Time.GetUtcNow().UtcTicks);
        read.RecordedAt.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task Append_EveryField_RoundTripsExactly()
    {
        var store = await StoreAsync();

        var appended = await store.AppendAsync(FullEntry(), Ct);
        var read = (await store.ReadAsync(new AuditQuery(), Ct)).Single();

        read.Should().Be(appended);
        read.Entry.Should().Be(FullEntry());
    }

    [Fact]
    public async Task Append_OptionalFieldsUnset_RoundTripAsNull()
    {
        var store = await StoreAsync();

        var appended = await store.AppendAsync(Entry(AuditStatus.BreakerOpened), Ct);
        var read = (await store.ReadAsync(new AuditQuery(), Ct)).Single();

        read.Should().Be(appended);
        read.Entry.RuleId.Should().BeNull();
        read.Entry.IntentSequence.Should().BeNull();
    }

    [Fact]
    public async Task Append_EveryStatus_IsStoredByItsSnakeCaseName()
    {
        var store = await StoreAsync();

        foreach (var status in Enum.GetValues<AuditStatus>()) await store.AppendAsync(Entry(status), Ct);

        (await store.ReadAsync(new AuditQuery(), Ct)).Select(r => r.Entry.Status).Should().Equal(Enum.GetValues<AuditStatus>());
        (await ExecuteRawAsync("SELECT status FROM audit_log WHERE sequence = 7")).Should().Be("dry_run");
        (await store.CountAsync(new AuditQuery { Statuses = [AuditStatus.DryRun] }, Ct)).Should().Be(1);
    }

    [Fact]
    public async Task Read_EachFilter_SelectsOnlyMatchingRows()
    {
        var store = await StoreAsync();
        var start = Time.GetUtcNow();
        await store.AppendAsync(Entry() with { RuleId = "r1", Action = "disable_user", Provider = "ad", IdentityId = "u1", IdempotencyKey = "k1", Destructive = true, Parameters = "{}" }, Ct);
        Time.Advance(TimeSpan.FromMinutes(10));
        await store.AppendAsync(Entry(AuditStatus.Succeeded) with { RunId = "run-2", RuleId = "r2", Action = "reset_password", Provider = "entra", IdentityId = "u2", IdempotencyKey = "k2", IntentSequence = 1 }, Ct);
        Time.Advance(TimeSpan.FromMinutes(10));
        await store.AppendAsync(Entry(AuditStatus.DryRun) with { DryRun = true, RuleId = "r1", Action = "disable_user", Provider = "okta", IdentityId = "u1", Parameters = """{"groups":["Contractors"]}""" }, Ct);

        async Task<long[]> Seq(AuditQuery q) => (await store.ReadAsync(q, Ct)).Select(r => r.Sequence).ToArray();

        (await Seq(new AuditQuery())).Should().Equal(1, 2, 3);
        (await Seq(new AuditQuery { AfterSequence = 1 })).Should().Equal(2, 3);
        (await Seq(new AuditQuery { BeforeSequence = 3 })).Should().Equal(1, 2);
        (await Seq(new AuditQuery { BeforeSequence = 3, Descending = true, Limit = 1 })).Should().Equal([2L], "keyset paging newest first: the page after row 3");
        (await Seq(new AuditQuery { AfterSequence = 1, BeforeSequence = 3 })).Should().Equal(2);
        (await Seq(new AuditQuery { Since = start.AddMinutes(10) })).Should().Equal(2, 3);
        (await Seq(new AuditQuery { Since = start.AddMinutes(10).AddTicks(1) })).Should().Equal(3);
        (await Seq(new AuditQuery { RunId = "run-2" })).Should().Equal(2);
        (await Seq(new AuditQuery { Statuses = [AuditStatus.Intended, AuditStatus.DryRun] })).Should().Equal(1, 3);
        (await Seq(new AuditQuery { Statuses = [] })).Should().BeEmpty();
        (await Seq(new AuditQuery { RuleId = "r1" })).Should().Equal(1, 3);
        (await Seq(new AuditQuery { Action = "reset_password" })).Should().Equal(2);
        (await Seq(new AuditQuery { Provider = "okta" })).Should().Equal(3);
        (await Seq(new AuditQuery { IdentityId = "u1" })).Should().Equal(1, 3);
        (await Seq(new AuditQuery { IdempotencyKey = "k2" })).Should().Equal(2);
        (await Seq(new AuditQuery { Parameters = "{}" })).Should().Equal(1);
        (await Seq(new AuditQuery { Parameters = """{"groups":["Contractors"]}""" })).Should().Equal(3);
        (await Seq(new AuditQuery { Parameters = """{"groups":["contractors"]}""" })).Should().BeEmpty("parameters match exactly, as canonical JSON");
        (await Seq(new AuditQuery { DryRun = true })).Should().Equal(3);
        (await Seq(new AuditQuery { DryRun = false })).Should().Equal(1, 2);
        (await Seq(new AuditQuery { Destructive = true })).Should().Equal(1);
        (await Seq(new AuditQuery { Destructive = false })).Should().Equal(2, 3);
        (await Seq(new AuditQuery { RuleId = "r1", Provider = "ad", Statuses = [AuditStatus.Intended] })).Should().Equal(1);
        (await Seq(new AuditQuery { RuleId = "nope" })).Should().BeEmpty();
    }

    [Fact]
    public async Task Read_OperatorFilters_IdentityByIdOrNameGuardAndUntil()
    {
        var store = await StoreAsync();
        var start = Time.GetUtcNow();
        await store.AppendAsync(Entry(AuditStatus.Skipped) with { IdentityId = "00u1", IdentityName = "alice@corp.example", Guard = "breaker" }, Ct);
        Time.Advance(TimeSpan.FromMinutes(10));
        await store.AppendAsync(Entry(AuditStatus.Skipped) with { IdentityId = "00u2", IdentityName = "bob@corp.example", Guard = "rate_limited" }, Ct);
        Time.Advance(TimeSpan.FromMinutes(10));
        await store.AppendAsync(Entry(AuditStatus.Succeeded) with { IdentityId = "alice@corp.example", IdentityName = "someone else" }, Ct);

        async Task<long[]> Seq(AuditQuery q) => (await store.ReadAsync(q, Ct)).Select(r => r.Sequence).ToArray();

        (await Seq(new AuditQuery { Identity = "alice@corp.example" })).Should().Equal(1, 3);
        (await Seq(new AuditQuery { Identity = "00u2" })).Should().Equal(2);
        (await Seq(new AuditQuery { Identity = "nobody" })).Should().BeEmpty();
        (await Seq(new AuditQuery { Guard = "breaker" })).Should().Equal(1);
        (await Seq(new AuditQuery { Guard = "rate_limited", Identity = "00u2" })).Should().Equal(2);
        (await Seq(new AuditQuery { Until = start.AddMinutes(10) })).Should().Equal([1L], "until is exclusive");
        (await Seq(new AuditQuery { Until = start.AddMinutes(10).AddTicks(1) })).Should().Equal(1, 2);
        (await Seq(new AuditQuery { Since = start.AddMinutes(10), Until = start.AddMinutes(20) })).Should().Equal(2);
        (await store.CountAsync(new AuditQuery { Identity = "alice@corp.example", Until = start.AddMinutes(30) }, Ct)).Should().Be(2);
    }

    [Fact]
    public async Task Read_DescendingWithLimit_ReturnsTheLastN()
    {
        var store = await StoreAsync();
        for (var i = 0; i < 6; i++) await store.AppendAsync(Entry(), Ct);

        (await store.ReadAsync(new AuditQuery { Descending = true, Limit = 2 }, Ct)).Select(r => r.Sequence).Should().Equal(6, 5);
        (await store.ReadAsync(new AuditQuery { Limit = 2 }, Ct)).Select(r => r.Sequence).Should().Equal(1, 2);
        (await store.ReadAsync(new AuditQuery { Limit = 0 }, Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task Count_MatchesReadAndIgnoresLimitAndOrder()
    {
        var store = await StoreAsync();
        for (var i = 0; i < 7; i++) await store.AppendAsync(Entry(i % 2 == 0 ? AuditStatus.Succeeded : AuditStatus.Skipped) with { RuleId = "r" }, Ct);

        (await store.CountAsync(new AuditQuery(), Ct)).Should().Be(7);
        (await store.CountAsync(new AuditQuery { Statuses = [AuditStatus.Succeeded], RuleId = "r", Limit = 1, Descending = true }, Ct)).Should().Be(4);
        (await store.CountAsync(new AuditQuery { Since = Time.GetUtcNow().AddTicks(1) }, Ct)).Should().Be(0);
    }

    [Fact]
    public async Task OpenIntents_AreIntendedRowsWithoutAnOutcome()
    {
        var store = await StoreAsync();
        var closedBySuccess = await store.AppendAsync(Entry(), Ct);
        var closedByTimeout = await store.AppendAsync(Entry(), Ct);
        var stillOpen = await store.AppendAsync(Entry(), Ct);
        var openWithNonOutcome = await store.AppendAsync(Entry(), Ct);
        await store.AppendAsync(Entry(AuditStatus.Succeeded) with { IntentSequence = closedBySuccess.Sequence }, Ct);
        await store.AppendAsync(Entry(AuditStatus.TimedOut) with { IntentSequence = closedByTimeout.Sequence }, Ct);
        await store.AppendAsync(Entry(AuditStatus.Held) with { IntentSequence = openWithNonOutcome.Sequence }, Ct);
        await store.AppendAsync(Entry(AuditStatus.Skipped), Ct);

        var open = await store.OpenIntentsAsync(Ct);

        open.Select(r => r.Sequence).Should().Equal(stillOpen.Sequence, openWithNonOutcome.Sequence);
        open[0].Should().Be(stillOpen);
    }

    [Fact]
    public async Task OpenIntents_EveryOutcomeStatus_ClosesTheIntent()
    {
        var store = await StoreAsync();
        foreach (var outcome in new[] { AuditStatus.Succeeded, AuditStatus.Failed, AuditStatus.Noop, AuditStatus.TimedOut })
        {
            var intent = await store.AppendAsync(Entry(), Ct);
            await store.AppendAsync(Entry(outcome) with { IntentSequence = intent.Sequence }, Ct);
        }

        (await store.OpenIntentsAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task Append_ManyStoresAtOnce_GiveAContiguousVerifiableChain()
    {
        const int Writers = 8;
        const int Each = 50;
        var stores = new List<IAuditStore>();
        for (var i = 0; i < Writers; i++) stores.Add(await StoreAsync());

        var appended = await Task.WhenAll(stores.Select((store, w) => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (var i = 0; i < Each; i++) mine.Add((await store.AppendAsync(Entry() with { Host = $"writer-{w}", Reason = $"{i}" }, Ct)).Sequence);
            return mine;
        })));

        appended.SelectMany(s => s).Order().Should().Equal(Enumerable.Range(1, Writers * Each).Select(i => (long)i));
        appended.Should().AllSatisfy(s => s.Should().BeInAscendingOrder());
        var verification = await stores[0].VerifyAsync(Ct);
        verification.Should().Be(new ChainVerification(true, Writers * Each, null, null));
    }

    [Fact]
    public async Task Append_ManyCallersAtOnceOnOneStore_EachGetsTheRowThatIsStored()
    {
        const int Callers = 200;
        var store = await StoreAsync();

        var records = await Task.WhenAll(Enumerable.Range(0, Callers).Select(i => Task.Run(() => store.AppendAsync(Entry() with { Reason = $"caller-{i}" }, Ct))));

        records.Select(r => r.Sequence).Order().Should().Equal(Enumerable.Range(1, Callers).Select(i => (long)i));
        records.Select(r => r.Entry.Reason).Should().OnlyHaveUniqueItems();
        var stored = (await store.ReadAsync(new AuditQuery(), Ct)).ToDictionary(r => r.Sequence);
        stored.Should().HaveCount(Callers);
        foreach (var record in records)
        {
            stored[record.Sequence].Should().BeEquivalentTo(record, "caller '{0}' was told its row is #{1}", record.Entry.Reason, record.Sequence);
        }

        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, Callers, null, null));
    }

    [Fact]
    public async Task Lock_HeldByOneStore_AnotherTimesOut()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();

        await using var held = await a.LockAsync("lockout", TimeSpan.Zero, Ct);

        await Invoking(() => b.LockAsync("lockout", TimeSpan.Zero, Ct)).Should().ThrowAsync<TimeoutException>().WithMessage("*lockout*");
        await Invoking(() => a.LockAsync("lockout", TimeSpan.Zero, Ct)).Should().ThrowAsync<TimeoutException>("the lock is exclusive even within one store");
    }

    [Fact]
    public async Task Lock_Released_CanBeTakenByAnother()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();

        var held = await a.LockAsync("rate", TimeSpan.Zero, Ct);
        await held.DisposeAsync();
        await held.DisposeAsync(); // disposing twice is harmless

        await using var second = await b.LockAsync("rate", TimeSpan.Zero, Ct);
    }

    [Fact]
    public async Task Lock_Waiting_IsGrantedWhenTheHolderReleases()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();
        var held = await a.LockAsync("breaker", TimeSpan.Zero, Ct);

        var waiting = b.LockAsync("breaker", TimeSpan.FromMinutes(10), Ct);
        await held.DisposeAsync();

        await using var granted = await CompleteAsync(waiting);
    }

    [Fact]
    public async Task Lock_DifferentNames_DoNotExcludeEachOther()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();

        await using var one = await a.LockAsync("lockout", TimeSpan.Zero, Ct);
        await using var other = await b.LockAsync("rate-limit", TimeSpan.Zero, Ct);
    }

    [Fact]
    public async Task Lock_Holder_CanAppendAndSoCanOthers()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();

        await using (await a.LockAsync("lockout", TimeSpan.Zero, Ct))
        {
            (await a.AppendAsync(Entry(), Ct)).Sequence.Should().Be(1);
            (await b.AppendAsync(Entry(), Ct)).Sequence.Should().Be(2);
            (await a.AppendAsync(Entry(), Ct)).Sequence.Should().Be(3);
        }

        (await a.VerifyAsync(Ct)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Lock_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        var a = await StoreAsync();
        var b = await StoreAsync();
        await using var held = await a.LockAsync("lockout", TimeSpan.Zero, Ct);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var waiting = b.LockAsync("lockout", TimeSpan.FromMinutes(10), cancellation.Token);
        await cancellation.CancelAsync();

        await Invoking(() => CompleteAsync(waiting)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Verify_EmptyTrail_IsIntact()
    {
        var store = await StoreAsync();

        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, 0, null, null));
    }

    [Fact]
    public async Task Verify_UntouchedTrail_ChecksEveryRow()
    {
        var store = await StoreAsync();
        for (var i = 0; i < 25; i++)
        {
            await store.AppendAsync(i == 3 ? FullEntry() : Entry(), Ct);
            Time.Advance(TimeSpan.FromMilliseconds(1.5));
        }

        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, 25, null, null));
    }

    [Fact]
    public async Task Verify_RowAlteredByHand_ReportsItsSequence()
    {
        var store = await StoreAsync();
        for (var i = 0; i < 5; i++) await store.AppendAsync(Entry() with { Reason = "as written" }, Ct);

        await AlterRowByHandAsync(3, "rewritten");
        var verification = await store.VerifyAsync(Ct);

        verification.Intact.Should().BeFalse();
        verification.FirstBadSequence.Should().Be(3);
        verification.RowsChecked.Should().Be(3);
        verification.Problem.Should().Contain("row 3");
    }

    [Fact]
    public async Task Verify_RowDeletedByHand_ReportsTheGap()
    {
        var store = await StoreAsync();
        for (var i = 0; i < 5; i++) await store.AppendAsync(Entry(), Ct);

        await DeleteRowByHandAsync(2);
        var verification = await store.VerifyAsync(Ct);

        verification.Intact.Should().BeFalse();
        verification.FirstBadSequence.Should().Be(2);
        verification.Problem.Should().Contain("missing");
    }

    [Fact]
    public async Task AuditTable_UpdateByHand_IsRefusedByTheTrigger()
    {
        var store = await StoreAsync();
        await store.AppendAsync(Entry(), Ct);

        await Invoking(() => ExecuteRawAsync("UPDATE audit_log SET reason = 'x' WHERE sequence = 1")).Should().ThrowAsync<Exception>().WithMessage("*append-only*");
        (await store.VerifyAsync(Ct)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task AuditTable_DeleteByHand_IsRefusedByTheTrigger()
    {
        var store = await StoreAsync();
        await store.AppendAsync(Entry(), Ct);

        await Invoking(() => ExecuteRawAsync("DELETE FROM audit_log WHERE sequence = 1")).Should().ThrowAsync<Exception>().WithMessage("*append-only*");
        (await store.CountAsync(new AuditQuery(), Ct)).Should().Be(1);
    }

    [Fact]
    public async Task Append_AfterReopening_ContinuesTheChain()
    {
        var first = await StoreAsync();
        await first.AppendAsync(Entry(), Ct);
        await first.DisposeAsync();

        var second = await StoreAsync();
        var record = await second.AppendAsync(Entry(), Ct);

        record.Sequence.Should().Be(2);
        (await second.VerifyAsync(Ct)).Intact.Should().BeTrue();
    }

    /// <summary>
    /// Awaits a lock acquisition that may be polling on the fake clock: moves the clock on in small steps until the task
    /// completes (bounded, so a broken lock fails the test instead of hanging it).
    /// </summary>
    protected async Task<T> CompleteAsync<T>(Task<T> task)
    {
        for (var i = 0; i < 2_000 && !task.IsCompleted; i++)
        {
            Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(task, Task.Delay(10, Ct));
        }

        return await task;
    }

    private static Func<Task> Invoking(Func<Task> action) => action;
}
