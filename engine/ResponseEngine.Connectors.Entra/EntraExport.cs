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
    /// batches of 20), tenant-wide role assignments of users and role-assignable groups (permanent, PIM-active, PIM-eligible),
    /// Identity Protection risk, and the engine-managed MFA policies —
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

        var (grants, _) = await GrantsAsync(await _reads.BatchAsync([.. RoleReads("all", null)], cancellationToken).ConfigureAwait(false), "all", cancellationToken).ConfigureAwait(false);
        var grantsOf = grants.GroupBy(g => g.PrincipalId, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.OrdinalIgnoreCase);
        var groupIdsByName = groups.Where(g => g.DisplayName is not null).GroupBy(g => g.DisplayName!, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Id!, StringComparer.OrdinalIgnoreCase);
        List<RoleGrant> GrantsOf(string id) => grantsOf.GetValueOrDefault(id) ?? [];

        // Eligibility held through a group is reported on its members: the snapshot's groups carry active roles only.
        List<RoleGrant> EligibleOf(string userId) =>
            [.. GrantsOf(userId).Concat((groupsOf.GetValueOrDefault(userId) ?? []).SelectMany(name => groupIdsByName.TryGetValue(name, out var gid) ? GrantsOf(gid) : []))];
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
            OnPremisesSid = user.OnPremisesSecurityIdentifier,
            OnPremisesImmutableId = user.OnPremisesImmutableId,
            EmployeeId = user.EmployeeId,
            DisplayName = user.DisplayName,
            Enabled = user.AccountEnabled == true,
            Guest = string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase),
            Groups = groupsOf.GetValueOrDefault(user.Id!) ?? [],
            Roles = Active(GrantsOf(user.Id!)),
            EligibleRoles = EligibleOnly(EligibleOf(user.Id!)),
            PasswordMustChange = user.PasswordProfile?.ForceChangePasswordNextSignIn == true,
            SessionsRevokedAt = user.SignInSessionsValidFromDateTime,
            RiskState = riskOf.GetValueOrDefault(user.Id!) ?? RiskStates.None,
            MfaPolicies = policiesOf.GetValueOrDefault(user.Id!) ?? [],
        }).ToList();
        var snapshotGroups = groups.Select(g => new Identities.Group(Provider.Entra, g.Id!, g.DisplayName ?? g.Id!)
        {
            Dynamic = g.GroupTypes?.Contains("DynamicMembership", StringComparer.OrdinalIgnoreCase) == true,
            Synced = g.OnPremisesSyncEnabled == true,
            RoleAssignable = g.IsAssignableToRole == true,
            Roles = Active(GrantsOf(g.Id!)),
            MemberOf = [.. groupsOf.GetValueOrDefault(g.Id!) ?? []],
        }).ToList();
        return new DirectoryExport(Provider.Entra, entries, snapshotGroups);
    }, "export the directory").ConfigureAwait(false);
}
