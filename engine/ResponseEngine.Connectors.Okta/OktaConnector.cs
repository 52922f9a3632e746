using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Connectors.Okta;

/// <summary>
/// The Okta org behind the management API: lookups (status, groups, admin roles), the lifecycle actions read before they
/// are applied (Okta answers a call from the wrong status with E0000001, so "already there" is a no-op), and the live
/// counts lockout protection needs.
/// </summary>
public sealed partial class OktaConnector : IConnector, IDirectoryExport, IGrantedPermissions, IDisposable
{
    /// <summary>Okta's standard admin role types; any other name given to <see cref="CountCriticalAsync"/> is a group.</summary>
    public static ImmutableArray<string> RoleTypes { get; } =
    [
        "SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN", "USER_ADMIN", "HELP_DESK_ADMIN", "READ_ONLY_ADMIN", "MOBILE_ADMIN",
        "API_ACCESS_MANAGEMENT_ADMIN", "REPORT_ADMIN", "GROUP_MEMBERSHIP_ADMIN",
    ];

    private const string OktaGroupType = "OKTA_GROUP";

    private readonly OktaClient _client;
    private readonly PrivilegedPolicy _policy;
    private readonly TimeProvider _time;
    private readonly IDisposable? _owned;
    private readonly OktaOptions _options;

    private OktaConnector(OktaClient client, OktaOptions options, PrivilegedPolicy policy, TimeProvider time, IDisposable? owned)
    {
        _client = client;
        _options = options;
        _policy = policy;
        _time = time;
        _owned = owned;
    }

    public Provider Provider => Provider.Okta;

    /// <summary>Time spent waiting for Okta rate-limit windows to reset.</summary>
    public TimeSpan RateLimitWaited => _client.Gate.Waited;

