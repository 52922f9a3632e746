using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>Which groups and roles make an account privileged, per provider; a tenant overrides the defaults in respond.yaml.</summary>
public sealed record PrivilegedPolicy(
    ImmutableDictionary<Provider, FrozenSet<string>> Groups,
    ImmutableDictionary<Provider, FrozenSet<string>> Roles,
    FrozenSet<string> GlobalAdminRoles)
{
    public static PrivilegedPolicy Default { get; } = new(
        ImmutableDictionary<Provider, FrozenSet<string>>.Empty
            .Add(Provider.Ad, Set("Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators", "Account Operators",
                "Backup Operators", "Server Operators", "Print Operators", "Key Admins", "Enterprise Key Admins", "DnsAdmins"))
            .Add(Provider.Entra, Set())
            .Add(Provider.Okta, Set()),
        ImmutableDictionary<Provider, FrozenSet<string>>.Empty
            .Add(Provider.Ad, Set())
            .Add(Provider.Entra, Set("Global Administrator", "Privileged Role Administrator", "Privileged Authentication Administrator",
                "Security Administrator", "Conditional Access Administrator", "Application Administrator", "Cloud Application Administrator",
                "Authentication Administrator", "User Administrator", "Exchange Administrator", "SharePoint Administrator",
                "Hybrid Identity Administrator", "Intune Administrator", "Helpdesk Administrator", "Password Administrator"))
            .Add(Provider.Okta, Set("SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN", "USER_ADMIN", "GROUP_MEMBERSHIP_ADMIN", "API_ACCESS_MANAGEMENT_ADMIN")),
        Set("Global Administrator", "Privileged Role Administrator", "Privileged Authentication Administrator"));

    public static FrozenSet<string> Set(params string[] names) => names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public bool IsPrivilegedGroup(Provider provider, string groupName) =>
        Groups.TryGetValue(provider, out var set) && set.Contains(groupName);

    public bool IsPrivilegedRole(Provider provider, string roleName) =>
        Roles.TryGetValue(provider, out var set) && set.Contains(roleName);

    public bool IsPrivileged(Provider provider, IEnumerable<string> transitiveGroups, IEnumerable<string> roles) =>
        transitiveGroups.Any(g => IsPrivilegedGroup(provider, g)) || roles.Any(r => IsPrivilegedRole(provider, r));

    /// <summary>Holder of a role at global-admin level (phishing-resistant MFA is enforced only for these).</summary>
    public bool IsGlobalAdminLevel(Provider provider, IEnumerable<string> roles) =>
        provider == Provider.Entra && roles.Any(GlobalAdminRoles.Contains);
}
