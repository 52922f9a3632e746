using System.Collections.Concurrent;
using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.Tests;

/// <summary>The inbox of `respond serve`, written once for both stores: dedupe on (source, id), leasing, completion, cursors.</summary>
public abstract partial class AuditStoreContract
{
    private static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(5);

    private string InboxTable => Dialect == "sqlserver" ? "dbo.inbox" : "inbox";

    protected async Task<IFindingInbox> InboxAsync() => (IFindingInbox)await StoreAsync();

    private static InboxEntry Finding(string id, string source = "webhook") =>
        new(source, id, $$"""{"id":"{{id}}","source":"{{source}}"}""", "test");

    [Fact]
    public async Task InboxAdd_Duplicate_IsAcceptedOnceAcrossAndWithinBatches()
    {
        var inbox = await InboxAsync();

        (await inbox.AddAsync([Finding("a"), Finding("b")], Ct)).Should().Equal(true, true);
        (await inbox.AddAsync([Finding("b"), Finding("c"), Finding("c"), Finding("b", "okta")], Ct)).Should().Equal(false, true, false, true);

        var all = await inbox.ReceivedSinceAsync(Time.GetUtcNow().AddDays(-1), Ct);
        all.Select(i => (i.Source, i.FindingId)).Should().Equal(("webhook", "a"), ("webhook", "b"), ("webhook", "c"), ("okta", "b"));
        all.Should().OnlyContain(i => i.ReceivedAt == Time.GetUtcNow() && i.Origin == "test" && i.Attempts == 0);
        all[0].Payload.Should().Be("""{"id":"a","source":"webhook"}""");
    }

    [Fact]
    public async Task InboxLease_HandsEachItemToOneOwnerOldestFirst()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([.. Enumerable.Range(1, 5).Select(i => Finding($"f{i}"))], Ct);

        var first = await inbox.LeaseAsync("node-a", 3, LeaseTime, Ct);
        var second = await inbox.LeaseAsync("node-b", 10, LeaseTime, Ct);
        var third = await inbox.LeaseAsync("node-c", 10, LeaseTime, Ct);

