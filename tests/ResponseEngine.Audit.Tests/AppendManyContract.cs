using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The batch writes the executor and the inbox processor use (one transaction for the rows of a guard phase, one for the
/// completions of an inbox batch), written once for both stores.
/// </summary>
public abstract partial class AuditStoreContract
{
    [Fact]
    public async Task AppendMany_LinksTheRowsInOrderAfterTheTailWithOneTime()
    {
        var store = await StoreAsync();
        var first = await store.AppendAsync(Entry() with { Reason = "first" }, Ct);
        Time.Advance(TimeSpan.FromSeconds(3));

        var records = await store.AppendManyAsync([Entry(AuditStatus.Skipped) with { Reason = "a" }, Entry() with { Reason = "b" }, Entry(AuditStatus.Held) with { Reason = "c" }], Ct);

        records.Select(r => r.Sequence).Should().Equal(2, 3, 4);
        records.Select(r => (r.Entry.Status, r.Entry.Reason)).Should().Equal((AuditStatus.Skipped, "a"), (AuditStatus.Intended, "b"), (AuditStatus.Held, "c"));
        records[0].PreviousHash.Should().Be(first.Hash);
        records.Zip(records.Skip(1)).Should().AllSatisfy(p => p.Second.PreviousHash.Should().Be(p.First.Hash));
        records.Should().OnlyContain(r => r.RecordedAt == Time.GetUtcNow());
        (await store.ReadAsync(new AuditQuery { AfterSequence = 1 }, Ct)).Should().BeEquivalentTo(records, o => o.WithStrictOrdering());
        (await store.OpenIntentsAsync(Ct)).Select(r => r.Sequence).Should().Equal(1, 3);
        (await store.VerifyAsync(Ct)).Should().Be(new ChainVerification(true, 4, null, null));
    }

    [Fact]
    public async Task AppendMany_Empty_StoresNothing()
    {
        var store = await StoreAsync();

        (await store.AppendManyAsync([], Ct)).Should().BeEmpty();

        (await store.CountAsync(new AuditQuery(), Ct)).Should().Be(0);
    }

    [Fact]
    public async Task AppendMany_ManyStoresAtOnce_EachBatchIsContiguousAndTheChainVerifies()
    {
        const int Writers = 4;
        const int Batches = 10;
        const int Size = 8;
        var stores = new List<IAuditStore>();
        for (var i = 0; i < Writers; i++) stores.Add(await StoreAsync());

        var batches = await Task.WhenAll(stores.Select((store, w) => Task.Run(async () =>
        {
            var mine = new List<IReadOnlyList<AuditRecord>>();
            for (var b = 0; b < Batches; b++)
            {
                mine.Add(await store.AppendManyAsync([.. Enumerable.Range(0, Size).Select(i => Entry() with { Host = $"writer-{w}", Reason = $"{b}.{i}" })], Ct));
                await store.AppendAsync(Entry(AuditStatus.Succeeded) with { Host = $"writer-{w}", Reason = $"{b} single" }, Ct);
            }

            return mine;
        })));

        foreach (var batch in batches.SelectMany(b => b))
        {
            batch.Select(r => r.Sequence).Should().Equal(Enumerable.Range((int)batch[0].Sequence, Size).Select(i => (long)i), "nothing comes between the rows of one transaction");
            batch.Select(r => r.Entry.Host).Should().OnlyContain(h => h == batch[0].Entry.Host);
        }

        (await stores[0].VerifyAsync(Ct)).Should().Be(new ChainVerification(true, Writers * Batches * (Size + 1), null, null));
    }

    [Fact]
    public async Task InboxCompleteMany_CompletesEachItemOnceInOneCall()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a"), Finding("b"), Finding("c")], Ct);
        var leased = await inbox.LeaseAsync("node-a", 10, LeaseTime, Ct);
        (await inbox.CompleteAsync(leased[2].Sequence, "node-b", "run r0: succeeded 1", Ct)).Should().BeTrue();

        var completed = await inbox.CompleteManyAsync(
            [new InboxCompletion(leased[0].Sequence, "run r1: succeeded 1"), new InboxCompletion(leased[1].Sequence, "run r1: no rule matched"), new InboxCompletion(leased[2].Sequence, "run r1: skipped 1")],
            "node-a", Ct);

        completed.Should().Equal(true, true, false);
        (await inbox.CompleteManyAsync([], "node-a", Ct)).Should().BeEmpty();
        Time.Advance(LeaseTime * 2);
        (await inbox.LeaseAsync("node-b", 10, LeaseTime, Ct)).Should().BeEmpty("every item is completed");
        (await inbox.CountAsync(Ct)).Should().Be(new InboxCounts(0, 0, 3));
    }
}
