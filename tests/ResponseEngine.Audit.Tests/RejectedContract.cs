using ResponseEngine.Inbox;

namespace ResponseEngine.Audit.Tests;

/// <summary>The quarantine beside the inbox, written once for both stores: kept once per record, listed, resubmitted once, never changed.</summary>
public abstract partial class AuditStoreContract
{
    private async Task<IRejectedRecords> QuarantineAsync() => (IRejectedRecords)await StoreAsync();

    private static RejectedRecord Bad(string key, string payload = "{\"id\":\"\\ud800\"}") => new("folder:drop", key, payload, "RE0104 not valid Unicode");

    [Fact]
    public async Task Reject_SameRecordAgain_IsKeptOnceAndListedOldestFirst()
    {
        var quarantine = await QuarantineAsync();

        (await quarantine.RejectAsync([Bad("a.ndjson:1:1"), Bad("a.ndjson:2:1")], Ct)).Should().Equal(true, true);
        (await quarantine.RejectAsync([Bad("a.ndjson:1:1"), Bad("a.ndjson:1:1", "{other}")], Ct)).Should().Equal(false, true);

        var listed = await quarantine.ListRejectedAsync(includeResubmitted: false, Ct);
        listed.Select(r => (r.Key, r.Payload)).Should().Equal(("a.ndjson:1:1", "{\"id\":\"\\ud800\"}"), ("a.ndjson:2:1", "{\"id\":\"\\ud800\"}"), ("a.ndjson:1:1", "{other}"));
        listed.Should().OnlyContain(r => r.Origin == "folder:drop" && r.Reason.Contains("RE0104") && r.RejectedAt == Time.GetUtcNow() && r.ResubmittedAt == null);
        (await quarantine.GetRejectedAsync(listed[1].Id, Ct)).Should().Be(listed[1]);
        (await quarantine.GetRejectedAsync(listed[2].Id + 1000, Ct)).Should().BeNull();
    }

    [Fact]
    public async Task Resubmit_AddsTheFindingAndMarksTheRecordOnce()
    {
        var quarantine = await QuarantineAsync();
        var inbox = await InboxAsync();
        await quarantine.RejectAsync([Bad("a.ndjson:1:1")], Ct);
        var id = (await quarantine.ListRejectedAsync(false, Ct)).Single().Id;
        var entry = new InboxEntry("itdr", "f-1", """{"id":"f-1","source":"itdr"}""", "resubmitted:folder:drop");

        (await quarantine.ResubmitAsync(id, [entry], Ct)).Should().BeTrue();
        (await quarantine.ResubmitAsync(id, [entry], Ct)).Should().BeFalse("a record is resubmitted once");
        (await quarantine.ResubmitAsync(id + 1000, [entry], Ct)).Should().BeNull();

        (await inbox.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => (i.Source, i.FindingId, i.Origin)).Should().Equal(("itdr", "f-1", "resubmitted:folder:drop"));
        (await quarantine.ListRejectedAsync(false, Ct)).Should().BeEmpty();
        (await quarantine.ListRejectedAsync(true, Ct)).Single().ResubmittedAt.Should().Be(Time.GetUtcNow());
    }

    [Fact]
    public async Task Rejected_ChangeOrDeleteByHand_IsRefused()
    {
        var quarantine = await QuarantineAsync();
        await quarantine.RejectAsync([Bad("a.ndjson:1:1")], Ct);
        var table = Dialect == "sqlserver" ? "dbo.inbox_rejected" : "inbox_rejected";

        await Invoking(() => ExecuteRawAsync($"UPDATE {table} SET reason = 'fine' WHERE id = 1")).Should().ThrowAsync<Exception>().WithMessage("*never changed*");
        if (Dialect != "sqlserver")
        {
            await Invoking(() => ExecuteRawAsync($"DELETE FROM {table} WHERE id = 1")).Should().ThrowAsync<Exception>().WithMessage("*never removed*");
        }
    }
}
