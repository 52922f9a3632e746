using System.Collections.Immutable;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities.Privilege;
using GraphGroup = Microsoft.Graph.Models.Group;
using GraphUser = Microsoft.Graph.Models.User;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// Directory roles as Entra grants them: assigned to a user or to a role-assignable group (whose members all hold it),
/// permanently or by a PIM activation (listed only among roleAssignmentScheduleInstances), or PIM-eligible (reported,
/// never counted). Only tenant-wide assignments (directoryScopeId "/") make a holder.
/// </summary>
public sealed partial class EntraConnector
{
    /// <summary>One role one principal holds (or may activate, when <see cref="Eligible"/>).</summary>
    internal sealed record RoleGrant(string PrincipalId, string RoleDefinitionId, string? RoleName, bool Eligible);

    /// <summary>The three reads that say which roles principals hold: assignments, active PIM instances, eligible PIM instances.</summary>
    private IEnumerable<(string Key, RequestInformation Request)> RoleReads(string key, string? filter, bool expandPrincipal = false)
    {
        string[] expand = expandPrincipal ? ["roleDefinition", "principal"] : ["roleDefinition"];
        yield return (key + "-assigned", Graph.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(r =>
        {
            r.QueryParameters.Filter = filter;
            r.QueryParameters.Expand = expand;
        }));
        yield return (key + "-active", Graph.RoleManagement.Directory.RoleAssignmentScheduleInstances.ToGetRequestInformation(r =>
        {
            r.QueryParameters.Filter = filter;
            r.QueryParameters.Expand = expand;
        }));
        yield return (key + "-eligible", Graph.RoleManagement.Directory.RoleEligibilityScheduleInstances.ToGetRequestInformation(r =>
        {
            r.QueryParameters.Filter = filter;
            r.QueryParameters.Expand = expand;
        }));
    }

