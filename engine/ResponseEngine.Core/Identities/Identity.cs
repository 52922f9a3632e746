using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>A group as the directory reports it; whether it may be edited depends on how membership is managed.</summary>
public sealed record Group(Provider Provider, string Id, string Name)
{
    /// <summary>Entra dynamic-membership group: members come from a rule, removing one is futile.</summary>
    public bool Dynamic { get; init; }

    /// <summary>Synced from on-premises AD: membership is owned by AD, a cloud edit is overwritten.</summary>
    public bool Synced { get; init; }

    /// <summary>Okta group type (OKTA_GROUP, APP_GROUP, BUILT_IN); only OKTA_GROUP membership is editable.</summary>
    public string? OktaType { get; init; }

    /// <summary>Groups this group is itself a member of (nesting), by name.</summary>
    public ImmutableArray<string> MemberOf { get; init; } = [];

    /// <summary>Roles the group itself holds (an Entra role-assignable group, an Okta group admin role): every member holds them.</summary>
    public ImmutableArray<string> Roles { get; init; } = [];

    /// <summary>Entra role-assignable group (isAssignableToRole): the only kind a directory role can be assigned to.</summary>
    public bool RoleAssignable { get; init; }

    public bool Privileged { get; init; }
}

/// <summary>What the directory says about an account now: the facts guards and conditions decide on.</summary>
public sealed record Identity(Provider Provider, string Id, string Name)
{
    public string? Upn { get; init; }

    /// <summary>The AD objectSid as text (S-1-5-21-…): how Defender names an on-premises account, so a finding can find it.</summary>
    public string? Sid { get; init; }

    public string? Email { get; init; }

    /// <summary>AD ms-DS-ConsistencyGuid as a GUID, where Entra Connect uses it as the sync anchor instead of objectGUID.</summary>
    public string? ConsistencyGuid { get; init; }

    /// <summary>Entra onPremisesSecurityIdentifier: the objectSid of the AD account the user is synced from.</summary>
    public string? OnPremisesSid { get; init; }

    /// <summary>Entra onPremisesImmutableId: base64 of the synced AD account's anchor (objectGUID or ms-DS-ConsistencyGuid).</summary>
    public string? OnPremisesImmutableId { get; init; }

    /// <summary>AD employeeID, Entra employeeId, Okta employeeNumber: matched only when linking is configured to.</summary>
    public string? EmployeeId { get; init; }

    public string DisplayName { get; init; } = "";

    public bool Enabled { get; init; } = true;

    public bool Guest { get; init; }

    private readonly ImmutableArray<string> _directRoles;

    /// <summary>Direct group memberships, and the AD primary group (which is not in memberOf but is held all the same).</summary>
    public ImmutableArray<Group> Groups { get; init; } = [];

    /// <summary>Names of every group the account belongs to, directly, through nesting, or as its primary group.</summary>
    public FrozenSet<string> TransitiveGroups { get; init; } = FrozenSet<string>.Empty;

    /// <summary>The AD primary group's name (primaryGroupID): held like a membership, but revoke_group cannot remove it.</summary>
    public string? PrimaryGroup { get; init; }

    /// <summary>Active directory roles (Entra) or admin roles (Okta), held directly, through groups, or PIM-active.</summary>
    public ImmutableArray<string> Roles { get; init; } = [];

    public FrozenSet<string> RoleSet { get; init; } = FrozenSet<string>.Empty;

    /// <summary>
    /// Roles assigned to the account itself: what remove_role_assignment can remove. When a connector does not say,
    /// every role in <see cref="Roles"/> is taken as direct.
    /// </summary>
    public ImmutableArray<string> DirectRoles
    {
        get => _directRoles.IsDefault ? Roles : _directRoles;
        init => _directRoles = value;
    }

    /// <summary>PIM-eligible roles: reported, never counted as held nor as privileged.</summary>
    public ImmutableArray<string> EligibleRoles { get; init; } = [];

