using System.Collections.Immutable;

namespace ResponseEngine.Configuration;

/// <summary>One poller of `respond serve`: a kind (folder, okta_logs, graph_alerts, graph_risky_users), how often, and its settings as written.</summary>
public sealed record PollerOptions(string Name, string Kind, TimeSpan Every, ImmutableDictionary<string, string> Settings)
{
    public string? Get(string key) => Settings.GetValueOrDefault(key);
}

/// <summary>The `serve` section of respond.yaml: the webhook, the inbox processor, rule reload, schedules and pollers.</summary>
public sealed record ServeOptions
{
    /// <summary>Where the webhook and the health and metrics endpoints listen.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8080";

    /// <summary>This instance's name in leases and logs; empty means host name and process id.</summary>
    public string Instance { get; init; } = "";

    /// <summary>Environment variable that holds the HMAC-SHA256 secret webhook senders sign with.</summary>
    public string HmacSecretEnv { get; init; } = "RESPOND_WEBHOOK_SECRET";

    /// <summary>Environment variable that holds the bearer token webhook senders may present instead.</summary>
    public string TokenEnv { get; init; } = "RESPOND_WEBHOOK_TOKEN";

    /// <summary>A signed post whose timestamp is further than this from now is refused as a replay.</summary>
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest request body accepted, in bytes.</summary>
    public long MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Findings the processor leases and runs together.</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>How long a lease lasts before another instance may take the items.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the processor looks for work when nothing wakes it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the reconciler looks for stale intents.</summary>
    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Reload the rules when a file under the rules folder changes.</summary>
    public bool WatchRules { get; init; } = true;

    /// <summary>Run `git pull --ff-only` in the rules folder at this interval, then reload; null for never.</summary>
    public TimeSpan? GitPullEvery { get; init; }

    /// <summary>Quartz job store: <c>ram</c> (default) or <c>sqlserver</c> (clustered, so N instances run each schedule once).</summary>
    public string Scheduler { get; init; } = "ram";

    /// <summary>Connection string of the clustered job store; the audit connection when unset.</summary>
    public string? SchedulerConnection { get; init; }

    public ImmutableArray<PollerOptions> Pollers { get; init; } = [];
}