    /// <summary>The grants the <see cref="RoleReads"/> of <paramref name="key"/> answered, tenant-wide ones only, with the principals where they were expanded.</summary>
    private async Task<(List<RoleGrant> Grants, Dictionary<string, DirectoryObject> Principals)> GrantsAsync(BatchResults results, string key, CancellationToken cancellationToken)
    {
        var grants = new List<RoleGrant>();
        var expandedPrincipals = new Dictionary<string, DirectoryObject>(StringComparer.OrdinalIgnoreCase);
        void Add(string? principal, string? definition, string? name, string? scope, DirectoryObject? expanded, bool eligible)
        {
            if (principal is null || definition is null || scope is not (null or "/")) return;
            grants.Add(new RoleGrant(principal, definition, name, eligible));
            if (expanded is not null) expandedPrincipals[principal] = expanded;
        }

        foreach (var a in await _reads.AllAsync<UnifiedRoleAssignment, UnifiedRoleAssignmentCollectionResponse>(
                     await results.GetAsync<UnifiedRoleAssignmentCollectionResponse>(key + "-assigned", "list role assignments").ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            Add(a.PrincipalId, a.RoleDefinitionId, a.RoleDefinition?.DisplayName, a.DirectoryScopeId, a.Principal, eligible: false);
        }

        foreach (var a in await _reads.AllAsync<UnifiedRoleAssignmentScheduleInstance, UnifiedRoleAssignmentScheduleInstanceCollectionResponse>(
                     await results.GetAsync<UnifiedRoleAssignmentScheduleInstanceCollectionResponse>(key + "-active", "list active PIM role assignments").ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            Add(a.PrincipalId, a.RoleDefinitionId, a.RoleDefinition?.DisplayName, a.DirectoryScopeId, a.Principal, eligible: false);
        }

        foreach (var e in await _reads.AllAsync<UnifiedRoleEligibilityScheduleInstance, UnifiedRoleEligibilityScheduleInstanceCollectionResponse>(
                     await results.GetAsync<UnifiedRoleEligibilityScheduleInstanceCollectionResponse>(key + "-eligible", "list PIM-eligible role assignments").ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            Add(e.PrincipalId, e.RoleDefinitionId, e.RoleDefinition?.DisplayName, e.DirectoryScopeId, e.Principal, eligible: true);
        }

        return (grants, expandedPrincipals);
    }

    /// <summary>Active (counted) role names among <paramref name="grants"/>, without repeats.</summary>
    private static ImmutableArray<string> Active(IEnumerable<RoleGrant> grants) =>
        [.. grants.Where(g => !g.Eligible).Select(g => g.RoleName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>Eligible role names among <paramref name="grants"/> that are not also active.</summary>
    private static ImmutableArray<string> EligibleOnly(IEnumerable<RoleGrant> grants)
    {
        var list = grants.ToList();
        var active = Active(list).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. list.Where(g => g.Eligible).Select(g => g.RoleName).OfType<string>().Where(r => !active.Contains(r)).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// Holders of a critical role (roleAssignments and active PIM instances by role definition, users and role-assignable
    /// groups expanded by their members) or members of a critical group (by id, or by a display name exactly one group has),
    /// as a privilege graph: Role edges from the principals assigned, Member edges down every group on the way.
    /// </summary>
    public async Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groupOrRole);
        return await Guarded(async () =>
        {
            var name = Literal(groupOrRole);
            var roles = await Graph.RoleManagement.Directory.RoleDefinitions.GetAsync(r => r.QueryParameters.Filter = $"displayName eq {name}", cancellationToken)
                .ConfigureAwait(false);
            var principals = new Dictionary<string, PrivilegePrincipal>(StringComparer.OrdinalIgnoreCase);
            var edges = new List<PrivilegeEdge>();
            if (roles?.Value?.FirstOrDefault() is { } role)
            {
                var definition = role.TemplateId ?? role.Id!;
                var results = await _reads.BatchAsync([.. RoleReads("role", $"roleDefinitionId eq {Literal(definition)}", expandPrincipal: true)], cancellationToken).ConfigureAwait(false);
                var (grants, expanded) = await GrantsAsync(results, "role", cancellationToken).ConfigureAwait(false);
                var groups = grants.Select(g => g.PrincipalId).Where(id => expanded.GetValueOrDefault(id) is GraphGroup).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                foreach (var grant in grants)
                {
                    edges.Add(new PrivilegeEdge(grant.PrincipalId, groupOrRole, grant.Eligible ? EdgeKind.EligibleRole : EdgeKind.Role));
                }

                await AddUsersAsync(principals, grants.Select(g => g.PrincipalId).Where(id => !groups.Contains(id, StringComparer.OrdinalIgnoreCase)), cancellationToken).ConfigureAwait(false);
                var holding = grants.Where(g => !g.Eligible).Select(g => g.PrincipalId).ToHashSet(StringComparer.OrdinalIgnoreCase);
                foreach (var group in groups)
                {
                    principals.TryAdd(group, new PrivilegePrincipal(group, PrincipalKind.Group, (expanded[group] as GraphGroup)?.DisplayName ?? group));
                    if (holding.Contains(group)) await AddMembersAsync(principals, edges, group, cancellationToken).ConfigureAwait(false);
                }

                return CriticalSet.From(Provider.Entra, groupOrRole, PrivilegeGraph.Build(principals.Values, edges));
            }

            var matches = Guid.TryParse(groupOrRole, out _)
                ? await GroupByIdAsync(groupOrRole, cancellationToken).ConfigureAwait(false)
                : (await Graph.Groups.GetAsync(r =>
                {
                    r.QueryParameters.Filter = $"displayName eq {name}";
                    r.QueryParameters.Select = ["id", "displayName"];
                }, cancellationToken).ConfigureAwait(false))?.Value ?? [];
            if (matches.Count == 0) return CriticalSet.From(Provider.Entra, groupOrRole, PrivilegeGraph.Empty);
            if (matches.Count > 1)
            {
                throw new ConnectorException($"{matches.Count} Entra groups are called '{groupOrRole}' ({string.Join(", ", matches.Select(g => g.Id))}); name the critical group by its object id");
            }

            var set = matches[0];
            principals[set.Id!] = new PrivilegePrincipal(set.Id!, PrincipalKind.Group, set.DisplayName ?? set.Id!);
            await AddMembersAsync(principals, edges, set.Id!, cancellationToken).ConfigureAwait(false);
            return CriticalSet.From(Provider.Entra, set.Id!, PrivilegeGraph.Build(principals.Values, edges)) with { Name = groupOrRole };
        }, $"count the enabled holders of {groupOrRole}").ConfigureAwait(false);
    }

    private async Task<List<GraphGroup>> GroupByIdAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var group = await Graph.Groups[id].GetAsync(r => r.QueryParameters.Select = ["id", "displayName"], cancellationToken).ConfigureAwait(false);
            return group is null ? [] : [group];
        }
        catch (Exception e) when (GraphErrors.IsNotFound(e))
        {
            return [];
        }
    }

    /// <summary>Users among <paramref name="ids"/> with their enabled flag, read in batches; ids that are no user are left out.</summary>
    private async Task AddUsersAsync(Dictionary<string, PrivilegePrincipal> principals, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.Distinct(StringComparer.OrdinalIgnoreCase).Where(id => !principals.ContainsKey(id)).ToList();
        var results = await _reads.BatchAsync([.. wanted.Select(id => ("p-" + id, Graph.Users[id].ToGetRequestInformation(r => r.QueryParameters.Select = ["id", "accountEnabled", "userPrincipalName"])))],
            cancellationToken).ConfigureAwait(false);
        foreach (var id in wanted)
        {
            var user = await results.GetAsync<GraphUser>("p-" + id, $"read role holder {id}").ConfigureAwait(false);
            if (user is not null) principals[id] = new PrivilegePrincipal(user.Id!, PrincipalKind.User, user.UserPrincipalName ?? user.Id!) { Enabled = user.AccountEnabled == true };
        }
    }

    /// <summary>Direct members of the group and of every group nested in it, each once (cycles stop), as Member edges.</summary>
    private async Task AddMembersAsync(Dictionary<string, PrivilegePrincipal> principals, List<PrivilegeEdge> edges, string groupId, CancellationToken cancellationToken)
    {
        var queue = new Queue<string>([groupId]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { groupId };
        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            var page = await Graph.Groups[current].Members.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id", "displayName", "userPrincipalName", "accountEnabled"];
                r.QueryParameters.Top = _options.PageSize;
            }, cancellationToken).ConfigureAwait(false);
            foreach (var member in await _reads.AllAsync<DirectoryObject, DirectoryObjectCollectionResponse>(page, cancellationToken).ConfigureAwait(false))
            {
                edges.Add(new PrivilegeEdge(member.Id!, current, EdgeKind.Member));
                switch (member)
                {
                    case GraphUser user:
                        principals.TryAdd(user.Id!, new PrivilegePrincipal(user.Id!, PrincipalKind.User, user.UserPrincipalName ?? user.Id!) { Enabled = user.AccountEnabled == true });
                        break;
                    case GraphGroup nested:
                        principals.TryAdd(nested.Id!, new PrivilegePrincipal(nested.Id!, PrincipalKind.Group, nested.DisplayName ?? nested.Id!));
                        if (seen.Add(nested.Id!)) queue.Enqueue(nested.Id!);
                        break;
                }
            }
        }
    }
}