    /// <summary>Member, directly or transitively, of a configured privileged group, or holder of a privileged role.</summary>
    public bool Privileged { get; init; }

    /// <summary>Holds a global-admin-level Entra role (Global, Privileged Role or Privileged Authentication Administrator).</summary>
    public bool GlobalAdmin { get; init; }

    /// <summary>Labels such as break_glass or service_account that guards use to protect the account.</summary>
    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>A new password is required at next sign-in (AD pwdLastSet=0, Entra forceChangePasswordNextSignIn).</summary>
    public bool PasswordMustChange { get; init; }

    /// <summary>When a random password was last set (AD), so the old one stopped working then; the password itself is never kept.</summary>
    public DateTimeOffset? RandomPasswordSetAt { get; init; }

    /// <summary>Sessions and refresh tokens issued before this moment are invalid (Entra signInSessionsValidFromDateTime).</summary>
    public DateTimeOffset? SessionsRevokedAt { get; init; }

    /// <summary>The last interactive sign-in, when the directory reports it; a sign-in after a revocation means live sessions again.</summary>
    public DateTimeOffset? LastSignInAt { get; init; }

    /// <summary>Entra ID Protection risk state in snake_case (see <see cref="RiskStates"/>); null when the directory does not say.</summary>
    public string? RiskState { get; init; }

    /// <summary>Okta lifecycle status (see <see cref="OktaStatuses"/>); null when the snapshot does not say.</summary>
    public string? OktaStatus { get; init; }

    /// <summary>Names of the engine-managed MFA policies (Entra conditional access) whose users include the account.</summary>
    public ImmutableArray<string> MfaPolicies { get; init; } = [];

    public string Display => Upn ?? Name;

    public bool IsMemberOf(string groupName) => TransitiveGroups.Contains(groupName);

    public bool HasRole(string roleName) => RoleSet.Contains(roleName);

    public bool HasDirectRole(string roleName) => DirectRoles.Contains(roleName, StringComparer.OrdinalIgnoreCase);

    public Group? DirectGroup(string groupName) =>
        Groups.FirstOrDefault(g => string.Equals(g.Name, groupName, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The outcome of resolving a finding's subject: an identity, or the reason there is none (which means no action).</summary>
public sealed record IdentityLookup(Identity? Identity, string? Problem)
{
    public static IdentityLookup Found(Identity identity) => new(identity, null);

    public static IdentityLookup NotFound(string problem) => new(null, problem);
}

/// <summary>Resolves the subject of a finding to what the directory says about it now.</summary>
public interface IIdentityResolver
{
    IdentityLookup Resolve(Subject subject);
}

/// <summary>Okta user statuses, as the Okta API spells them.</summary>
public static class OktaStatuses
{
    public const string Staged = "STAGED";
    public const string Provisioned = "PROVISIONED";
    public const string Active = "ACTIVE";
    public const string Recovery = "RECOVERY";
    public const string LockedOut = "LOCKED_OUT";
    public const string PasswordExpired = "PASSWORD_EXPIRED";
    public const string Suspended = "SUSPENDED";
    public const string Deprovisioned = "DEPROVISIONED";

    public static IReadOnlyList<string> All { get; } = [Staged, Provisioned, Active, Recovery, LockedOut, PasswordExpired, Suspended, Deprovisioned];

    /// <summary>Statuses in which the account can sign in; lockout protection counts only these as enabled.</summary>
    public static bool IsEnabled(string status) => status is Active or PasswordExpired or Recovery;
}

/// <summary>Entra ID Protection risk states (riskyUser.riskState), in snake_case.</summary>
public static class RiskStates
{
    public const string None = "none";
    public const string AtRisk = "at_risk";
    public const string ConfirmedSafe = "confirmed_safe";
    public const string Remediated = "remediated";
    public const string Dismissed = "dismissed";
    public const string ConfirmedCompromised = "confirmed_compromised";

    public static IReadOnlyList<string> All { get; } = [None, AtRisk, ConfirmedSafe, Remediated, Dismissed, ConfirmedCompromised];
}
