using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace ResponseEngine.TestKit.Graph;

/// <summary>
/// A user of the emulated tenant. Tests create and change it directly (through <see cref="GraphEmulator.Tenant"/>) to
/// arrange a case, and read it after a call to check what the call did.
/// </summary>
public sealed class GraphUser(string id, string userPrincipalName)
{
    public string Id { get; } = id;

    public string UserPrincipalName { get; set; } = userPrincipalName;

    public string? Mail { get; set; }

    /// <summary>The short name (alias); the connector resolves a bare name such as "alice" through it.</summary>
    public string? MailNickname { get; set; }

    public string? DisplayName { get; set; }

    public bool AccountEnabled { get; set; } = true;

    /// <summary>"Member" or "Guest".</summary>
    public string UserType { get; set; } = "Member";

    /// <summary>True for accounts synced from on-premises AD.</summary>
    public bool? OnPremisesSyncEnabled { get; set; }

    /// <summary>onPremisesSecurityIdentifier: the objectSid of the AD account a synced user comes from (returned only on $select).</summary>
    public string? OnPremisesSecurityIdentifier { get; set; }

    /// <summary>onPremisesImmutableId: base64 of the synced AD account's objectGUID (or ms-DS-ConsistencyGuid); returned only on $select.</summary>
    public string? OnPremisesImmutableId { get; set; }

    public string? EmployeeId { get; set; }

    /// <summary>passwordProfile.forceChangePasswordNextSignIn (Graph returns it only on $select).</summary>
    public bool ForceChangePasswordNextSignIn { get; set; }

    /// <summary>Set by revokeSignInSessions: tokens issued before it are invalid (returned only on $select).</summary>
    public DateTimeOffset? SignInSessionsValidFromDateTime { get; set; }

    /// <summary>signInActivity.lastSignInDateTime (returned only on $select; needs AuditLog.Read.All).</summary>
    public DateTimeOffset? LastSignInDateTime { get; set; }
}

/// <summary>A group; dynamic (groupTypes has DynamicMembership) and synced groups refuse member removal as Graph does.</summary>
public sealed class GraphGroup(string id, string displayName)
{
    public string Id { get; } = id;

    public string DisplayName { get; set; } = displayName;

    /// <summary>"Unified", "DynamicMembership", …</summary>
    public List<string> GroupTypes { get; } = [];

    public string? MembershipRule { get; set; }

    public bool? OnPremisesSyncEnabled { get; set; }

    public bool IsAssignableToRole { get; set; }

    /// <summary>Direct members: user ids and group ids (a group id here nests that group).</summary>
    public HashSet<string> Members { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool Dynamic => GroupTypes.Contains("DynamicMembership", StringComparer.OrdinalIgnoreCase);
}

/// <summary>A directory role definition (built-in roles are seeded with their template ids).</summary>
public sealed record GraphRoleDefinition(string Id, string DisplayName)
{
    public bool IsBuiltIn { get; init; } = true;
}

/// <summary>
/// An active role assignment. A permanent one (made through roleAssignments or a PIM adminAssign) is listed by both
/// /roleAssignments and /roleAssignmentScheduleInstances (assignmentType Assigned); one a principal activated from a PIM
/// eligibility (<see cref="Activated"/>) only by /roleAssignmentScheduleInstances (assignmentType Activated): the docs
/// promise it there, not in /roleAssignments, so the emulator holds a client to reading the instances.
/// </summary>
public sealed record GraphRoleAssignment(string Id, string PrincipalId, string RoleDefinitionId)
{
    public string DirectoryScopeId { get; init; } = "/";

    /// <summary>Activated through PIM from an eligible assignment, for a limited time.</summary>
    public bool Activated { get; init; }

    public DateTimeOffset? StartDateTime { get; init; }

    public DateTimeOffset? EndDateTime { get; init; }
}

/// <summary>A PIM-eligible role assignment (unifiedRoleEligibilitySchedule): the principal may activate the role.</summary>
public sealed record GraphRoleEligibility(string Id, string PrincipalId, string RoleDefinitionId)
{
    public string DirectoryScopeId { get; init; } = "/";

    public string MemberType { get; init; } = "Direct";
}

/// <summary>An Identity Protection risky user; Graph spells states in camelCase (atRisk, confirmedCompromised, dismissed, …).</summary>
public sealed class GraphRiskyUser(string id)
{
    public string Id { get; } = id;

    public string? UserPrincipalName { get; set; }

    public string? UserDisplayName { get; set; }

    /// <summary>low, medium, high, hidden, none.</summary>
    public string RiskLevel { get; set; } = "none";

    /// <summary>none, confirmedSafe, remediated, dismissed, atRisk, confirmedCompromised.</summary>
    public string RiskState { get; set; } = "none";

    public string RiskDetail { get; set; } = "none";

    public DateTimeOffset RiskLastUpdatedDateTime { get; set; }

    public bool IsDeleted { get; set; }
}

/// <summary>A user named in an alert's evidence (#microsoft.graph.security.userEvidence).</summary>
public sealed record GraphUserEvidence(string AzureAdUserId, string UserPrincipalName)
{
    public string? AccountName { get; init; }

    public string? DomainName { get; init; }

    public string? DisplayName { get; init; }
}

/// <summary>A Defender/Entra alert (security/alerts_v2); seed it with <see cref="GraphEmulator.AddAlert"/>.</summary>
public sealed class GraphAlert(string id, string title)
{
    public string Id { get; } = id;

    public string Title { get; set; } = title;

