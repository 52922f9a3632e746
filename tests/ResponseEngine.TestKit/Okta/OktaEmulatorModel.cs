using System.Collections.Immutable;
using System.Security.Cryptography;

namespace ResponseEngine.TestKit.Okta;

/// <summary>A user in the emulated org; tests read and set it directly to arrange and to check an action's effect.</summary>
public sealed class EmulatedUser(string id, string login)
{
    public string Id { get; } = id;

    public string Login { get; set; } = login;

    public string? Email { get; set; }

    public string? FirstName { get; set; }

    public string? LastName { get; set; }

    public string Status { get; set; } = "ACTIVE";

    public DateTimeOffset? LastLogin { get; set; }

    public DateTimeOffset? StatusChanged { get; set; }

    /// <summary>Admin role types assigned to the user directly (SUPER_ADMIN, ORG_ADMIN, …).</summary>
    public List<string> Roles { get; } = [];

    /// <summary>When an admin last cleared the user's sessions (and OAuth tokens, when asked).</summary>
    public DateTimeOffset? SessionsClearedAt { get; set; }

    public bool OAuthTokensRevoked { get; set; }
}

/// <summary>A group; <see cref="Type"/> is OKTA_GROUP, APP_GROUP or BUILT_IN, and only OKTA_GROUP membership is editable.</summary>
public sealed class EmulatedGroup(string id, string name, string type)
{
    public string Id { get; } = id;

    public string Name { get; set; } = name;

    public string Type { get; set; } = type;

    /// <summary>Direct (assigned) members; members added by group rules are worked out on each read.</summary>
    public HashSet<string> Members { get; } = new(StringComparer.Ordinal);

    /// <summary>Admin role types assigned to the group: every member, direct or by a group rule, holds them.</summary>
    public List<string> Roles { get; } = [];
}

/// <summary>A group rule <c>isMemberOfAnyGroup(sources)</c> ⇒ assign to targets: Okta's stand-in for nested groups.</summary>
public sealed record EmulatedGroupRule(string Id, string Name, ImmutableArray<string> SourceGroupIds, ImmutableArray<string> TargetGroupIds)
{
    public string Status { get; init; } = "ACTIVE";
}

/// <summary>A System Log event the emulator wrote (user.session.clear, user.lifecycle.*).</summary>
public sealed record EmulatedLogEvent(string Uuid, DateTimeOffset Published, string EventType, string TargetId);

/// <summary>A registered OAuth service app: its client id, the public half of its key, and the scopes granted to it.</summary>
public sealed record EmulatedServiceApp(string ClientId, RSA PublicKey, ImmutableArray<string> GrantedScopes);

/// <summary>What a call looked like on the wire, for tests of escaping, headers and pacing.</summary>
public sealed record RecordedRequest(DateTimeOffset At, string Method, string RawPath, string Query, long? ContentLength, string? AuthScheme, int Status);

/// <summary>A failure injected into the next matching calls.</summary>
public enum OktaFault
{
    /// <summary>500 with Okta's E0000009 body.</summary>
    ServerError,

    /// <summary>429 E0000047 with rate-limit headers, whatever the window says.</summary>
    RateLimited,

    /// <summary>The call never answers: surfaces as HttpClient's timeout (TaskCanceledException over TimeoutException).</summary>
    Timeout,
}
