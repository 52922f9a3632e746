using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Notifications;

namespace ResponseEngine.Core.Tests;

/// <summary>The run's audit view tells the notification sink about exactly the committed rows a person should hear about.</summary>
public sealed class NotifyingAuditStoreTests
{
    private sealed class Sink : INotificationSink
    {
        public ConcurrentQueue<Notification> Published { get; } = new();

        public void Publish(Notification notification) => Published.Enqueue(notification);
    }

    private static AuditEntry Row(AuditStatus status) => new()
    {
        RunId = "run-1", Host = "node-a", EngineVersion = "0.1.0", Actor = "svc", Status = status,
        RuleId = "rule-a", Provider = "okta", IdentityId = "00u1", IdentityName = "alice@corp.example", Action = "disable_user",
    };

    [Fact]
    public async Task Append_RowsAPersonShouldHearAbout_ArePublishedOnceCommittedAndNoOthers()
    {
        var sink = new Sink();
        await using var inner = new MemoryAuditStore(new FakeTimeProvider());
        var store = new NotifyingAuditStore(inner, sink);

        await store.AppendAsync(Row(AuditStatus.Intended), TestContext.Current.CancellationToken);
        await store.AppendAsync(Row(AuditStatus.Failed) with { IntentSequence = 1, Error = "E0000006 forbidden" }, TestContext.Current.CancellationToken);
        await store.AppendManyAsync(
        [
            Row(AuditStatus.Succeeded), Row(AuditStatus.Noop), Row(AuditStatus.Skipped) with { Guard = "rate_limited" },
            Row(AuditStatus.Held) with { Guard = "breaker" }, Row(AuditStatus.Held) with { Guard = "approval" },
            Row(AuditStatus.TimedOut) with { IntentSequence = 1 }, Row(AuditStatus.Failed) with { DryRun = true },
            Row(AuditStatus.BreakerOpened) with { Action = null, Provider = null, IdentityId = null, IdentityName = null, Guard = "breaker" },
        ], TestContext.Current.CancellationToken);

        sink.Published.Select(n => (n.Event, n.AuditSequence)).Should().Equal(
            (NotificationEvent.ActionFailed, 2L), (NotificationEvent.ApprovalNeeded, 7L), (NotificationEvent.ActionFailed, 8L), (NotificationEvent.BreakerOpened, 10L));
        var failed = sink.Published.First();
        failed.Title.Should().Be("Action failed: disable_user on okta alice@corp.example");
        failed.Facts.Should().Contain(new KeyValuePair<string, string>("error", "E0000006 forbidden"));
        (await inner.CountAsync(new AuditQuery(), TestContext.Current.CancellationToken)).Should().Be(10, "the store itself is untouched");
    }
}