    /// <summary>informational, low, medium, high.</summary>
    public string Severity { get; set; } = "medium";

    /// <summary>new, inProgress, resolved.</summary>
    public string Status { get; set; } = "new";

    public string Category { get; set; } = "InitialAccess";

    public string ServiceSource { get; set; } = "azureAdIdentityProtection";

    public string DetectionSource { get; set; } = "azureAdIdentityProtection";

    public string? Description { get; set; }

    public DateTimeOffset CreatedDateTime { get; set; }

    public DateTimeOffset LastUpdateDateTime { get; set; }

    public List<GraphUserEvidence> Users { get; } = [];
}

/// <summary>Everything the emulated tenant holds. Conditional-access policies are kept as the JSON Graph returns.</summary>
public sealed class GraphTenant
{
    public Dictionary<string, GraphUser> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, GraphGroup> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, GraphRoleDefinition> RoleDefinitions { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<GraphRoleAssignment> RoleAssignments { get; } = [];

    public List<GraphRoleEligibility> RoleEligibilities { get; } = [];

    public Dictionary<string, GraphRiskyUser> RiskyUsers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Conditional-access policies by id, in Graph's JSON (displayName, state, conditions, grantControls, …).</summary>
    public Dictionary<string, JsonObject> ConditionalAccessPolicies { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<GraphAlert> Alerts { get; } = [];
}

/// <summary>A token bucket: <see cref="Tokens"/> requests per <see cref="Window"/>, refilled continuously.</summary>
public sealed record GraphLimit(int Tokens, TimeSpan Window)
{
    /// <summary>Graph's documented identity-and-access write limit: about 3,000 requests per 150 s per app and tenant.</summary>
    public static GraphLimit DocumentedWrites { get; } = new(3000, TimeSpan.FromSeconds(150));

    /// <summary>Conditional-access and Identity Protection writes: about one per second per tenant.</summary>
    public static GraphLimit PolicyWrites { get; } = new(1, TimeSpan.FromSeconds(1));

    /// <summary>A large tenant's read budget (8,000 resource units per 10 s), counting one unit a request.</summary>
    public static GraphLimit Reads { get; } = new(8000, TimeSpan.FromSeconds(10));
}

/// <summary>A failure injected into the next matching calls (see <see cref="GraphEmulator.FailNext"/>).</summary>
public enum GraphFault
{
    /// <summary>429 TooManyRequests with Retry-After (<see cref="GraphEmulator.FaultRetryAfter"/>).</summary>
    Throttled,

    /// <summary>429 without Retry-After, as Conditional Access sometimes answers.</summary>
    ThrottledWithoutRetryAfter,

    /// <summary>503 ServiceUnavailable with Retry-After.</summary>
    ServiceUnavailable,

    /// <summary>504 GatewayTimeout.</summary>
    GatewayTimeout,

    /// <summary>500 with Graph's generalException body.</summary>
    ServerError,

    /// <summary>403 Authorization_RequestDenied (a permission the app was not granted).</summary>
    Forbidden,

    /// <summary>The connection is reset before any answer (top-level calls only).</summary>
    ConnectionReset,

    /// <summary>The call is never answered until the client gives up (top-level calls only).</summary>
    Timeout,
}

/// <summary>One call as the emulator saw it; calls inside a <c>$batch</c> are recorded too, with <see cref="InBatch"/> set.</summary>
/// <param name="Sequence">Order of arrival, from 1.</param>
/// <param name="At">The emulator's clock when the call arrived.</param>
/// <param name="RawPath">The path exactly as sent (percent-escapes kept), e.g. /v1.0/groups/g1/members/u1/$ref.</param>
/// <param name="Query">The query string as sent, without the leading '?'.</param>
/// <param name="Status">The status answered; 0 when the connection was reset or abandoned.</param>
/// <param name="RetryAfter">The Retry-After sent with a 429/503, if any.</param>
public sealed record GraphRequest(int Sequence, DateTimeOffset At, string Method, string RawPath, string Query, int Status, bool InBatch, string? Body, TimeSpan? RetryAfter)
{
    /// <summary>The path with escapes decoded and the /v1.0 prefix removed, e.g. /users/o'brien@corp.example.com.</summary>
    public string Path => GraphEmulator.Decode(RawPath);

    /// <summary>The query with escapes decoded.</summary>
    public string DecodedQuery => Uri.UnescapeDataString(Query);

    public bool IsWrite => Method is not "GET";
}

/// <summary>Well-known built-in directory roles (template ids as in every tenant).</summary>
public static class GraphRoles
{
    public const string GlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10";
    public const string PrivilegedRoleAdministrator = "e8611ab8-c189-46e8-94e1-60213ab1f814";
    public const string PrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
    public const string SecurityAdministrator = "194ae4cb-b126-40b2-bd5b-6091b380977d";
    public const string UserAdministrator = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    public const string HelpdeskAdministrator = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    public const string ConditionalAccessAdministrator = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9";
    public const string DirectoryReaders = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";

    public static ImmutableArray<GraphRoleDefinition> BuiltIn { get; } =
    [
        new(GlobalAdministrator, "Global Administrator"),
        new(PrivilegedRoleAdministrator, "Privileged Role Administrator"),
        new(PrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator"),
        new(SecurityAdministrator, "Security Administrator"),
        new(UserAdministrator, "User Administrator"),
        new(HelpdeskAdministrator, "Helpdesk Administrator"),
        new(ConditionalAccessAdministrator, "Conditional Access Administrator"),
        new(DirectoryReaders, "Directory Readers"),
    ];
}
