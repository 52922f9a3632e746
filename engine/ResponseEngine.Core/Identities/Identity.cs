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

    public bool Privileged { get; init; }
}

/// <summary>What the directory says about an account now: the facts guards and conditions decide on.</summary>
public sealed record Identity(Provider Provider, string Id, string Name)
{
    public string? Upn { get; init; }

    public string? Email { get; init; }

    public string DisplayName { get; init; } = "";

    public bool Enabled { get; init; } = true;

    public bool Guest { get; init; }

    /// <summary>Direct group memberships.</summary>
    public ImmutableArray<Group> Groups { get; init; } = [];

    /// <summary>Names of every group the account belongs to, directly or through nesting.</summary>
    public FrozenSet<string> TransitiveGroups { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Active directory roles (Entra) or admin roles (Okta).</summary>
    public ImmutableArray<string> Roles { get; init; } = [];

    public FrozenSet<string> RoleSet { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Member, directly or transitively, of a configured privileged group, or holder of a privileged role.</summary>
    public bool Privileged { get; init; }

    /// <summary>Holds a global-admin-level Entra role (Global, Privileged Role or Privileged Authentication Administrator).</summary>
    public bool GlobalAdmin { get; init; }

    /// <summary>Labels such as break_glass or service_account that guards use to protect the account.</summary>
    public ImmutableArray<string> Tags { get; init; } = [];

    public string Display => Upn ?? Name;

    public bool IsMemberOf(string groupName) => TransitiveGroups.Contains(groupName);

    public bool HasRole(string roleName) => RoleSet.Contains(roleName);

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
