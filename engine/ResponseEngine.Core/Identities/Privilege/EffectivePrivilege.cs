using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities.Privilege;

/// <summary>
/// The one place that turns a directory's direct facts (memberships, primary group, roles held by users and groups)
/// into the privilege graph, and projects the graph back onto an identity (transitive groups, effective roles,
/// privileged): so the privileged flag and lockout protection can never disagree.
/// </summary>
public static class EffectivePrivilege
{
    /// <summary>The tag that marks a break-glass account, which lockout protection does not count by default.</summary>
    public const string BreakGlassTag = "break_glass";

    /// <summary>
    /// The graph of one provider: users by id, groups by id, Member edges for direct memberships and nesting,
    /// PrimaryGroup edges, Role edges for roles held by users or groups, EligibleRole edges for PIM eligibility.
    /// Group names that no group declares become groups whose id is the name.
    /// </summary>
    public static PrivilegeGraph Graph(Provider provider, IEnumerable<Identity> users, IEnumerable<Group> groups)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(groups);
        var byName = new Dictionary<string, Group>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in groups.Where(g => g.Provider == provider)) byName.TryAdd(group.Name, group);
        var principals = new List<PrivilegePrincipal>();
        var edges = new List<PrivilegeEdge>();
        var declared = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        string GroupNode(string name)
        {
            if (byName.TryGetValue(name, out var group)) return group.Id;
            if (declared.Add(name)) principals.Add(new PrivilegePrincipal(name, PrincipalKind.Group, name));
            return name;
        }

        foreach (var group in byName.Values)
        {
            declared.Add(group.Id);
            principals.Add(new PrivilegePrincipal(group.Id, PrincipalKind.Group, group.Name));
        }

        foreach (var group in byName.Values)
        {
            edges.AddRange(group.MemberOf.Select(parent => new PrivilegeEdge(group.Id, GroupNode(parent), EdgeKind.Member)));
            edges.AddRange(group.Roles.Select(role => new PrivilegeEdge(group.Id, role, EdgeKind.Role)));
        }

        foreach (var user in users.Where(u => u.Provider == provider))
        {
            principals.Add(new PrivilegePrincipal(user.Id, PrincipalKind.User, user.Name)
            {
                // A random password the engine set and nobody knows yet: the account cannot sign in until a helpdesk reset.
                Enabled = user.Enabled && !(user.PasswordMustChange && user.RandomPasswordSetAt is not null),
                BreakGlass = user.Tags.Contains(BreakGlassTag, StringComparer.OrdinalIgnoreCase),
            });
            foreach (var group in user.Groups.Where(g => !string.Equals(g.Name, user.PrimaryGroup, StringComparison.OrdinalIgnoreCase)))
            {
                edges.Add(new PrivilegeEdge(user.Id, byName.ContainsKey(group.Name) ? GroupNode(group.Name) : Declare(group), EdgeKind.Member));
            }

            if (user.PrimaryGroup is { } primary) edges.Add(new PrivilegeEdge(user.Id, GroupNode(primary), EdgeKind.PrimaryGroup));
            edges.AddRange(user.DirectRoles.Select(role => new PrivilegeEdge(user.Id, role, EdgeKind.Role)));
            edges.AddRange(user.EligibleRoles.Select(role => new PrivilegeEdge(user.Id, role, EdgeKind.EligibleRole)));
        }

        return PrivilegeGraph.Build(principals, edges);

        // A group only the user's own record knows (a live lookup): its nesting comes with it.
        string Declare(Group group)
        {
            if (declared.Add(group.Id))
            {
                principals.Add(new PrivilegePrincipal(group.Id, PrincipalKind.Group, group.Name));
                edges.AddRange(group.MemberOf.Select(parent => new PrivilegeEdge(group.Id, GroupNode(parent), EdgeKind.Member)));
                edges.AddRange(group.Roles.Select(role => new PrivilegeEdge(group.Id, role, EdgeKind.Role)));
            }

            return group.Id;
        }
    }

    /// <summary>
    /// The identity as the graph sees it: every group it holds (nesting and primary group included), every role it
    /// holds actively (directly, through groups), and whether any of them is privileged.
    /// </summary>
    public static Identity Project(Identity identity, PrivilegeGraph graph, PrivilegedPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(policy);
        var groups = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var roles = new List<string>(identity.DirectRoles);
        foreach (var node in graph.Reachable(identity.Id))
        {
            if (graph.Principal(node) is { Kind: PrincipalKind.Group } group) groups.Add(group.Name);
            else if (graph.Principal(node) is null && !roles.Contains(node, StringComparer.OrdinalIgnoreCase)) roles.Add(node);
        }

        return identity with
        {
            TransitiveGroups = groups.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            Roles = [.. roles],
            RoleSet = roles.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            DirectRoles = identity.DirectRoles,
            Privileged = policy.IsPrivileged(identity.Provider, groups, roles),
            GlobalAdmin = policy.IsGlobalAdminLevel(identity.Provider, roles),
        };
    }
}