    /// <summary>
    /// Builds a connector from validated options. <paramref name="httpClient"/> is the typed client's transport (its
    /// Timeout is not used: deadlines run on <paramref name="time"/>); pass an emulator's client in tests.
    /// </summary>
    public static OktaConnector Create(OktaOptions options, PrivilegedPolicy policy, TimeProvider time, HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        var problems = options.Validate();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems), nameof(options));
        IOktaAuthorization auth;
        ServiceAppAuthorization? owned = null;
        if (options.Auth == OktaAuthMode.ServiceApp)
        {
            auth = owned = new ServiceAppAuthorization(httpClient, options, time);
        }
        else
        {
            auth = new ApiTokenAuthorization(options.ApiToken!);
        }

        return new OktaConnector(new OktaClient(httpClient, options, time, auth), options, policy, time, owned);
    }

    public void Dispose() => _owned?.Dispose();

    /// <summary>
    /// A service app's token is issued only with every scope it asked for (Okta answers invalid_scope otherwise), so
    /// after a sign-in those are granted. An API token acts with the admin roles of the admin who made it
    /// (GET /api/v1/users/me, then their roles), which are not scopes: reported as they are.
    /// </summary>
    public async Task<GrantedPermissions> ReadGrantedAsync(CancellationToken cancellationToken)
    {
        if (_options.Auth == OktaAuthMode.ServiceApp)
        {
            // A service app has no user behind it (no /users/me); its sign-in, which the connector check makes, is the proof.
            return new GrantedPermissions([.. _options.Scopes.Order(StringComparer.Ordinal)], true, "the scopes the service app signs in with (Okta refuses a token missing any)");
        }

        var me = await _client.GetUserAsync("me", cancellationToken).ConfigureAwait(false)
                 ?? throw new ConnectorException("Okta does not know the API token's owner (GET /api/v1/users/me)");
        var roles = await _client.ListUserRolesAsync(me.Id, cancellationToken).ConfigureAwait(false);
        return new GrantedPermissions([.. roles.Select(r => r.Type).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], false,
            $"the admin roles of {me.Profile.Login}, whose API token this is (an API token acts with its admin's roles, not with scopes)");
    }

    public async Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Provider != Provider.Okta) return IdentityLookup.NotFound($"{subject.Provider.Name()} accounts are not in Okta");
        OktaUser? user = null;
        if (subject.Id is not null) user = await _client.GetUserAsync(subject.Id, cancellationToken).ConfigureAwait(false);
        if (user is null && subject.Name is not null)
        {
            // By login (or its short name) first; then an exact login or e-mail search, which may match several accounts.
            user = await _client.GetUserAsync(subject.Name, cancellationToken).ConfigureAwait(false);
            if (user is null)
            {
                var matches = await _client.FindUsersAsync(subject.Name, cancellationToken).ConfigureAwait(false);
                if (matches.Count > 1) return IdentityLookup.NotFound($"{matches.Count} Okta accounts match '{subject.Name}'; refusing to guess");
                user = matches.FirstOrDefault();
            }
        }

        if (user is null)
        {
            var what = subject.Id is not null && subject.Name is not null ? $"id '{subject.Id}' or name '{subject.Name}'"
                : subject.Id is not null ? $"id '{subject.Id}'" : $"name '{subject.Name}'";
            return IdentityLookup.NotFound($"no Okta account matches {what}");
        }

        return IdentityLookup.Found(await IdentityOfAsync(user, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var (kind, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        switch (kind)
        {
            case OktaAction.RevokeGroup:
            {
                var held = await HeldGroupsAsync(user, request, cancellationToken).ConfigureAwait(false);
                var prior = new JsonObject
                {
                    ["okta_status"] = user.Status,
                    ["groups"] = new JsonArray([.. held.Select(g => (JsonNode)new JsonObject { ["id"] = g.Id, ["name"] = g.Profile.Name })]),
                };
                var description = held.Count > 0
                    ? "direct member of " + string.Join(", ", held.Select(g => g.Profile.Name))
                    : "direct member of no OKTA_GROUP among " + string.Join(", ", request.Parameters.Strings("groups"));
                return new TargetState(held.Count == 0, prior.ToJsonString(), description);
            }

            case OktaAction.RevokeSessions:
            {
                var cleared = await SessionsClearedAtAsync(user, cancellationToken).ConfigureAwait(false);
                var done = SessionsDone(user, cleared);
                var prior = new JsonObject
                {
                    ["okta_status"] = user.Status,
                    ["last_login"] = user.LastLogin?.ToString("O"),
                    ["sessions_cleared_at"] = cleared?.ToString("O"),
                };
                var description = done
                    ? cleared is null ? "never signed in" : $"no sign-in since sessions were cleared at {cleared:O}"
                    : user.LastLogin is null ? "may hold sessions" : $"signed in at {user.LastLogin:O}, sessions not cleared since";
                return new TargetState(done, prior.ToJsonString(), description);
            }

            default:
                return new TargetState(StatusDone(kind, user.Status), new JsonObject { ["okta_status"] = user.Status }.ToJsonString(), $"status {user.Status}");
        }
    }

    public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var (kind, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        switch (kind)
        {
            case OktaAction.Suspend:
                await LifecycleAsync(user, "suspend", kind, "Okta suspends only ACTIVE users", cancellationToken).ConfigureAwait(false);
                break;
            case OktaAction.Unsuspend:
                if (user.Status == OktaStatuses.Deprovisioned)
                {
                    throw new ConnectorException($"Okta user {user.Profile.Login} is DEPROVISIONED: enable_user only unsuspends; reactivating a deactivated user is a manual step");
                }

                await LifecycleAsync(user, "unsuspend", kind, "Okta unsuspends only SUSPENDED users", cancellationToken).ConfigureAwait(false);
                break;
            case OktaAction.Deactivate:
                await LifecycleAsync(user, "deactivate", kind, "the user is already DEPROVISIONED", cancellationToken).ConfigureAwait(false);
                break;
            case OktaAction.ExpirePassword:
                await LifecycleAsync(user, "expire_password", kind, "Okta expires the password of ACTIVE users only", cancellationToken).ConfigureAwait(false);
                break;
            case OktaAction.RevokeSessions:
                await _client.ClearSessionsAsync(user.Id, cancellationToken).ConfigureAwait(false);
                break;
            case OktaAction.RevokeGroup:
            {
                var (held, refused) = await ClassifyGroupsAsync(user, request, cancellationToken).ConfigureAwait(false);
                if (held.Count == 0 && refused.Count > 0)
                {
                    throw new ConnectorException($"Okta user {user.Profile.Login}: " + string.Join("; ", refused.Select(g =>
                        $"'{g.Profile.Name}' is an Okta {g.Type}, whose membership is managed by {(g.Type == "APP_GROUP" ? "an application" : "Okta")}, not through the groups API")));
                }

                foreach (var group in held)
                {
                    await _client.RemoveGroupMemberAsync(group.Id, user.Id, cancellationToken).ConfigureAwait(false);
                }

                break;
            }
        }
    }

    public async Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var (kind, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        return kind switch
        {
            OktaAction.RevokeGroup => (await HeldGroupsAsync(user, request, cancellationToken).ConfigureAwait(false)).Count == 0,
            OktaAction.RevokeSessions => SessionsDone(user, await SessionsClearedAtAsync(user, cancellationToken).ConfigureAwait(false)),
            _ => StatusDone(kind, user.Status),
        };
    }

    public async Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = KindOf(request);
        if (!request.Action.Reversal.Reversible)
        {
            throw new ConnectorException($"{request.Action.Name} cannot be undone in Okta: {request.Action.Reversal.How}");
        }

        var prior = ParsePrior(priorState);
        var (_, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        switch (kind)
        {
            case OktaAction.Suspend or OktaAction.Unsuspend:
            {
                var wanted = prior["okta_status"]?.GetValue<string>()
                    ?? throw new ConnectorException("the recorded prior state has no okta_status; nothing to restore to");
                var wantsEnabled = OktaStatuses.IsEnabled(wanted);
                if (wantsEnabled && user.Status == OktaStatuses.Suspended)
                {
                    await _client.LifecycleAsync(user.Id, "unsuspend", "Okta unsuspends only SUSPENDED users", cancellationToken).ConfigureAwait(false);
                }
                else if (wanted == OktaStatuses.Suspended && user.Status == OktaStatuses.Active)
                {
                    await _client.LifecycleAsync(user.Id, "suspend", "Okta suspends only ACTIVE users", cancellationToken).ConfigureAwait(false);
                }
                else if (wantsEnabled != OktaStatuses.IsEnabled(user.Status))
                {
                    throw new ConnectorException($"Okta user {user.Profile.Login} is {user.Status}; no lifecycle operation takes it back to {wanted}");
                }

                break;
            }

            case OktaAction.RevokeGroup:
                foreach (var node in prior["groups"]?.AsArray() ?? [])
                {
                    var id = node?["id"]?.GetValue<string>() ?? throw new ConnectorException("the recorded prior state lists a group without an id");
                    await _client.AddGroupMemberAsync(id, user.Id, cancellationToken).ConfigureAwait(false);
                }

                break;
        }
    }

    /// <summary>
    /// A role's holders: users it is assigned to (the role-assignee listing, then each one's roles) and every group it is
    /// assigned to (each group's roles), expanded by the group's members (group rules included, as Okta lists them).
    /// A group's holders: its members. Both as a privilege graph of Role and Member edges.
    /// </summary>
    public async Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groupOrRole);
        var principals = new Dictionary<string, PrivilegePrincipal>(StringComparer.Ordinal);
        var edges = new List<PrivilegeEdge>();
        var sources = Membership.Sources(await _client.ListGroupRulesAsync(cancellationToken).ConfigureAwait(false));
        var groupsById = new Lazy<Task<Dictionary<string, OktaGroup>>>(async () =>
            (await _client.ListGroupsAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(g => g.Id, StringComparer.Ordinal));

        // A group's members as Okta lists them (group rules included); a member a rule explains holds the group through
        // the rule's source group (Okta's nesting), which is followed in turn, each group once.
        async Task AddMembersAsync(OktaGroup start)
        {
            var queue = new Queue<OktaGroup>([start]);
            var seen = new HashSet<string>(StringComparer.Ordinal) { start.Id };
            while (queue.Count > 0)
            {
                var group = queue.Dequeue();
                principals.TryAdd(group.Id, new PrivilegePrincipal(group.Id, PrincipalKind.Group, group.Profile.Name));
                var explained = new HashSet<string>(StringComparer.Ordinal);
                foreach (var sourceId in sources.GetValueOrDefault(group.Id) ?? [])
                {
                    if (!(await groupsById.Value.ConfigureAwait(false)).TryGetValue(sourceId, out var source)) continue;
                    edges.Add(new PrivilegeEdge(source.Id, group.Id, EdgeKind.Member));
                    explained.UnionWith((await _client.ListGroupMembersAsync(source.Id, cancellationToken).ConfigureAwait(false)).Select(u => u.Id));
                    if (seen.Add(source.Id)) queue.Enqueue(source);
                }

                foreach (var user in await _client.ListGroupMembersAsync(group.Id, cancellationToken).ConfigureAwait(false))
                {
                    principals.TryAdd(user.Id, new PrivilegePrincipal(user.Id, PrincipalKind.User, user.Profile.Login) { Enabled = OktaStatuses.IsEnabled(user.Status) });
                    if (!explained.Contains(user.Id)) edges.Add(new PrivilegeEdge(user.Id, group.Id, EdgeKind.Member));
                }
            }
        }

        if (RoleTypes.Contains(groupOrRole, StringComparer.Ordinal))
        {
            foreach (var id in (await _client.ListRoleAssigneesAsync(cancellationToken).ConfigureAwait(false)).Distinct(StringComparer.Ordinal))
            {
                var roles = await _client.ListUserRolesAsync(id, cancellationToken).ConfigureAwait(false);
                if (!roles.Any(r => r.Type == groupOrRole && r.Active && !r.ToGroup)) continue;
                var user = await _client.GetUserAsync(id, cancellationToken).ConfigureAwait(false);
                if (user is null) continue;
                principals.TryAdd(user.Id, new PrivilegePrincipal(user.Id, PrincipalKind.User, user.Profile.Login) { Enabled = OktaStatuses.IsEnabled(user.Status) });
                edges.Add(new PrivilegeEdge(user.Id, groupOrRole, EdgeKind.Role));
            }

            foreach (var group in await _client.ListGroupsAsync(cancellationToken).ConfigureAwait(false))
            {
                var roles = await _client.ListGroupRolesAsync(group.Id, cancellationToken).ConfigureAwait(false);
                if (!roles.Any(r => r.Type == groupOrRole && r.Active)) continue;
                await AddMembersAsync(group).ConfigureAwait(false);
                edges.Add(new PrivilegeEdge(group.Id, groupOrRole, EdgeKind.Role));
            }

            return CriticalSet.From(Provider.Okta, groupOrRole, PrivilegeGraph.Build(principals.Values, edges));
        }

        var matches = (await _client.FindGroupsAsync(groupOrRole, cancellationToken).ConfigureAwait(false))
            .Where(g => string.Equals(g.Profile.Name, groupOrRole, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 0) return CriticalSet.From(Provider.Okta, groupOrRole, PrivilegeGraph.Empty);
        if (matches.Count > 1)
        {
            throw new ConnectorException($"{matches.Count} Okta groups are called '{groupOrRole}' ({string.Join(", ", matches.Select(g => g.Id))}); give each a distinct name");
        }

        await AddMembersAsync(matches[0]).ConfigureAwait(false);
        return CriticalSet.From(Provider.Okta, matches[0].Id, PrivilegeGraph.Build(principals.Values, edges)) with { Name = groupOrRole };
    }

    /// <summary>
    /// Every user (DEPROVISIONED ones excepted, as Okta lists them) and group: members read per group, admin roles only for
    /// the users the role-assignee listing names, group-rule nesting as lookups see it — so the export costs a few calls
    /// per group and per admin, not per user.
    /// </summary>
    public async Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken)
    {
        var users = await _client.ListUsersAsync(cancellationToken).ConfigureAwait(false);
        var groups = await _client.ListGroupsAsync(cancellationToken).ConfigureAwait(false);
        var rules = await _client.ListGroupRulesAsync(cancellationToken).ConfigureAwait(false);
        var groupsOf = new Dictionary<string, List<OktaGroup>>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            foreach (var member in await _client.ListGroupMembersAsync(group.Id, cancellationToken).ConfigureAwait(false))
            {
                if (!groupsOf.TryGetValue(member.Id, out var held)) groupsOf[member.Id] = held = [];
                held.Add(group);
            }
        }

        var roles = new Dictionary<string, List<OktaRole>>(StringComparer.Ordinal);
        foreach (var id in (await _client.ListRoleAssigneesAsync(cancellationToken).ConfigureAwait(false)).Distinct(StringComparer.Ordinal))
        {
            roles[id] = [.. (await _client.ListUserRolesAsync(id, cancellationToken).ConfigureAwait(false)).Where(r => !r.ToGroup)];
        }

        var groupRoles = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            groupRoles[group.Id] = ActiveTypes(await _client.ListGroupRolesAsync(group.Id, cancellationToken).ConfigureAwait(false));
        }

        var entries = users.Select(user => Entry(user, Membership.Of(groupsOf.GetValueOrDefault(user.Id) ?? [], rules), roles.GetValueOrDefault(user.Id) ?? [])).ToList();
        var all = Membership.Of(groups, rules);
        var snapshotGroups = groups.Select(g => new Identities.Group(Provider.Okta, g.Id, g.Profile.Name)
        {
            OktaType = g.Type,
            MemberOf = all.Parents(g),
            Roles = groupRoles[g.Id],
        }).ToList();
        return new DirectoryExport(Provider.Okta, entries, snapshotGroups);
    }

    private async Task<Identity> IdentityOfAsync(OktaUser user, CancellationToken cancellationToken)
    {
        var groups = await _client.ListUserGroupsAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var rules = await _client.ListGroupRulesAsync(cancellationToken).ConfigureAwait(false);
        var roles = await _client.ListUserRolesAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var membership = Membership.Of(groups, rules);
        var viaGroups = roles.Where(r => r.ToGroup && r.Active).ToList();
        var known = groups.Select(g => g.Id).ToHashSet(StringComparer.Ordinal);

        // A group role whose group the user's group list does not show still counts: taken as the user's own, never lost.
        var entry = Entry(user, membership, [.. roles.Where(r => !r.ToGroup || r.AssigneeId is not { } id || !known.Contains(id))]);
        var snapshotGroups = groups.Select(g => new Identities.Group(Provider.Okta, g.Id, g.Profile.Name)
        {
            OktaType = g.Type,
            MemberOf = membership.Parents(g),
            Roles = ActiveTypes(viaGroups.Where(r => r.AssigneeId == g.Id)),
        });
        return DirectorySnapshot.Build([entry], snapshotGroups, _policy).Users[0];
    }

    /// <summary>Listed groups the user is a direct member of and Okta lets the engine edit (OKTA_GROUP).</summary>
    private async Task<List<OktaGroup>> HeldGroupsAsync(OktaUser user, ActionRequest request, CancellationToken cancellationToken) =>
        (await ClassifyGroupsAsync(user, request, cancellationToken).ConfigureAwait(false)).Held;

    private async Task<(List<OktaGroup> Held, List<OktaGroup> Refused)> ClassifyGroupsAsync(OktaUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        var wanted = request.Parameters.Strings("groups");
        var groups = await _client.ListUserGroupsAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var rules = await _client.ListGroupRulesAsync(cancellationToken).ConfigureAwait(false);
        var listed = Membership.Of(groups, rules).Direct
            .Where(g => wanted.Contains(g.Profile.Name, StringComparer.OrdinalIgnoreCase))
            .ToList();
        return ([.. listed.Where(g => g.Type == OktaGroupType)], [.. listed.Where(g => g.Type != OktaGroupType)]);
    }

    private async Task<DateTimeOffset?> SessionsClearedAtAsync(OktaUser user, CancellationToken cancellationToken)
    {
        // Only a clearing after the last sign-in matters; the System Log keeps 90 days.
        var floor = _time.GetUtcNow().AddDays(-90);
        var since = user.LastLogin is { } login && login > floor ? login : floor;
        var cleared = await _client.LastSessionClearAsync(user.Id, since, cancellationToken).ConfigureAwait(false);
        return cleared?.Published;
    }

    private static string? NullIfEmpty(string text) => text.Length > 0 ? text : null;

    private static bool SessionsDone(OktaUser user, DateTimeOffset? clearedAt) =>
        user.LastLogin is null || (clearedAt is { } cleared && cleared >= user.LastLogin);

    private static bool StatusDone(OktaAction kind, string status) => kind switch
    {
        OktaAction.Suspend => status is OktaStatuses.Suspended or OktaStatuses.Deprovisioned,
        OktaAction.Unsuspend => OktaStatuses.IsEnabled(status),
        OktaAction.Deactivate => status == OktaStatuses.Deprovisioned,
        OktaAction.ExpirePassword => status == OktaStatuses.PasswordExpired,
        _ => false,
    };

    /// <summary>
    /// One lifecycle call on the user as read at the moment of acting. A user already in the wanted status (changed since
    /// the executor read it) is reported as such and not called; when Okta refuses (E0000001) because the status changed
    /// meanwhile, the user read again says which: already there, or no longer in a status the operation applies to.
    /// Either way nothing was changed, so it is a <see cref="TargetChangedException"/>, never a failure nor a success.
    /// </summary>
    private async Task LifecycleAsync(OktaUser user, string operation, OktaAction kind, string hint, CancellationToken cancellationToken)
    {
        if (StatusDone(kind, user.Status)) throw AlreadyThere(user.Status);
        try
        {
            await _client.LifecycleAsync(user.Id, operation, hint, cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectorException e) when (e.Message.Contains(OktaErrors.ApiValidationFailed, StringComparison.Ordinal))
        {
            var now = await _client.GetUserAsync(user.Id, cancellationToken).ConfigureAwait(false);
            if (now is not null && StatusDone(kind, now.Status)) throw AlreadyThere(now.Status);
            var message = $"{e.Message} (user {user.Profile.Login} is {now?.Status ?? user.Status})";
            if (now is not null && !From(kind, now.Status))
            {
                throw new TargetChangedException(Status(now.Status, done: false), $"{message}; {hint}; nothing done");
            }

            throw new ConnectorException(message, e.Transient, e);
        }

        TargetChangedException AlreadyThere(string status) =>
            new(Status(status, done: true), $"already {status} when the change was to be made (changed since it was read); nothing done");
        static TargetState Status(string status, bool done) => new(done, new JsonObject { ["okta_status"] = status }.ToJsonString(), $"status {status}");
    }

    /// <summary>Whether the operation's guard precondition (ACTIVE for suspend and expire_password) still holds for this status.</summary>
    private static bool From(OktaAction kind, string status) => kind switch
    {
        OktaAction.Suspend or OktaAction.ExpirePassword => status == OktaStatuses.Active,

        // enable_user has no status precondition in the guards: a refused unsuspend did not meet a changed account, it failed.
        _ => true,
    };

    private async Task<(OktaAction Kind, OktaUser User)> TargetAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = KindOf(request);
        var user = await _client.GetUserAsync(request.Target.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new ConnectorException($"no Okta user with id '{request.Target.Id}' ({request.Target.Name}); nothing done");
        return (kind, user);
    }

    private static OktaAction KindOf(ActionRequest request)
    {
        if (request.Target.Provider != Provider.Okta)
        {
            throw new ConnectorException($"the Okta connector cannot act on a {request.Target.Provider.Name()} account ({request.Target.Name})");
        }

        return request.Action.Name switch
        {
            "disable_user" => OktaAction.Suspend,
            "enable_user" => OktaAction.Unsuspend,
            "deactivate_user" => OktaAction.Deactivate,
            "reset_password" => OktaAction.ExpirePassword,
            "revoke_sessions" => OktaAction.RevokeSessions,
            "revoke_group" => OktaAction.RevokeGroup,
            _ => throw new ConnectorException($"{request.Action.Name} is not an Okta action (Okta supports disable_user, enable_user, deactivate_user, reset_password, revoke_sessions, revoke_group)"),
        };
    }

    private static JsonObject ParsePrior(string priorState)
    {
        try
        {
            return JsonNode.Parse(priorState) as JsonObject ?? throw new ConnectorException("the recorded prior state is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ConnectorException($"the recorded prior state is not JSON: {e.Message}", e);
        }
    }

    private enum OktaAction
    {
        Suspend,
        Unsuspend,
        Deactivate,
        ExpirePassword,
        RevokeSessions,
        RevokeGroup,
    }

    /// <summary>
    /// Okta has no nested groups; a group rule "members of A join B" plays that part. A membership a rule explains is
    /// not direct: removing it is futile while the rule holds, and it shows as nesting (A member of B) instead.
    /// </summary>
    private static UserEntry Entry(OktaUser user, Membership membership, List<OktaRole> roles) => new(Provider.Okta, user.Id, user.Profile.Login)
    {
        Upn = user.Profile.Login,
        Email = user.Profile.Email,
        EmployeeId = user.Profile.EmployeeNumber,
        DisplayName = user.Profile.DisplayName ?? NullIfEmpty($"{user.Profile.FirstName} {user.Profile.LastName}".Trim()),
        Enabled = OktaStatuses.IsEnabled(user.Status),
        Groups = [.. membership.Direct.Select(g => g.Profile.Name)],
        Roles = ActiveTypes(roles),
        LastSignInAt = user.LastLogin,
        OktaStatus = user.Status,
    };

    private static ImmutableArray<string> ActiveTypes(IEnumerable<OktaRole> roles) => [.. roles.Where(r => r.Active).Select(r => r.Type).Distinct(StringComparer.Ordinal)];

    private sealed partial class Membership
    {
        private readonly Dictionary<string, List<string>> _parents = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OktaGroup> _byId;

        private Membership(List<OktaGroup> groups) => _byId = groups.GroupBy(g => g.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        public List<OktaGroup> Direct { get; } = [];

        public static Membership Of(List<OktaGroup> groups, List<OktaGroupRule> rules)
        {
            var membership = new Membership(groups);
            var derived = new HashSet<string>(StringComparer.Ordinal);
            foreach (var rule in rules.Where(r => r.Status == "ACTIVE"))
            {
                var sources = SourceGroups(rule.Conditions?.Expression?.Value);
                var targets = rule.Actions?.AssignUserToGroups?.GroupIds ?? [];
                if (targets.IsDefault) continue;
                foreach (var source in sources.Where(membership._byId.ContainsKey))
                {
                    foreach (var target in targets.Where(t => t != source && membership._byId.ContainsKey(t)))
                    {
                        derived.Add(target);
                        if (!membership._parents.TryGetValue(source, out var parents)) membership._parents[source] = parents = [];
                        if (!parents.Contains(target)) parents.Add(target);
                    }
                }
            }

            membership.Direct.AddRange(membership._byId.Values.Where(g => !derived.Contains(g.Id)));
            return membership;
        }

        /// <summary>For each group an active rule assigns users to, the groups whose members the rule assigns (its sources).</summary>
        public static Dictionary<string, List<string>> Sources(List<OktaGroupRule> rules)
        {
            var sources = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var rule in rules.Where(r => r.Status == "ACTIVE"))
            {
                var targets = rule.Actions?.AssignUserToGroups?.GroupIds ?? [];
                if (targets.IsDefault) continue;
                foreach (var target in targets)
                {
                    if (!sources.TryGetValue(target, out var list)) sources[target] = list = [];
                    list.AddRange(SourceGroups(rule.Conditions?.Expression?.Value).Where(s => s != target && !list.Contains(s)));
                }
            }

            return sources;
        }

        public ImmutableArray<string> Parents(OktaGroup group) =>
            _parents.TryGetValue(group.Id, out var parents) ? [.. parents.Select(id => _byId[id].Profile.Name)] : [];

        private static IEnumerable<string> SourceGroups(string? expression)
        {
            if (expression is null) yield break;
            foreach (Match call in MemberOfCall().Matches(expression))
            {
                foreach (Match id in QuotedId().Matches(call.Groups["args"].Value)) yield return id.Groups["id"].Value;
            }
        }

        [GeneratedRegex(@"isMemberOf(?:Any)?Group(?:Name)?\((?<args>[^)]*)\)")]
        private static partial Regex MemberOfCall();

        [GeneratedRegex("[\"'](?<id>[^\"']+)[\"']")]
        private static partial Regex QuotedId();
    }
}