        first.Select(i => i.FindingId).Should().Equal("f1", "f2", "f3");
        second.Select(i => i.FindingId).Should().Equal("f4", "f5");
        third.Should().BeEmpty();
        first.Concat(second).Should().OnlyContain(i => i.Attempts == 1);
        (await inbox.CountAsync(Ct)).Should().Be(new InboxCounts(0, 5, 0));
    }

    [Fact]
    public async Task InboxLease_OwnerDied_ItemIsLeasedAgainAfterExpiry()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a")], Ct);
        await inbox.LeaseAsync("node-a", 10, LeaseTime, Ct);

        Time.Advance(LeaseTime - TimeSpan.FromSeconds(1));
        (await inbox.LeaseAsync("node-b", 10, LeaseTime, Ct)).Should().BeEmpty("node-a's lease is still live");
        Time.Advance(TimeSpan.FromSeconds(2));
        var again = await inbox.LeaseAsync("node-b", 10, LeaseTime, Ct);

        again.Should().ContainSingle().Which.Attempts.Should().Be(2);
    }

    [Fact]
    public async Task InboxComplete_ItemIsNeverLeasedAgainAndCompletesOnce()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a"), Finding("b")], Ct);
        var leased = await inbox.LeaseAsync("node-a", 10, LeaseTime, Ct);

        (await inbox.CompleteAsync(leased[0].Sequence, "node-a", "run r1: succeeded 1", Ct)).Should().BeTrue();
        (await inbox.CompleteAsync(leased[0].Sequence, "node-b", "run r2: skipped 1", Ct)).Should().BeFalse();
        Time.Advance(LeaseTime * 2);
        var again = await inbox.LeaseAsync("node-b", 10, LeaseTime, Ct);

        again.Select(i => i.FindingId).Should().Equal("b");
        (await inbox.CountAsync(Ct)).Should().Be(new InboxCounts(0, 1, 1));
    }

    [Fact]
    public async Task InboxRelease_GivesBackOnlyTheOwnersUncompletedLeases()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a"), Finding("b"), Finding("c")], Ct);
        var mine = await inbox.LeaseAsync("node-a", 2, LeaseTime, Ct);
        await inbox.LeaseAsync("node-b", 1, LeaseTime, Ct);
        await inbox.CompleteAsync(mine[0].Sequence, "node-a", "done", Ct);

        (await inbox.ReleaseAsync("node-a", Ct)).Should().Be(1);

        (await inbox.LeaseAsync("node-c", 10, LeaseTime, Ct)).Select(i => i.FindingId).Should().Equal("b");
    }

    [Fact]
    public async Task InboxRequeue_OpensACompletedItemOnce()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a")], Ct);
        var leased = await inbox.LeaseAsync("node-a", 1, LeaseTime, Ct);
        await inbox.CompleteAsync(leased[0].Sequence, "node-a", "done", Ct);

        (await inbox.RequeueAsync("webhook", "a", Ct)).Should().BeTrue();
        (await inbox.RequeueAsync("webhook", "a", Ct)).Should().BeFalse("it is open already");
        (await inbox.RequeueAsync("webhook", "nope", Ct)).Should().BeFalse();

        (await inbox.LeaseAsync("node-b", 1, LeaseTime, Ct)).Should().ContainSingle().Which.Attempts.Should().Be(2);
    }

    [Fact]
    public async Task InboxLease_ManyInstancesAtOnce_NeverLeaseTheSameItemTwice()
    {
        var inboxes = new List<IFindingInbox>();
        for (var i = 0; i < 4; i++) inboxes.Add(await InboxAsync());
        await inboxes[0].AddAsync([.. Enumerable.Range(1, 120).Select(i => Finding($"f{i:000}"))], Ct);
        var leased = new ConcurrentBag<(string Owner, string Id)>();

        await Task.WhenAll(inboxes.Select((inbox, n) => Task.Run(async () =>
        {
            while (true)
            {
                var batch = await inbox.LeaseAsync($"node-{n}", 3, LeaseTime, Ct);
                if (batch.Count == 0) return;
                foreach (var item in batch) leased.Add(($"node-{n}", item.FindingId));
            }
        }, Ct)));

        leased.Select(l => l.Id).Should().OnlyHaveUniqueItems().And.HaveCount(120);
    }

    [Fact]
    public async Task Inbox_ReceivedRecord_CannotBeChangedOrRemovedByHand()
    {
        var inbox = await InboxAsync();
        await inbox.AddAsync([Finding("a")], Ct);

        var change = () => ExecuteRawAsync($"UPDATE {InboxTable} SET payload = N'{{}}' WHERE finding_id = N'a'");
        await change.Should().ThrowAsync<Exception>();
        if (Dialect == "sqlite")
        {
            var remove = () => ExecuteRawAsync("DELETE FROM inbox");
            await remove.Should().ThrowAsync<Exception>();
        }

        (await inbox.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Should().ContainSingle().Which.Payload.Should().Contain("\"a\"");
    }

    [Fact]
    public async Task InboxCursor_IsNullFirstThenTheLastSaved()
    {
        var inbox = await InboxAsync();

        (await inbox.ReadCursorAsync("okta:logs", Ct)).Should().BeNull();
        await inbox.SaveCursorAsync("okta:logs", "https://example.okta.com/api/v1/logs?after=1", Ct);
        await inbox.SaveCursorAsync("okta:logs", "https://example.okta.com/api/v1/logs?after=2", Ct);
        await inbox.SaveCursorAsync("graph:alerts", "2026-03-01T12:00:00Z", Ct);

        (await inbox.ReadCursorAsync("okta:logs", Ct)).Should().Be("https://example.okta.com/api/v1/logs?after=2");
        (await ((IFindingInbox)await StoreAsync()).ReadCursorAsync("graph:alerts", Ct)).Should().Be("2026-03-01T12:00:00Z");
    }
}
