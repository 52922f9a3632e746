using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Configuration;

/// <summary>Accounts no automation may touch: break-glass accounts, the engine's own accounts, and anything listed.</summary>
public sealed record ProtectedIdentityOptions
{
    /// <summary>Account ids, names, UPNs or e-mails (case-insensitive).</summary>
    public ImmutableArray<string> Accounts { get; init; } = [];

    /// <summary>Members of these groups (transitively) are protected.</summary>
    public ImmutableArray<string> Groups { get; init; } = [];

    /// <summary>Accounts carrying these tags in the directory are protected: break-glass accounts and the engine's own accounts by default.</summary>
    public ImmutableArray<string> Tags { get; init; } = ["break_glass", "response_engine"];

    /// <summary>The engine's own service accounts, per provider, by id or name.</summary>
    public ImmutableArray<string> EngineAccounts { get; init; } = [];
}

/// <summary>The minimum of enabled holders each critical group or role keeps, whatever the rules say.</summary>
public sealed record LockoutOptions
{
    public int Minimum { get; init; } = 2;

    /// <summary>
    /// Whether accounts tagged break_glass count toward the minimum. Off by default: they are for emergencies, and an
    /// organisation left with only break-glass accounts is locked out of daily administration.
    /// </summary>
    public bool CountBreakGlass { get; init; }

    public ImmutableDictionary<Provider, ImmutableArray<string>> Critical { get; init; } =
        ImmutableDictionary<Provider, ImmutableArray<string>>.Empty
            .Add(Provider.Ad, ["Domain Admins", "Enterprise Admins", "Administrators"])
            .Add(Provider.Entra, ["Global Administrator", "Privileged Role Administrator"])
            .Add(Provider.Okta, ["SUPER_ADMIN"]);
}

/// <summary>Sliding-window limits per hour beyond each rule's own <c>limits.max_per_hour</c>.</summary>
public sealed record RateLimitOptions
{
    public int? GlobalPerHour { get; init; } = 200;

    public ImmutableDictionary<Provider, int> PerProviderPerHour { get; init; } = ImmutableDictionary<Provider, int>.Empty;

    public ImmutableDictionary<string, int> PerActionPerHour { get; init; } = ImmutableDictionary<string, int>.Empty;
}

/// <summary>The blast-radius breaker: too many destructive actions in a window open it until a person re-arms it.</summary>
public sealed record BreakerOptions
{
    public int Threshold { get; init; } = 50;

    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// How long an action that took effect on an account keeps any rule, from any source, from doing it again with the
/// same parameters: a repeat finding from a second tool must not write a second intent and call the directory again.
/// </summary>
public sealed record DedupeOptions
{
    /// <summary>Zero turns the window off (the same decision and in-flight checks still hold).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(24);
}

public sealed record GuardOptions
{
    public ProtectedIdentityOptions Protected { get; init; } = new();

    public LockoutOptions Lockout { get; init; } = new();

    public RateLimitOptions RateLimits { get; init; } = new();

    public BreakerOptions Breaker { get; init; } = new();

    public ApprovalOptions Approval { get; init; } = new();

    public DedupeOptions Dedupe { get; init; } = new();
}

/// <summary>Decisions held for approval: how long a held decision can be approved, and how long an approval is honoured.</summary>
public sealed record ApprovalOptions
{
    public TimeSpan Expires { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>Where the audit trail lives.</summary>
public sealed record AuditOptions
{
    /// <summary><c>sqlite</c> (default) or <c>sqlserver</c>.</summary>
    public string Store { get; init; } = "sqlite";

    /// <summary>SQLite file path, or the SQL Server connection string (better given by environment).</summary>
    public string Connection { get; init; } = "respond.db";
}

/// <summary>The embedded default directory: a sample snapshot copied to a working file that actions really change.</summary>
public sealed record LocalDirectoryOptions
{
    public string Snapshot { get; init; } = "samples/directory.json";

    public string WorkingCopy { get; init; } = "respond.state/directory.json";
}

/// <summary>
/// How one provider is reached: <c>local</c> (the embedded default directory) or a real connector kind
/// (<c>ldap</c>, <c>graph</c>, <c>okta</c>) with its settings as written; secrets are named by environment variable
/// or file (<c>password_env</c>, <c>token_file</c>, …), never written in the file.
/// </summary>
public sealed record ConnectorSettings(string Kind, ImmutableDictionary<string, string> Settings)
{
    public static ConnectorSettings Local { get; } = new("local", ImmutableDictionary<string, string>.Empty);

    public string? Get(string key) => Settings.GetValueOrDefault(key);
}

/// <summary>Everything in respond.yaml, with the defaults that make the engine run with no file at all.</summary>
/// <summary>What the organisation asks of every rule (`respond lint`), so review dates and ownership are checked, not remembered.</summary>
/// <param name="RequireExpiry">Modes whose rules must carry an <c>expires:</c> date.</param>
/// <param name="Owners">The owners a rule may name; empty allows any.</param>
public sealed record LintOptions(ImmutableArray<ResponseEngine.Rules.RuleMode> RequireExpiry, ImmutableArray<string> Owners)
{
    public static readonly LintOptions None = new([], []);
}

public sealed record EngineOptions
{
    public string Rules { get; init; } = "rules";

    public ImmutableArray<string> Findings { get; init; } = ["samples/findings"];

    public PrivilegedPolicy Privileged { get; init; } = PrivilegedPolicy.Default;

    public GuardOptions Guards { get; init; } = new();

    public AuditOptions Audit { get; init; } = new();

    public LocalDirectoryOptions Local { get; init; } = new();

    /// <summary>The policy `respond lint` checks rules against (lint: in respond.yaml).</summary>
    public LintOptions Lint { get; init; } = LintOptions.None;

    /// <summary>How accounts link across providers (<c>linking:</c>): the attributes an Okta account is matched on.</summary>
    public LinkOptions Linking { get; init; } = LinkOptions.Default;

    /// <summary>Per provider; a provider not listed uses the local directory.</summary>
    public ImmutableDictionary<Findings.Provider, ConnectorSettings> Connectors { get; init; } = ImmutableDictionary<Findings.Provider, ConnectorSettings>.Empty;

    /// <summary>Actions run at once per provider; directories throttle, so this stays small.</summary>
    public int ConcurrencyPerProvider { get; init; } = 1;

    public TimeSpan ActionTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// On a stop (SIGTERM, Ctrl+C), how long a directory call already in flight may still finish and record its outcome;
    /// cutting it at once would leave a change whose effect is unknown. Nothing new starts once stopping.
    /// </summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long each configured connector has to answer the check `run` and `serve` make before deciding anything.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// An intent older than this without an outcome is taken as interrupted and reconciled. It must exceed twice
    /// <see cref="ActionTimeout"/> (an action, then its read-back after a lost answer), so an action in flight is never reconciled under itself.
    /// </summary>
    public TimeSpan ReconcileAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The `serve` section: webhook, inbox processor, rule reload, schedules and pollers.</summary>
    public ServeOptions Serve { get; init; } = new();

    /// <summary>The `notifications` section: Teams, Slack and signed webhooks told about breakers, approvals, failures and unreachable connectors.</summary>
    public NotificationOptions Notifications { get; init; } = new();

    /// <summary>The `console` section: the action center and its /v1 API in `respond serve`, sign-in, roles and API tokens.</summary>
    public ConsoleOptions Console { get; init; } = new();
}
