using System.Text;

namespace ResponseEngine.Audit.Tests;

/// <summary>The signed anchor of the tail: what the key holder can detect that the hash chain alone cannot.</summary>
public abstract partial class AuditStoreContract
{
    private static readonly AuditAnchorKey Key = new(Encoding.UTF8.GetBytes("test-audit-key-0123456789-abcdefghijklmnop"));
    private static readonly AuditAnchorKey OtherKey = new(Encoding.UTF8.GetBytes("another-audit-key-0123456789-abcdefghijklm"));

    private async Task<IAuditStore> KeyedStoreAsync(AuditAnchorKey? key)
    {
        var store = await StoreAsync();
        ((IAnchoredAuditStore)store).AnchorKey = key;
        return store;
    }

    private static async Task AppendAsync(IAuditStore store, int count)
    {
        for (var i = 0; i < count; i++) await store.AppendAsync(Entry() with { Reason = $"r{i}" }, Ct);
    }

    [Fact]
    public async Task Anchor_KeySet_SignsEveryAppendsTailInItsTransaction()
    {
        var store = await KeyedStoreAsync(Key);
        (await AuditAnchorVerifier.VerifyAsync(store, Key, Ct)).Holds.Should().BeTrue("an empty trail needs no anchor");

        await AppendAsync(store, 5);

        var anchor = await ((IAnchoredAuditStore)store).ReadAnchorAsync(Ct);
        anchor.Should().NotBeNull();
        anchor!.Sequence.Should().Be(5);
        anchor.KeyId.Trim().Should().Be(Key.KeyId);
        var last = (await store.ReadAsync(new AuditQuery { Descending = true, Limit = 1 }, Ct))[0];
        anchor.Hash.Trim().Should().Be(last.Hash.Trim());
        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);
        check.Holds.Should().BeTrue(check.Message);
        check.AnchoredSequence.Should().Be(5);
    }

    [Fact]
    public async Task Anchor_AppendMany_SignsTheLastRowOfTheBatch()
    {
        var store = await KeyedStoreAsync(Key);
        await AppendAsync(store, 1);

        var batch = await store.AppendManyAsync([Entry(), Entry(AuditStatus.Succeeded), Entry(AuditStatus.Skipped)], Ct);

        var anchor = await ((IAnchoredAuditStore)store).ReadAnchorAsync(Ct);
        anchor!.Sequence.Should().Be(batch[^1].Sequence);
        anchor.Hash.Trim().Should().Be(batch[^1].Hash.Trim());
        (await AuditAnchorVerifier.VerifyAsync(store, Key, Ct)).Holds.Should().BeTrue();
    }

    [Fact]
    public async Task Anchor_LastRowDeletedByHand_ChainStillIntactButTheAnchorReportsTruncation()
    {
        var store = await KeyedStoreAsync(Key);
        await AppendAsync(store, 6);

        await DeleteRowByHandAsync(6);

        (await store.VerifyAsync(Ct)).Intact.Should().BeTrue("rows 1–5 still form a valid chain: this is what the anchor is for");
        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);
        check.Holds.Should().BeFalse();
        check.Message.Should().Contain("truncated").And.Contain("#6").And.Contain("#5");
    }

    [Fact]
    public async Task Anchor_RewrittenByHandWithoutTheKey_IsReportedAsForged()
    {
        var store = await KeyedStoreAsync(Key);
        await AppendAsync(store, 6);
        var row4 = (await store.ReadAsync(new AuditQuery { AfterSequence = 3, Limit = 1 }, Ct))[0];
        await DeleteRowByHandAsync(6);
        await ExecuteRawAsync("DELETE FROM audit_log WHERE sequence = 5");

        // Someone with write access cuts the tail and points the anchor at the new last row, reusing the old signature.
        await ExecuteRawAsync($"UPDATE audit_anchor SET sequence = 4, hash = '{row4.Hash.Trim()}' WHERE id = 1");

        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);
        check.Holds.Should().BeFalse();
        check.Message.Should().Contain("altered or forged");
    }

    [Fact]
    public async Task Anchor_ReSignedWithAnotherKey_IsReportedAsAnotherKey()
    {
        var store = await KeyedStoreAsync(OtherKey);
        await AppendAsync(store, 3);

        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);

        check.Holds.Should().BeFalse();
        check.Message.Should().Contain("another key").And.Contain(OtherKey.KeyId).And.Contain(Key.KeyId);
    }

    [Fact]
    public async Task Anchor_RowsAppendedWithoutTheKey_AreReportedAsNotCovered()
    {
        var store = await KeyedStoreAsync(Key);
        await AppendAsync(store, 3);
        ((IAnchoredAuditStore)store).AnchorKey = null;
        await AppendAsync(store, 2);

        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);

        (await store.VerifyAsync(Ct)).Intact.Should().BeTrue();
        check.Holds.Should().BeFalse();
        check.Message.Should().Contain("#4–#5 are not covered");
    }

    [Fact]
    public async Task Anchor_NoKey_WritesNoAnchorAndVerifyWithAKeyReportsItMissing()
    {
        var store = await KeyedStoreAsync(null);
        await AppendAsync(store, 2);

        (await ((IAnchoredAuditStore)store).ReadAnchorAsync(Ct)).Should().BeNull();
        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);
        check.Holds.Should().BeFalse();
        check.Message.Should().Contain("no anchor");
    }

    [Fact]
    public async Task Anchor_KeyHolderAppendsAfterTheCut_StillReportsTheRewrittenRow()
    {
        var store = await KeyedStoreAsync(Key);
        await AppendAsync(store, 4);
        var anchored = await ((IAnchoredAuditStore)store).ReadAnchorAsync(Ct);

        // Cut #4 and append a different #4 without the key: the stored anchor still names the old #4's hash.
        await DeleteRowByHandAsync(4);
        ((IAnchoredAuditStore)store).AnchorKey = null;
        await AppendAsync(store, 1);

        var check = await AuditAnchorVerifier.VerifyAsync(store, Key, Ct);
        check.Holds.Should().BeFalse();
        check.AnchoredSequence.Should().Be(anchored!.Sequence);
        check.Message.Should().Contain("is not the row the anchor signed");
    }
}
