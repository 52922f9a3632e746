using System.Collections.Immutable;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;

namespace ResponseEngine.Notifications;

/// <summary>
/// One event for a person, as data: the receivers' formats (Teams card, Slack blocks, signed JSON) are built from it, and
/// each escapes the text, because much of it (names, reasons, errors) comes from findings and directories.
/// </summary>
public sealed record Notification(NotificationEvent Event, DateTimeOffset At, string Title, ImmutableArray<KeyValuePair<string, string>> Facts)
{
    /// <summary>The audit row the event is about, when there is one (`respond audit show N`).</summary>
    public long? AuditSequence { get; init; }

    public string? RunId { get; init; }

    public string? Host { get; init; }

    /// <summary>The notification for an audit row a person should hear about, or null for every other row.</summary>
    public static Notification? ForAuditRow(AuditRecord row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var e = row.Entry;
        var target = e.Provider is null ? null : $"{e.Provider} {e.IdentityName ?? e.IdentityId}";
        (NotificationEvent Event, string Title)? what = e.Status switch
        {
            AuditStatus.BreakerOpened => (NotificationEvent.BreakerOpened, "Breaker opened: destructive actions are held until `respond breaker rearm`"),
            AuditStatus.Held when e.Guard == "approval" => (NotificationEvent.ApprovalNeeded, $"Approval needed: {e.Action} on {target}"),
            AuditStatus.Failed or AuditStatus.TimedOut when !e.DryRun => (NotificationEvent.ActionFailed, $"Action {(e.Status == AuditStatus.TimedOut ? "timed out" : "failed")}: {e.Action} on {target}"),
            _ => null,
        };
        if (what is not { } w) return null;
        var facts = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) facts.Add(new(name, value));
        }

        Add("status", e.Status.Name());
        Add("action", e.Action);
        Add("target", target);
        Add("rule", e.RuleId);
        Add("finding", e.FindingId is null ? null : $"{e.FindingId} ({e.FindingSource})");
        Add("guard", e.Guard);
        Add("reason", e.Reason);
        Add("error", e.Error);
        Add("audit", $"#{row.Sequence}");
        return new Notification(w.Event, row.RecordedAt, w.Title, facts.ToImmutable()) { AuditSequence = row.Sequence, RunId = e.RunId, Host = e.Host };
    }

    /// <summary>A configured connector that did not answer the check `run` and `serve` make before deciding.</summary>
    public static Notification ConnectorUnreachable(Provider provider, string signsInAs, string problem, DateTimeOffset at, string? host = null) =>
        new(NotificationEvent.ConnectorUnreachable, at, $"Connector {provider.Name()} does not answer",
            [new("connector", provider.Name()), new("signs in as", signsInAs), new("problem", problem)]) { Host = host };
}

/// <summary>
/// Where the engine hands notifications off. <see cref="Publish"/> must return at once and never throw: a dead or slow
/// receiver may lose a notification, never slow or stop an action.
/// </summary>
public interface INotificationSink
{
    void Publish(Notification notification);
}
