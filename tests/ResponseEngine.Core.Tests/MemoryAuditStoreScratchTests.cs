using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;

namespace ResponseEngine.Core.Tests;

/// <summary>A plan's scratch store (KeepDryRunRows = false): dry-run rows take a sequence, are neither kept nor hashed, and the kept rows stay one chain.</summary>
public class MemoryAuditStoreScratchTests
{
    private static AuditEntry Row(AuditStatus status, bool dryRun) => new()
    {
        RunId = "r",
        Host = "h",
        EngineVersion = "v",
        Actor = "a",
        Status = status,
        DryRun = dryRun,
        IdentityId = "u1",
        Provider = "ad",
        Action = "disable_user",
    };

    [Fact]
    public async Task Append_DryRunRowsBetweenKeptRows_SequencesContinueAndTheKeptChainVerifies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = new MemoryAuditStore(new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture)))
        {
            KeepDryRunRows = false,
        };

        (await store.OpenIntentsAsync(ct)).Should().BeEmpty();
        (await store.ReadAsync(new AuditQuery { IdentityId = "u1" }, ct)).Should().BeEmpty();
        var first = await store.AppendAsync(Row(AuditStatus.Intended, dryRun: false), ct);
        var dry = await store.AppendManyAsync([Row(AuditStatus.DryRun, dryRun: true), Row(AuditStatus.Skipped, dryRun: true)], ct);
        var last = await store.AppendAsync(Row(AuditStatus.BreakerOpened, dryRun: false), ct);

        dry.Select(r => r.Sequence).Should().Equal(2, 3);
        last.Sequence.Should().Be(4);
        store.Rows.Select(r => r.Sequence).Should().Equal(1, 4);
        last.PreviousHash.Should().Be(first.Hash, "the chain runs through the rows kept");
        (await store.VerifyAsync(ct)).Intact.Should().BeTrue();
        (await store.OpenIntentsAsync(ct)).Select(r => r.Sequence).Should().Equal(1);
        (await store.ReadAsync(new AuditQuery { IdentityId = "u1", DryRun = false }, ct)).Should().HaveCount(2);
        (await store.CountAsync(new AuditQuery { DryRun = true }, ct)).Should().Be(0);
    }
}
