using Microsoft.Graph.Models;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using GraphGroup = Microsoft.Graph.Models.Group;
using GraphUser = Microsoft.Graph.Models.User;

namespace ResponseEngine.Connectors.Entra;

/// <summary>`respond snapshot` for Entra ID: the whole tenant in a handful of paged lists and batched member reads.</summary>
public sealed partial class EntraConnector : IDirectoryExport
{
    /// <summary>
    /// Every user and group: users with the selected properties, groups with their direct members (first pages read in
    /// batches of 20), active tenant-wide role assignments, Identity Protection risk, and the engine-managed MFA policies —
    /// so the cost grows with groups and role holders, not with one call per user.
    /// </summary>
    public async Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken) => await Guarded(async () =>
    {
        var users = await _reads.AllAsync<GraphUser, UserCollectionResponse>(await Graph.Users.GetAsync(r =>
        {
            r.QueryParameters.Select = UserProperties;
            r.QueryParameters.Top = _options.PageSize;
        }, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var groups = await _reads.AllAsync<GraphGroup, GroupCollectionResponse>(await Graph.Groups.GetAsync(r =>
        {
            r.QueryParameters.Select = GroupProperties;
            r.QueryParameters.Top = _options.PageSize;
        }, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

        var requests = groups.Select(g => ("g-" + g.Id, Graph.Groups[g.Id].Members.ToGetRequestInformation(r =>
        {
            r.QueryParameters.Select = ["id"];
            r.QueryParameters.Top = _options.PageSize;
        }))).ToList();
        var pages = await _reads.BatchAsync(requests, cancellationToken).ConfigureAwait(false);
        var groupsOf = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var byId = groups.ToDictionary(g => g.Id!, StringComparer.OrdinalIgnoreCase);
        foreach (var group in groups)
        {
            var first = await pages.GetAsync<DirectoryObjectCollectionResponse>("g-" + group.Id, $"list the members of {group.DisplayName}").ConfigureAwait(false);
            foreach (var member in await _reads.AllAsync<DirectoryObject, DirectoryObjectCollectionResponse>(first, cancellationToken).ConfigureAwait(false))
            {
                if (!groupsOf.TryGetValue(member.Id!, out var held)) groupsOf[member.Id!] = held = [];
                held.Add(group.DisplayName ?? group.Id!);
            }
        }

        var assignments = await _reads.AllAsync<UnifiedRoleAssignment, UnifiedRoleAssignmentCollectionResponse>(
            await Graph.RoleManagement.Directory.RoleAssignments.GetAsync(r =>
            {
                r.QueryParameters.Expand = ["roleDefinition"];
                r.QueryParameters.Top = _options.PageSize;
            }, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var rolesOf = assignments.Where(a => a.DirectoryScopeId is null or "/" && a.PrincipalId is not null && a.RoleDefinition?.DisplayName is not null)
            .GroupBy(a => a.PrincipalId!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(a => a.RoleDefinition!.DisplayName!).Distinct(StringComparer.OrdinalIgnoreCase).ToList(), StringComparer.OrdinalIgnoreCase);
        var risky = await _reads.AllAsync<RiskyUser, RiskyUserCollectionResponse>(
            await Graph.IdentityProtection.RiskyUsers.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var riskOf = risky.Where(r => r.Id is not null).ToDictionary(r => r.Id!, RiskStateOf, StringComparer.OrdinalIgnoreCase);
        var policiesOf = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in _state.Names(_options.TenantId))
        {
            var policy = await FindPolicyAsync(name, cancellationToken).ConfigureAwait(false);
            foreach (var id in policy?.Conditions?.Users?.IncludeUsers ?? [])
            {
                if (!policiesOf.TryGetValue(id, out var names)) policiesOf[id] = names = [];
                names.Add(policy!.DisplayName ?? name);
            }
        }

        var entries = users.Select(user => new UserEntry(Provider.Entra, user.Id!, user.UserPrincipalName ?? user.Id!)
        {
            Upn = user.UserPrincipalName,
            Email = user.Mail,
            DisplayName = user.DisplayName,
            Enabled = user.AccountEnabled == true,
            Guest = string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase),
            Groups = groupsOf.GetValueOrDefault(user.Id!) ?? [],
            Roles = rolesOf.GetValueOrDefault(user.Id!) ?? [],
            PasswordMustChange = user.PasswordProfile?.ForceChangePasswordNextSignIn == true,
            SessionsRevokedAt = user.SignInSessionsValidFromDateTime,
            RiskState = riskOf.GetValueOrDefault(user.Id!) ?? RiskStates.None,
            MfaPolicies = policiesOf.GetValueOrDefault(user.Id!) ?? [],
        }).ToList();
        var snapshotGroups = groups.Select(g => new Identities.Group(Provider.Entra, g.Id!, g.DisplayName ?? g.Id!)
        {
            Dynamic = g.GroupTypes?.Contains("DynamicMembership", StringComparer.OrdinalIgnoreCase) == true,
            Synced = g.OnPremisesSyncEnabled == true,
            MemberOf = [.. groupsOf.GetValueOrDefault(g.Id!) ?? []],
        }).ToList();
        return new DirectoryExport(Provider.Entra, entries, snapshotGroups);
    }, "export the directory").ConfigureAwait(false);
}
