using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Microsoft.Graph.IdentityProtection.RiskyUsers.ConfirmCompromised;
using Microsoft.Graph.IdentityProtection.RiskyUsers.Dismiss;
using Microsoft.Graph.Models;
using ResponseEngine.Actions.Catalogue;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using GraphGroup = Microsoft.Graph.Models.Group;
using GraphUser = Microsoft.Graph.Models.User;

namespace ResponseEngine.Connectors.Entra;

/// <summary>What each action reads, writes and restores.</summary>
public sealed partial class EntraConnector
{
    private async Task<TargetState> ReadStateAsync(EntraAction kind, GraphUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case EntraAction.Disable or EntraAction.Enable:
            {
                var enabled = user.AccountEnabled == true;
                return new TargetState(kind == EntraAction.Disable ? !enabled : enabled, new JsonObject { ["enabled"] = enabled }.ToJsonString(),
                    enabled ? "accountEnabled true" : "accountEnabled false");
            }

            case EntraAction.ResetPassword:
            {
                var must = user.PasswordProfile?.ForceChangePasswordNextSignIn == true;
                return new TargetState(must, new JsonObject { ["password_must_change"] = must }.ToJsonString(),
                    must ? "must change password at next sign-in" : "password change not required");
            }

            case EntraAction.RevokeSessions:
            {
                var (known, lastSignIn) = await LastSignInAsync(user.Id!, cancellationToken).ConfigureAwait(false);
                var revoked = user.SignInSessionsValidFromDateTime;

                // Done when no sign-in came after the last revocation. Without AuditLog.Read.All the last sign-in is unknown:
                // then only a revocation in the last few minutes counts, so a retry or re-run right after is a no-op.
                var done = revoked is { } at && (known
                    ? lastSignIn is null || lastSignIn <= at
                    : _time.GetUtcNow() - at <= UnknownSignInGrace);
                var prior = new JsonObject
                {
                    ["sessions_revoked_at"] = revoked?.ToString("O"),
                    ["last_sign_in"] = lastSignIn?.ToString("O"),
                    ["guest"] = IsGuest(user),
                };
                var description = done ? $"no sign-in since sessions were revoked at {revoked:O}"
                    : !known ? "last sign-in unknown (signInActivity needs AuditLog.Read.All): may hold live sessions"
                    : lastSignIn is null ? "never signed in, and no revocation recorded"
                    : $"signed in at {lastSignIn:O}, sessions not revoked since";
                if (IsGuest(user)) description += "; guest account: its sessions live in its home tenant";
                return new TargetState(done, prior.ToJsonString(), description);
            }

            case EntraAction.MarkCompromised:
            {
                var state = await RiskStateAsync(user.Id!, cancellationToken).ConfigureAwait(false);
                return new TargetState(state == RiskStates.ConfirmedCompromised, new JsonObject { ["risk_state"] = state }.ToJsonString(), "risk state " + state);
            }

            case EntraAction.EnforceMfa or EntraAction.EnforcePhishingResistantMfa:
            {
                var name = PolicyNameOf(request);
                var policy = await FindPolicyAsync(name, cancellationToken).ConfigureAwait(false);
                var covered = policy is not null && Includes(policy, user.Id!);
                var prior = new JsonObject { ["policy_name"] = name, ["policy_id"] = policy?.Id, ["covered"] = covered };
                var description = policy is null ? $"policy '{name}' does not exist yet (it is created on first use)"
                    : (covered ? "covered by '" : "not covered by '") + name + "'" + (policy.State == ConditionalAccessPolicyState.Disabled ? " (the policy is disabled)" : "");
                return new TargetState(covered, prior.ToJsonString(), description);
            }

            case EntraAction.RemoveRoleAssignment:
            {
                var (active, eligible) = await RoleAssignmentsAsync(user.Id!, request, cancellationToken).ConfigureAwait(false);
                var prior = new JsonObject
                {
                    ["assignments"] = new JsonArray([.. active.Select(a => (JsonNode)new JsonObject
                    {
                        ["role"] = a.RoleDefinition?.DisplayName,
                        ["role_definition_id"] = a.RoleDefinitionId,
                        ["directory_scope_id"] = a.DirectoryScopeId ?? "/",
                    })]),
                    ["eligible"] = new JsonArray([.. eligible.Select(e => (JsonNode)JsonValue.Create(e.RoleDefinition?.DisplayName ?? e.RoleDefinitionId ?? ""))]),
                };
                var wanted = string.Join(", ", request.Parameters.Strings("roles"));
                var description = active.Count > 0
                    ? "active assignments of " + string.Join(", ", active.Select(a => a.RoleDefinition?.DisplayName).Distinct())
                    : "no active assignment of " + wanted;
                if (eligible.Count > 0)
                {
                    description += "; PIM-eligible for " + string.Join(", ", eligible.Select(e => e.RoleDefinition?.DisplayName).Distinct())
                        + " (not removed: an eligibility is removed with a roleEligibilityScheduleRequest adminRemove, by a person)";
                }

                return new TargetState(active.Count == 0, prior.ToJsonString(), description);
            }

            case EntraAction.RevokeGroup:
            {
                var (held, refused) = await ClassifyGroupsAsync(user.Id!, request, cancellationToken).ConfigureAwait(false);
                var prior = new JsonObject
                {
                    ["groups"] = new JsonArray([.. held.Select(g => (JsonNode)new JsonObject { ["id"] = g.Id, ["name"] = g.DisplayName })]),
                };
                var description = held.Count > 0
                    ? "direct member of " + string.Join(", ", held.Select(g => g.DisplayName))
                    : "direct member of no editable group among " + string.Join(", ", request.Parameters.Strings("groups"));
                if (refused.Count > 0) description += "; refused: " + string.Join("; ", refused.Select(RefusalOf));
                return new TargetState(held.Count == 0, prior.ToJsonString(), description);
            }

            default:
                throw new ConnectorException($"{request.Action.Name} is not an Entra ID action");
        }
    }

    private async Task ApplyCoreAsync(EntraAction kind, GraphUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        var id = user.Id!;
        switch (kind)
        {
            case EntraAction.Disable or EntraAction.Enable:
                await Graph.Users[id].PatchAsync(new GraphUser { AccountEnabled = kind == EntraAction.Enable }, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;

            case EntraAction.ResetPassword:
                await Graph.Users[id].PatchAsync(new GraphUser { PasswordProfile = new PasswordProfile { ForceChangePasswordNextSignIn = true } },
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                break;

            case EntraAction.RevokeSessions:
                if (IsGuest(user))
                {
                    throw new ConnectorException($"refused: {user.UserPrincipalName} is a guest; its sessions live in its home tenant, revoking here has no effect");
                }

                var answer = await Graph.Users[id].RevokeSignInSessions.PostAsRevokeSignInSessionsPostResponseAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                if (answer?.Value != true) throw new ConnectorException($"Graph answered revokeSignInSessions for {user.UserPrincipalName} with value {answer?.Value}");
                break;

            case EntraAction.MarkCompromised:
                await Graph.IdentityProtection.RiskyUsers.ConfirmCompromised.PostAsync(new ConfirmCompromisedPostRequestBody { UserIds = [id] },
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                break;

            case EntraAction.EnforceMfa or EntraAction.EnforcePhishingResistantMfa:
                if (kind == EntraAction.EnforcePhishingResistantMfa)
                {
                    var roles = await ActiveRolesAsync(id, cancellationToken).ConfigureAwait(false);
                    if (!_policy.IsGlobalAdminLevel(Provider.Entra, roles))
                    {
                        throw new ConnectorException($"refused: {user.UserPrincipalName} holds no global-admin-level role; phishing-resistant MFA is enforced only for those");
                    }
                }

                await ChangePolicyUsersAsync(kind, PolicyNameOf(request), id, add: true, cancellationToken).ConfigureAwait(false);
                break;

            case EntraAction.RemoveRoleAssignment:
            {
                var (active, _) = await RoleAssignmentsAsync(id, request, cancellationToken).ConfigureAwait(false);
                foreach (var assignment in active)
                {
                    try
                    {
                        await Graph.RoleManagement.Directory.RoleAssignments[assignment.Id].DeleteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (GraphErrors.IsNotFound(e))
                    {
                        // Removed meanwhile: the state the action wants.
                    }
                }

                break;
            }

            case EntraAction.RevokeGroup:
            {
                var (held, refused) = await ClassifyGroupsAsync(id, request, cancellationToken).ConfigureAwait(false);
                if (held.Count == 0 && refused.Count > 0)
                {
                    throw new ConnectorException($"refused for {user.UserPrincipalName}: " + string.Join("; ", refused.Select(RefusalOf)));
                }

                foreach (var group in held)
                {
                    try
                    {
                        // DELETE /groups/{g}/members/{u}/$ref removes the membership; the same URL without $ref deletes the user.
                        await Graph.Groups[group.Id].Members[id].Ref.DeleteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (GraphErrors.IsNotFound(e))
                    {
                        // Not a member any more: the state the action wants.
                    }
                }

                break;
            }
        }
    }

    private async Task RestoreCoreAsync(EntraAction kind, GraphUser user, ActionRequest request, JsonObject prior, CancellationToken cancellationToken)
    {
        var id = user.Id!;
        switch (kind)
        {
            case EntraAction.Disable or EntraAction.Enable:
            {
                var enabled = prior["enabled"]?.GetValue<bool>() ?? throw new ConnectorException("the recorded prior state has no 'enabled'; nothing was restored");
                if (user.AccountEnabled != enabled)
                {
                    await Graph.Users[id].PatchAsync(new GraphUser { AccountEnabled = enabled }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                break;
            }

            case EntraAction.MarkCompromised:
            {
                var was = prior["risk_state"]?.GetValue<string>() ?? throw new ConnectorException("the recorded prior state has no 'risk_state'; nothing was restored");
                if (was != RiskStates.ConfirmedCompromised && await RiskStateAsync(id, cancellationToken).ConfigureAwait(false) == RiskStates.ConfirmedCompromised)
                {
                    // Graph cannot set a risk state back; dismiss is its undo of a confirmation.
                    await Graph.IdentityProtection.RiskyUsers.Dismiss.PostAsync(new DismissPostRequestBody { UserIds = [id] }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                break;
            }

            case EntraAction.EnforceMfa or EntraAction.EnforcePhishingResistantMfa:
            {
                var name = prior["policy_name"]?.GetValue<string>() ?? throw new ConnectorException("the recorded prior state has no 'policy_name'; nothing was restored");
                var covered = prior["covered"]?.GetValue<bool>() ?? throw new ConnectorException("the recorded prior state has no 'covered'; nothing was restored");
                if (!covered) await ChangePolicyUsersAsync(kind, name, id, add: false, cancellationToken).ConfigureAwait(false);
                break;
            }

            case EntraAction.RemoveRoleAssignment:
            {
                var current = await Graph.RoleManagement.Directory.RoleAssignments.GetAsync(r => r.QueryParameters.Filter = $"principalId eq {Literal(id)}", cancellationToken)
                    .ConfigureAwait(false);
                var held = await _reads.AllAsync<UnifiedRoleAssignment, UnifiedRoleAssignmentCollectionResponse>(current, cancellationToken).ConfigureAwait(false);
                foreach (var node in prior["assignments"]?.AsArray() ?? throw new ConnectorException("the recorded prior state has no 'assignments'; nothing was restored"))
                {
                    var role = node?["role_definition_id"]?.GetValue<string>() ?? throw new ConnectorException("the recorded prior state lists an assignment without a role");
                    var scope = node["directory_scope_id"]?.GetValue<string>() ?? "/";
                    if (held.Any(a => a.RoleDefinitionId == role && (a.DirectoryScopeId ?? "/") == scope)) continue;
                    await Graph.RoleManagement.Directory.RoleAssignments.PostAsync(new UnifiedRoleAssignment
                    {
                        PrincipalId = id,
                        RoleDefinitionId = role,
                        DirectoryScopeId = scope,
                    }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                break;
            }

            case EntraAction.RevokeGroup:
            {
                var direct = await DirectGroupsAsync(id, cancellationToken).ConfigureAwait(false);
                foreach (var node in prior["groups"]?.AsArray() ?? throw new ConnectorException("the recorded prior state has no 'groups'; nothing was restored"))
                {
                    var groupId = node?["id"]?.GetValue<string>() ?? throw new ConnectorException("the recorded prior state lists a group without an id");
                    if (direct.Any(g => string.Equals(g.Id, groupId, StringComparison.OrdinalIgnoreCase))) continue;
                    await Graph.Groups[groupId].Members.Ref.PostAsync(new ReferenceCreate { OdataId = $"{_options.BaseUrl.AbsoluteUri.TrimEnd('/')}/directoryObjects/{id}" },
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                break;
            }

            default:
                throw new ConnectorException($"{request.Action.Name} cannot be undone in Entra ID: {request.Action.Reversal.How}");
        }
    }

    private static bool IsGuest(GraphUser user) => string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase);

    private static readonly TimeSpan UnknownSignInGrace = TimeSpan.FromMinutes(10);

    /// <summary>The last sign-in, and whether it is known at all.</summary>
    private async Task<(bool Known, DateTimeOffset? At)> LastSignInAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var user = await Graph.Users[id].GetAsync(r => r.QueryParameters.Select = ["id", "signInActivity"], cancellationToken).ConfigureAwait(false);
            return (true, user?.SignInActivity?.LastSignInDateTime);
        }
        catch (Exception e) when (e is Microsoft.Graph.Models.ODataErrors.ODataError { ResponseStatusCode: 403 })
        {
            // signInActivity needs AuditLog.Read.All (and Entra ID P1).
            return (false, null);
        }
    }

    private async Task<string> RiskStateAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return RiskStateOf(await Graph.IdentityProtection.RiskyUsers[id].GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (GraphErrors.IsNotFound(e))
        {
            return RiskStates.None;
        }
    }

    private async Task<List<string>> ActiveRolesAsync(string id, CancellationToken cancellationToken)
    {
        var page = await Graph.RoleManagement.Directory.RoleAssignments.GetAsync(r =>
        {
            r.QueryParameters.Filter = $"principalId eq {Literal(id)}";
            r.QueryParameters.Expand = ["roleDefinition"];
        }, cancellationToken).ConfigureAwait(false);
        var all = await _reads.AllAsync<UnifiedRoleAssignment, UnifiedRoleAssignmentCollectionResponse>(page, cancellationToken).ConfigureAwait(false);
        return [.. all.Where(a => a.DirectoryScopeId is null or "/").Select(a => a.RoleDefinition?.DisplayName).OfType<string>()];
    }

    /// <summary>Active tenant-wide assignments of the listed roles, and PIM eligibilities for them (reported, never removed).</summary>
    private async Task<(List<UnifiedRoleAssignment> Active, List<UnifiedRoleEligibilitySchedule> Eligible)> RoleAssignmentsAsync(
        string id, ActionRequest request, CancellationToken cancellationToken)
    {
        var wanted = request.Parameters.Strings("roles");
        var requests = new List<(string, Microsoft.Kiota.Abstractions.RequestInformation)>
        {
            ("active", Graph.RoleManagement.Directory.RoleAssignments.ToGetRequestInformation(r =>
            {
                r.QueryParameters.Filter = $"principalId eq {Literal(id)}";
                r.QueryParameters.Expand = ["roleDefinition"];
            })),
            ("eligible", Graph.RoleManagement.Directory.RoleEligibilitySchedules.ToGetRequestInformation(r =>
            {
                r.QueryParameters.Filter = $"principalId eq {Literal(id)}";
                r.QueryParameters.Expand = ["roleDefinition"];
            })),
        };
        var results = await _reads.BatchAsync(requests, cancellationToken).ConfigureAwait(false);
        var active = await _reads.AllAsync<UnifiedRoleAssignment, UnifiedRoleAssignmentCollectionResponse>(
            await results.GetAsync<UnifiedRoleAssignmentCollectionResponse>("active", "list role assignments").ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var eligible = await _reads.AllAsync<UnifiedRoleEligibilitySchedule, UnifiedRoleEligibilityScheduleCollectionResponse>(
            await results.GetAsync<UnifiedRoleEligibilityScheduleCollectionResponse>("eligible", "list PIM eligibilities").ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        bool Wanted(UnifiedRoleDefinition? role) => role?.DisplayName is { } name && wanted.Contains(name, StringComparer.OrdinalIgnoreCase);
        return ([.. active.Where(a => Wanted(a.RoleDefinition) && a.DirectoryScopeId is null or "/")], [.. eligible.Where(e => Wanted(e.RoleDefinition))]);
    }

    private async Task<List<GraphGroup>> DirectGroupsAsync(string id, CancellationToken cancellationToken)
    {
        var page = await Graph.Users[id].MemberOf.GraphGroup.GetAsync(r =>
        {
            r.QueryParameters.Select = GroupProperties;
            r.QueryParameters.Top = _options.PageSize;
        }, cancellationToken).ConfigureAwait(false);
        return await _reads.AllAsync<GraphGroup, GroupCollectionResponse>(page, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Listed groups the user is a direct member of: those Graph lets the engine edit, and those it refuses (dynamic, synced).</summary>
    private async Task<(List<GraphGroup> Held, List<GraphGroup> Refused)> ClassifyGroupsAsync(string id, ActionRequest request, CancellationToken cancellationToken)
    {
        var wanted = request.Parameters.Strings("groups");
        var listed = (await DirectGroupsAsync(id, cancellationToken).ConfigureAwait(false))
            .Where(g => g.DisplayName is { } name && wanted.Contains(name, StringComparer.OrdinalIgnoreCase)).ToList();
        return ([.. listed.Where(g => RefusalOf(g) is null)], [.. listed.Where(g => RefusalOf(g) is not null)]);
    }

    private static string? RefusalOf(GraphGroup group) =>
        group.GroupTypes?.Contains("DynamicMembership", StringComparer.OrdinalIgnoreCase) == true
            ? $"'{group.DisplayName}' has dynamic membership (its rule sets the members; removing one is futile)"
            : group.OnPremisesSyncEnabled == true
                ? $"'{group.DisplayName}' is synced from on-premises AD (change it there)"
                : null;

    /// <summary>Names of the engine-managed policies (recorded in the state file) whose users include the account.</summary>
    private async Task<ImmutableArray<string>> CoveringPoliciesAsync(string userId, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        foreach (var name in new[] { EnforceMfa.DefaultPolicyName, EnforcePhishingResistantMfa.DefaultPolicyName }.Concat(KnownPolicyNames()).Distinct(StringComparer.Ordinal))
        {
            if (_state.Get(_options.TenantId, name) is not { } policyId) continue;
            try
            {
                var policy = await Graph.Identity.ConditionalAccess.Policies[policyId].GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                if (policy is not null && Includes(policy, userId)) names.Add(policy.DisplayName ?? name);
            }
            catch (Exception e) when (GraphErrors.IsNotFound(e))
            {
                // Deleted by an administrator: covers nobody.
            }
        }

        return [.. names];
    }

    private IEnumerable<string> KnownPolicyNames() => _state.Names(_options.TenantId);

    private static bool Includes(ConditionalAccessPolicy policy, string userId) =>
        policy.Conditions?.Users?.IncludeUsers?.Contains(userId, StringComparer.OrdinalIgnoreCase) == true;

    /// <summary>The managed policy: by the recorded id, else by display name (recording it), else null.</summary>
    private async Task<ConditionalAccessPolicy?> FindPolicyAsync(string name, CancellationToken cancellationToken)
    {
        if (_state.Get(_options.TenantId, name) is { } id)
        {
            try
            {
                var byId = await Graph.Identity.ConditionalAccess.Policies[id].GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                if (byId is not null) return byId;
            }
            catch (Exception e) when (GraphErrors.IsNotFound(e))
            {
                // Deleted by an administrator: look for it by name, or create it again.
            }
        }

        var page = await Graph.Identity.ConditionalAccess.Policies.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var all = await _reads.AllAsync<ConditionalAccessPolicy, ConditionalAccessPolicyCollectionResponse>(page, cancellationToken).ConfigureAwait(false);
        var matches = all.Where(p => string.Equals(p.DisplayName, name, StringComparison.Ordinal)).ToList();
        if (matches.Count > 1)
        {
            throw new ConnectorException($"{matches.Count} conditional-access policies are named '{name}'; the engine manages one — delete the others or record the right id in {_state.Path}");
        }

        return matches.FirstOrDefault();
    }

    /// <summary>
    /// Adds the user to (or removes them from) the managed policy's includeUsers by read-modify-write under the state
    /// file's lock, creating the policy for the first user. Graph replaces the array whole, so the write carries the full list.
    /// </summary>
    private async Task ChangePolicyUsersAsync(EntraAction kind, string name, string userId, bool add, CancellationToken cancellationToken)
    {
        using var held = await _state.LockAsync(cancellationToken).ConfigureAwait(false);
        var policy = await FindPolicyAsync(name, cancellationToken).ConfigureAwait(false);
        if (policy is null)
        {
            if (!add) return;
            var created = await Graph.Identity.ConditionalAccess.Policies.PostAsync(NewPolicy(kind, name, userId), cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new ConnectorException($"Graph created conditional-access policy '{name}' but returned no policy");
            _state.Set(_options.TenantId, name, created.Id);
            return;
        }

        if (_state.Get(_options.TenantId, name) != policy.Id) _state.Set(_options.TenantId, name, policy.Id);
        var users = (policy.Conditions?.Users?.IncludeUsers ?? []).Where(u => !string.Equals(u, "None", StringComparison.OrdinalIgnoreCase)).ToList();
        var present = users.Contains(userId, StringComparer.OrdinalIgnoreCase);
        if (add == present) return;
        if (add) users.Add(userId);
        else users.RemoveAll(u => string.Equals(u, userId, StringComparison.OrdinalIgnoreCase));
        if (users.Count == 0) users.Add("None");
        await Graph.Identity.ConditionalAccess.Policies[policy.Id].PatchAsync(new ConditionalAccessPolicy
        {
            Conditions = new ConditionalAccessConditionSet { Users = new ConditionalAccessUsers { IncludeUsers = users } },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private ConditionalAccessPolicy NewPolicy(EntraAction kind, string name, string userId) => new()
    {
        DisplayName = name,
        State = _options.PolicyState == "enabledForReportingButNotEnforced"
            ? ConditionalAccessPolicyState.EnabledForReportingButNotEnforced
            : ConditionalAccessPolicyState.Enabled,
        Conditions = new ConditionalAccessConditionSet
        {
            Users = new ConditionalAccessUsers { IncludeUsers = [userId] },
            Applications = new ConditionalAccessApplications { IncludeApplications = ["All"] },
            ClientAppTypes = [ConditionalAccessClientApp.All],
        },
        GrantControls = kind == EntraAction.EnforcePhishingResistantMfa
            ? new ConditionalAccessGrantControls
            {
                Operator = "OR",
                AuthenticationStrength = new AuthenticationStrengthPolicy { Id = EnforcePhishingResistantMfa.AuthenticationStrengthId },
            }
            : new ConditionalAccessGrantControls { Operator = "OR", BuiltInControls = [ConditionalAccessGrantControl.Mfa] },
    };
}
