using System.Collections.Immutable;

namespace ResponseEngine.Configuration;

/// <summary>What a console user may do; each role includes the ones below it.</summary>
public enum ConsoleRole
{
    /// <summary>Reads everything: pending approvals, breaker, limits, activity, timelines, runs, rules, health.</summary>
    Viewer = 1,

    /// <summary>Also approves and rejects held decisions.</summary>
    Approver = 2,

    /// <summary>Also re-arms the breaker (and requeues what it held) and undoes actions.</summary>
    Operator = 3,
}

public static class ConsoleRoles
{
    public static string Name(this ConsoleRole role) => role switch
    {
        ConsoleRole.Viewer => "viewer",
        ConsoleRole.Approver => "approver",
        ConsoleRole.Operator => "operator",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static IReadOnlyList<string> Names { get; } = ["viewer", "approver", "operator"];

    public static bool TryParse(string? text, out ConsoleRole role)
    {
        role = text switch
        {
            "viewer" => ConsoleRole.Viewer,
            "approver" => ConsoleRole.Approver,
            "operator" => ConsoleRole.Operator,
            _ => 0,
        };
        return role != 0;
    }
}

/// <summary>Sign-in for people with OpenID Connect (authorization code flow); the client secret is read from the environment variable named here, never from the file.</summary>
public sealed record ConsoleOidcOptions
{
    /// <summary>The issuer, e.g. https://login.microsoftonline.com/TENANT/v2.0; its discovery document is read from here.</summary>
    public required string Authority { get; init; }

    public required string ClientId { get; init; }

    /// <summary>Environment variable holding the client secret (null: a public client).</summary>
    public string? ClientSecretEnv { get; init; }

    /// <summary>The token claim whose value names the person in the audit.</summary>
    public string NameClaim { get; init; } = "preferred_username";

    /// <summary>The token claims whose values are looked up in <see cref="ConsoleOptions.Roles"/> (Entra sends group ids in groups and app roles in roles).</summary>
    public ImmutableArray<string> RoleClaims { get; init; } = ["groups", "roles"];
}

/// <summary>An API token for a script: its name is the actor in the audit; the token itself is stored as its SHA-256 or read from an environment variable.</summary>
public sealed record ConsoleTokenOptions(string Name, ConsoleRole Role, string? Sha256, string? Env);

/// <summary>The `console` section of respond.yaml: the action center and its /v1 API in `respond serve`.</summary>
public sealed record ConsoleOptions
{
    /// <summary>Serve the console and its API; off, every console path answers 404 (the /v1/findings webhook is separate and unchanged).</summary>
    public bool Enabled { get; init; }

    public ConsoleOidcOptions? Oidc { get; init; }

    /// <summary>Claim value (a group id, an app role, a user name) to the role it grants; a person holding several gets the highest.</summary>
    public ImmutableDictionary<string, ConsoleRole> Roles { get; init; } = ImmutableDictionary<string, ConsoleRole>.Empty.WithComparers(StringComparer.Ordinal);

    public ImmutableArray<ConsoleTokenOptions> Tokens { get; init; } = [];

    /// <summary>How long a console sign-in lasts without activity.</summary>
    public TimeSpan SessionIdle { get; init; } = TimeSpan.FromHours(8);

    /// <summary>
    /// Where the keys that sign the session and anti-forgery cookies are kept (ASP.NET Core data protection), so a restart
    /// or a second instance sharing the directory keeps people signed in; null: <c>console-keys</c> next to the working
    /// copy (<c>respond.state/console-keys</c>). Unencrypted at rest: protect the directory like a secret.
    /// </summary>
    public string? KeyDirectory { get; init; }

    /// <summary>
    /// The reverse proxies (addresses, or networks as CIDR) whose X-Forwarded-For/-Proto/-Host are believed; empty (the
    /// default): the headers are ignored from everyone.
    /// </summary>
    public ImmutableArray<string> ForwardedHeaders { get; init; } = [];

    /// <summary>
    /// A folder of plan reports (<c>respond plan --format json --out DIR/NAME.json</c>, from CI or cron) whose newest files
    /// the Runs and rules page and <c>/v1/plans</c> show; null: none shown. Relative to the working directory, like the
    /// other paths in respond.yaml.
    /// </summary>
    public string? PlanReports { get; init; }

    /// <summary>The plan report folder as a full path, or null when none is configured.</summary>
    public static string? PlanReportsFor(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Console.PlanReports is { Length: > 0 } configured ? System.IO.Path.GetFullPath(configured) : null;
    }

    /// <summary>The key directory used: <see cref="KeyDirectory"/>, or console-keys beside the local working copy.</summary>
    public static string KeyDirectoryFor(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Console.KeyDirectory is { Length: > 0 } configured) return System.IO.Path.GetFullPath(configured);
        var state = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(options.Local.WorkingCopy))!;
        return System.IO.Path.Combine(state, "console-keys");
    }
}
