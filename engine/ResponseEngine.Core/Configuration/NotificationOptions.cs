using System.Collections.Immutable;

namespace ResponseEngine.Configuration;

/// <summary>What a person should hear about at once, rather than find later in the trail.</summary>
public enum NotificationEvent
{
    BreakerOpened,
    ApprovalNeeded,
    ActionFailed,
    ConnectorUnreachable,
}

/// <summary>The configuration words of <see cref="NotificationEvent"/>.</summary>
public static class NotificationEvents
{
    public static ImmutableArray<NotificationEvent> All { get; } = [.. Enum.GetValues<NotificationEvent>()];

    public static ImmutableArray<string> Names { get; } = [.. All.Select(Name)];

    public static string Name(this NotificationEvent e) => e switch
    {
        NotificationEvent.BreakerOpened => "breaker_opened",
        NotificationEvent.ApprovalNeeded => "approval_needed",
        NotificationEvent.ActionFailed => "action_failed",
        NotificationEvent.ConnectorUnreachable => "connector_unreachable",
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    public static NotificationEvent? Parse(string name) => All.Cast<NotificationEvent?>().FirstOrDefault(e => e!.Value.Name() == name);
}

/// <summary>
/// One receiver: <c>teams</c> (a Workflows webhook), <c>slack</c> (an incoming webhook) or <c>webhook</c> (JSON signed with
/// HMAC-SHA256). Webhook URLs of Teams and Slack are credentials, so they are named by environment variable, never written.
/// </summary>
public sealed record NotificationTarget(string Name, string Kind, string? Url, string? UrlEnv, string? SecretEnv, ImmutableArray<NotificationEvent> Events);

/// <summary>The `notifications` section of respond.yaml: where events go, and how hard delivery tries without ever slowing a run.</summary>
public sealed record NotificationOptions
{
    public ImmutableArray<NotificationTarget> Targets { get; init; } = [];

    /// <summary>Notifications waiting per target; beyond this new ones are dropped (counted and logged), never waited for.</summary>
    public int Queue { get; init; } = 1000;

    /// <summary>How long one delivery attempt may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per notification, the first included.</summary>
    public int Attempts { get; init; } = 5;

    /// <summary>The first retry's delay; later ones back off exponentially with jitter, unless the receiver sends Retry-After.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between attempts, Retry-After included.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>At the end of `run` (or when `serve` stops), how long queued notifications may still take to go out.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);
}
