using System.Globalization;
using System.Text.Json.Nodes;

namespace ResponseEngine.TestKit.Graph;

/// <summary>The endpoints, answered from <see cref="GraphEmulator.Tenant"/> under the emulator's lock.</summary>
public sealed partial class GraphEmulator
{
    private const string GroupCast = "microsoft.graph.group";
    private const string UserCast = "microsoft.graph.user";

    /// <summary>Properties Graph returns for a user when $select does not ask for others.</summary>
    private static readonly string[] DefaultUserProperties =
        ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"];

    private Answer Route(string method, string raw, string? body)
    {
        var (rawPath, rawQuery) = Split(raw);
        // Graph accepts a type cast spelled in full (microsoft.graph.group) or short (graph.group, as the SDK writes it).
        var segments = Decode(rawPath).Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.StartsWith("graph.", StringComparison.Ordinal) ? "microsoft." + s : s).ToArray();
        var query = ParseQuery(rawQuery);
        var page = new PageContext(rawPath, query);
        return (method, segments) switch
        {
            ("GET", ["users"]) => List(page, Tenant.Users.Values.Select(UserJson), UserSelect),
            ("GET", ["users", var id]) => FindUser(id) is { } user ? Ok(Select(UserJson(user), query, DefaultUserProperties)) : NotFound(id),
            ("PATCH", ["users", var id]) => PatchUser(id, body),
            ("DELETE", ["users", var id]) => DeleteUser(id),
            ("POST", ["users", var id, "revokeSignInSessions"]) => RevokeSessions(id),
            ("GET", ["users", var id, var relation, .. var cast]) when relation is "memberOf" or "transitiveMemberOf" => MemberOf(id, relation == "transitiveMemberOf", cast, page),
            ("GET", ["groups"]) => List(page, Tenant.Groups.Values.Select(GroupJson), null),
            ("GET", ["groups", var id]) => Tenant.Groups.TryGetValue(id, out var group) ? Ok(Select(GroupJson(group), query, null)) : NotFound(id),
            ("GET", ["groups", var id, var relation, .. var cast]) when relation is "members" or "transitiveMembers" => Members(id, relation == "transitiveMembers", cast, page),
            ("DELETE", ["groups", var id, "members", var member, "$ref"]) => RemoveMember(id, member),
            ("DELETE", ["groups", _, "members", var member]) => DeleteUser(member),
            ("POST", ["groups", var id, "members", "$ref"]) => AddMember(id, body),
            ("GET", ["roleManagement", "directory", "roleDefinitions"]) => List(page, Tenant.RoleDefinitions.Values.Select(RoleDefinitionJson), null),
            ("GET", ["roleManagement", "directory", "roleAssignments"]) => List(page, Tenant.RoleAssignments.Where(a => !a.Activated).Select(a => AssignmentJson(a, query)), null),
            ("GET", ["roleManagement", "directory", "roleAssignmentScheduleInstances"]) => List(page, Tenant.RoleAssignments.Select(a => AssignmentInstanceJson(a, query)), null),
            ("GET", ["roleManagement", "directory", "roleEligibilityScheduleInstances"]) => List(page, Tenant.RoleEligibilities.Select(e => EligibilityInstanceJson(e, query)), null),
            ("POST", ["roleManagement", "directory", "roleAssignments"]) => CreateAssignment(body),
            ("DELETE", ["roleManagement", "directory", "roleAssignments", var id]) => DeleteAssignment(id),
            ("GET", ["roleManagement", "directory", "roleEligibilitySchedules"]) => List(page, Tenant.RoleEligibilities.Select(e => EligibilityJson(e, query)), null),
            ("GET", ["identityProtection", "riskyUsers"]) => List(page, Tenant.RiskyUsers.Values.Select(RiskyUserJson), null),
            ("GET", ["identityProtection", "riskyUsers", var id]) => Tenant.RiskyUsers.TryGetValue(id, out var risky) ? Ok(RiskyUserJson(risky)) : NotFound(id),
            ("POST", ["identityProtection", "riskyUsers", var verb]) when verb is "confirmCompromised" or "dismiss" => RiskAction(verb, body),
            ("GET", ["identity", "conditionalAccess", "policies"]) => List(page, Tenant.ConditionalAccessPolicies.Values.Select(p => (JsonObject)p.DeepClone()), null),
            ("GET", ["identity", "conditionalAccess", "policies", var id]) =>
                Tenant.ConditionalAccessPolicies.TryGetValue(id, out var policy) ? Ok((JsonObject)policy.DeepClone()) : NotFound(id),
            ("POST", ["identity", "conditionalAccess", "policies"]) => CreatePolicy(body),
            ("PATCH", ["identity", "conditionalAccess", "policies", var id]) => PatchPolicy(id, body),
            ("DELETE", ["identity", "conditionalAccess", "policies", var id]) =>
                Tenant.ConditionalAccessPolicies.Remove(id) ? NoContent() : NotFound(id),
            ("GET", ["security", "alerts_v2"]) => List(page, Tenant.Alerts.OrderBy(a => a.LastUpdateDateTime).Select(AlertJson), null),
            _ => Error(400, "BadRequest", $"Resource not found for the segment '{segments.LastOrDefault() ?? "/"}' ({method} {Decode(rawPath)} is not emulated)."),
        };
    }

    private static readonly string[] UserSelect = DefaultUserProperties;

    private GraphUser? FindUser(string idOrUpn) =>
        Tenant.Users.GetValueOrDefault(idOrUpn)
        ?? Tenant.Users.Values.FirstOrDefault(u => string.Equals(u.UserPrincipalName, idOrUpn, StringComparison.OrdinalIgnoreCase));

    private Answer PatchUser(string id, string? body)
    {
        if (FindUser(id) is not { } user) return NotFound(id);
        var patch = JsonNode.Parse(body ?? "{}") as JsonObject ?? throw new InvalidOperationException("The request body must be a JSON object.");
        foreach (var (name, value) in patch)
        {
            switch (name)
            {
                case "accountEnabled":
                    if (user.OnPremisesSyncEnabled == true)
                    {
                        return Error(400, "Request_BadRequest", "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.");
                    }

                    break;
                case "passwordProfile" or "@odata.type":
                    break;
                default:
                    return Error(400, "Request_BadRequest", $"Property '{name}' is read-only or does not exist on type 'microsoft.graph.user'.");
            }
        }

        if (patch["accountEnabled"] is { } enabled) user.AccountEnabled = enabled.GetValue<bool>();
        if (patch["passwordProfile"]?["forceChangePasswordNextSignIn"] is { } force) user.ForceChangePasswordNextSignIn = force.GetValue<bool>();
        return NoContent();
    }

    private Answer DeleteUser(string id)
    {
        if (FindUser(id) is not { } user) return NotFound(id);
        Tenant.Users.Remove(user.Id);
        foreach (var group in Tenant.Groups.Values) group.Members.Remove(user.Id);
        Tenant.RoleAssignments.RemoveAll(a => a.PrincipalId == user.Id);
        return NoContent();
    }

    private Answer RevokeSessions(string id)
    {
        if (FindUser(id) is not { } user) return NotFound(id);
        user.SignInSessionsValidFromDateTime = _time.GetUtcNow();
        return Ok(new JsonObject { ["@odata.context"] = $"{BaseUrl}/$metadata#Edm.Boolean", ["value"] = true });
    }

    private Answer MemberOf(string id, bool transitive, string[] cast, PageContext page)
    {
        if (FindUser(id) is not { } user) return NotFound(id);
        var groups = transitive ? Closure(user.Id) : Tenant.Groups.Values.Where(g => g.Members.Contains(user.Id)).ToList();
        var items = groups.Select(GroupJson).ToList();
        if (cast is [GroupCast]) return List(page, items, null);
        if (cast.Length > 0) return Error(400, "BadRequest", $"The type cast '{string.Join('/', cast)}' is not emulated.");

        // Without a cast, memberOf also lists the directory roles the user holds (as directoryRole objects).
        foreach (var assignment in Tenant.RoleAssignments.Where(a => a.PrincipalId == user.Id))
        {
            var definition = Tenant.RoleDefinitions.GetValueOrDefault(assignment.RoleDefinitionId);
            items.Add(new JsonObject
            {
                ["@odata.type"] = "#microsoft.graph.directoryRole",
                ["id"] = "dr-" + assignment.RoleDefinitionId,
                ["displayName"] = definition?.DisplayName,
                ["roleTemplateId"] = assignment.RoleDefinitionId,
            });
        }

        return List(page, items, null);
    }

    /// <summary>Groups containing the principal, directly or through nested groups.</summary>
    private List<GraphGroup> Closure(string principalId)
    {
        var found = new List<GraphGroup>();
        var queue = new Queue<string>([principalId]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { principalId };
        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            foreach (var group in Tenant.Groups.Values.Where(g => g.Members.Contains(current)))
            {
                if (!seen.Add(group.Id)) continue;
                found.Add(group);
                queue.Enqueue(group.Id);
            }
        }

        return found;
    }

    private Answer Members(string id, bool transitive, string[] cast, PageContext page)
    {
        if (!Tenant.Groups.TryGetValue(id, out var group)) return NotFound(id);
        var ids = new List<string>();
        var queue = new Queue<GraphGroup>([group]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { group.Id };
        while (queue.Count > 0)
        {
            foreach (var member in queue.Dequeue().Members)
            {
                if (!seen.Add(member)) continue;
                ids.Add(member);
                if (transitive && Tenant.Groups.TryGetValue(member, out var nested)) queue.Enqueue(nested);
            }

            if (!transitive) break;
        }

        var items = new List<JsonObject>();
        foreach (var member in ids)
        {
            if (Tenant.Users.TryGetValue(member, out var user))
            {
                if (cast is [] or [UserCast]) items.Add(UserJson(user));
            }
            else if (Tenant.Groups.TryGetValue(member, out var nested) && cast is [] or [GroupCast])
            {
                items.Add(GroupJson(nested));
            }
        }

        return List(page, items, cast is [UserCast] ? UserSelect : null);
    }

    private Answer RemoveMember(string groupId, string memberId)
    {
        if (!Tenant.Groups.TryGetValue(groupId, out var group)) return NotFound(groupId);
        if (group.Dynamic)
        {
            return Error(400, "Request_BadRequest", "Insufficient privileges to complete the operation. Dynamic group membership is managed by its membership rule; members cannot be removed.");
        }

        if (group.OnPremisesSyncEnabled == true)
        {
            return Error(400, "Request_BadRequest", "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.");
        }

        if (!group.Members.Remove(memberId)) return NotFound(memberId);
        return NoContent();
    }

    private Answer AddMember(string groupId, string? body)
    {
        if (!Tenant.Groups.TryGetValue(groupId, out var group)) return NotFound(groupId);
        var reference = JsonNode.Parse(body ?? "{}")?["@odata.id"]?.GetValue<string>()
            ?? throw new InvalidOperationException("The request must carry an '@odata.id' reference.");
        var memberId = reference.TrimEnd('/').Split('/')[^1];
        if (!Tenant.Users.ContainsKey(memberId) && !Tenant.Groups.ContainsKey(memberId)) return NotFound(memberId);
        if (group.Dynamic) return Error(400, "Request_BadRequest", "Members of a dynamic group are managed by its membership rule.");
        if (group.OnPremisesSyncEnabled == true)
        {
            return Error(400, "Request_BadRequest", "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.");
        }

        if (!group.Members.Add(memberId))
        {
            return Error(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.");
        }

        return NoContent();
    }

    private Answer CreateAssignment(string? body)
    {
        var request = JsonNode.Parse(body ?? "{}") as JsonObject ?? throw new InvalidOperationException("The request body must be a JSON object.");
        var principal = request["principalId"]?.GetValue<string>();
        var role = request["roleDefinitionId"]?.GetValue<string>();
        var scope = request["directoryScopeId"]?.GetValue<string>() ?? "/";
        if (principal is null || role is null) return Error(400, "Request_BadRequest", "principalId and roleDefinitionId are required.");
        if (!Tenant.Users.ContainsKey(principal) && !Tenant.Groups.ContainsKey(principal)) return NotFound(principal);
        if (!Tenant.RoleDefinitions.ContainsKey(role)) return NotFound(role);
        if (Tenant.Groups.TryGetValue(principal, out var group) && !group.IsAssignableToRole)
        {
            return Error(400, "Request_BadRequest", "Only groups with isAssignableToRole set to true can be assigned directory roles.");
        }
        if (Tenant.RoleAssignments.Any(a => a.PrincipalId == principal && a.RoleDefinitionId == role && a.DirectoryScopeId == scope))
        {
            return Error(400, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory.");
        }

        var assignment = new GraphRoleAssignment(NewId(), principal, role) { DirectoryScopeId = scope };
        Tenant.RoleAssignments.Add(assignment);
        return new Answer(201, AssignmentJson(assignment, []));
    }

    private Answer DeleteAssignment(string id) =>
        Tenant.RoleAssignments.RemoveAll(a => a.Id == id && !a.Activated) > 0 ? NoContent() : NotFound(id);

    private Answer RiskAction(string verb, string? body)
    {
        var ids = (JsonNode.Parse(body ?? "{}")?["userIds"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToList()
            ?? throw new InvalidOperationException("userIds is required.");
        if (ids.Count == 0 || ids.Count > 60) return Error(400, "BadRequest", "userIds must list between 1 and 60 users.");
        foreach (var id in ids)
        {
            if (!Tenant.Users.ContainsKey(id)) return NotFound(id);
        }

        foreach (var id in ids)
        {
            var risky = RiskyUser(id);
            risky.RiskLastUpdatedDateTime = _time.GetUtcNow();
            if (verb == "confirmCompromised")
            {
                risky.RiskState = "confirmedCompromised";
                risky.RiskLevel = "high";
                risky.RiskDetail = "adminConfirmedUserCompromised";
            }
            else
            {
                risky.RiskState = "dismissed";
                risky.RiskLevel = "none";
                risky.RiskDetail = "adminDismissedAllRiskForUser";
            }
        }

        return NoContent();
    }

    private Answer CreatePolicy(string? body)
    {
        var policy = JsonNode.Parse(body ?? "{}") as JsonObject ?? throw new InvalidOperationException("The request body must be a JSON object.");
        policy.Remove("@odata.type");
        var problem = ValidatePolicy(policy);
        if (problem is not null) return Error(400, "BadRequest", problem);
        var id = NewId();
        policy["id"] = id;
        policy["createdDateTime"] = Timestamp(_time.GetUtcNow());
        policy["modifiedDateTime"] = null;
        Tenant.ConditionalAccessPolicies[id] = policy;
        return new Answer(201, (JsonObject)policy.DeepClone());
    }

    private Answer PatchPolicy(string id, string? body)
    {
        if (!Tenant.ConditionalAccessPolicies.TryGetValue(id, out var existing)) return NotFound(id);
        var patch = JsonNode.Parse(body ?? "{}") as JsonObject ?? throw new InvalidOperationException("The request body must be a JSON object.");
        var merged = (JsonObject)existing.DeepClone();
        Merge(merged, patch);
        merged["id"] = id;
        var problem = ValidatePolicy(merged);
        if (problem is not null) return Error(400, "BadRequest", problem);
        merged["modifiedDateTime"] = Timestamp(_time.GetUtcNow());
        Tenant.ConditionalAccessPolicies[id] = merged;
        return NoContent();
    }

    /// <summary>Objects merge property by property; arrays and values are replaced whole, as Graph's PATCH does.</summary>
    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (name == "@odata.type") continue;
            if (value is JsonObject child && target[name] is JsonObject existing) Merge(existing, child);
            else target[name] = value?.DeepClone();
        }
    }

    private string? ValidatePolicy(JsonObject policy)
    {
        if (policy["displayName"]?.GetValue<string>() is not { Length: > 0 }) return "displayName is required.";
        if (policy["state"]?.GetValue<string>() is not ("enabled" or "disabled" or "enabledForReportingButNotEnforced"))
        {
            return "state must be enabled, disabled or enabledForReportingButNotEnforced.";
        }

        var users = policy["conditions"]?["users"] as JsonObject;
        var include = (users?["includeUsers"] as JsonArray)?.Select(u => u?.GetValue<string>() ?? "").ToList() ?? [];
        var includeOthers = (users?["includeGroups"] as JsonArray)?.Count > 0 || (users?["includeRoles"] as JsonArray)?.Count > 0;
        if (include.Count == 0 && !includeOthers) return "conditions.users must include users, groups or roles (use [\"None\"] for nobody).";
        foreach (var id in include.Where(u => u is not ("All" or "None" or "GuestsOrExternalUsers")))
        {
            if (!Tenant.Users.ContainsKey(id)) return $"conditions.users.includeUsers: '{id}' is not a valid user object id.";
        }

        if ((policy["conditions"]?["applications"]?["includeApplications"] as JsonArray)?.Count is null or 0)
        {
            return "conditions.applications.includeApplications is required.";
        }

        var grant = policy["grantControls"] as JsonObject;
        var builtIn = (grant?["builtInControls"] as JsonArray)?.Count ?? 0;
        var strength = grant?["authenticationStrength"]?["id"]?.GetValue<string>();
        if (builtIn == 0 && strength is null && policy["sessionControls"] is null) return "grantControls needs builtInControls or an authenticationStrength.";
        if (strength is not null && (grant?["builtInControls"] as JsonArray)?.Any(c => c?.GetValue<string>() == "mfa") == true)
        {
            return "grantControls cannot combine the mfa control with an authentication strength.";
        }

        return null;
    }

    private Answer List(PageContext page, IEnumerable<JsonObject> all, string[]? defaultSelect)
    {
        var items = all.ToList();
        if (page.Query.TryGetValue("$filter", out var filterText))
        {
            var filter = ODataFilter.Parse(filterText);
            items = [.. items.Where(item => filter.Matches(path => Property(item, path)))];
        }

        var skip = page.Query.TryGetValue("$skiptoken", out var token) ? int.Parse(token, CultureInfo.InvariantCulture) : 0;
        var top = page.Query.TryGetValue("$top", out var topText) ? Math.Min(int.Parse(topText, CultureInfo.InvariantCulture), PageSize) : PageSize;
        var slice = items.Skip(skip).Take(top).Select(item => Select(item, page.Query, defaultSelect)).ToList();
        var result = new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/$metadata#{page.RawPath.Split('/').Last()}",
            ["value"] = new JsonArray([.. slice]),
        };
        if (skip + top < items.Count)
        {
            var kept = page.Query.Where(kv => kv.Key != "$skiptoken")
                .Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value));
            var link = new UriBuilder(BaseUrl) { Path = page.RawPath, Query = string.Join('&', kept.Append("$skiptoken=" + (skip + top).ToString(CultureInfo.InvariantCulture))) };
            result["@odata.nextLink"] = link.Uri.AbsoluteUri;
        }

        return Ok(result);
    }

    private static JsonNode? Property(JsonObject item, string path)
    {
        JsonNode? node = item;
        foreach (var part in path.Split('/'))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null) return null;
        }

        return node;
    }

    /// <summary>Applies $select (id is always kept); without it, <paramref name="defaults"/> when given, else everything.</summary>
    private static JsonObject Select(JsonObject item, Dictionary<string, string> query, string[]? defaults)
    {
        string[]? keep = query.TryGetValue("$select", out var select) ? select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : defaults;
        if (keep is null) return item;
        var result = new JsonObject();
        foreach (var (name, value) in item)
        {
            if (name is "id" or "@odata.type" || keep.Contains(name, StringComparer.OrdinalIgnoreCase)) result[name] = value?.DeepClone();
        }

        return result;
    }

    private JsonObject UserJson(GraphUser user) => new()
    {
        ["@odata.type"] = "#microsoft.graph.user",
        ["id"] = user.Id,
        ["businessPhones"] = new JsonArray(),
        ["displayName"] = user.DisplayName,
        ["givenName"] = null,
        ["jobTitle"] = null,
        ["mail"] = user.Mail,
        ["mailNickname"] = user.MailNickname,
        ["mobilePhone"] = null,
        ["officeLocation"] = null,
        ["preferredLanguage"] = null,
        ["surname"] = null,
        ["userPrincipalName"] = user.UserPrincipalName,
        ["accountEnabled"] = user.AccountEnabled,
        ["userType"] = user.UserType,
        ["onPremisesSyncEnabled"] = user.OnPremisesSyncEnabled,
        ["onPremisesSecurityIdentifier"] = user.OnPremisesSecurityIdentifier,
        ["onPremisesImmutableId"] = user.OnPremisesImmutableId,
        ["employeeId"] = user.EmployeeId,
        ["passwordProfile"] = new JsonObject
        {
            ["forceChangePasswordNextSignIn"] = user.ForceChangePasswordNextSignIn,
            ["forceChangePasswordNextSignInWithMfa"] = false,
            ["password"] = null,
        },
        ["signInSessionsValidFromDateTime"] = user.SignInSessionsValidFromDateTime is { } from ? Timestamp(from) : null,
        ["signInActivity"] = new JsonObject
        {
            ["lastSignInDateTime"] = user.LastSignInDateTime is { } last ? Timestamp(last) : null,
        },
    };

    private static JsonObject GroupJson(GraphGroup group) => new()
    {
        ["@odata.type"] = "#microsoft.graph.group",
        ["id"] = group.Id,
        ["displayName"] = group.DisplayName,
        ["groupTypes"] = new JsonArray([.. group.GroupTypes.Select(t => (JsonNode)JsonValue.Create(t))]),
        ["membershipRule"] = group.MembershipRule,
        ["membershipRuleProcessingState"] = group.Dynamic ? "On" : null,
        ["onPremisesSyncEnabled"] = group.OnPremisesSyncEnabled,
        ["isAssignableToRole"] = group.IsAssignableToRole,
        ["securityEnabled"] = true,
        ["mailEnabled"] = false,
    };

    private static JsonObject RoleDefinitionJson(GraphRoleDefinition role) => new()
    {
        ["id"] = role.Id,
        ["displayName"] = role.DisplayName,
        ["templateId"] = role.Id,
        ["isBuiltIn"] = role.IsBuiltIn,
        ["isEnabled"] = true,
    };

    private JsonObject AssignmentJson(GraphRoleAssignment assignment, Dictionary<string, string> query)
    {
        var json = new JsonObject
        {
            ["id"] = assignment.Id,
            ["principalId"] = assignment.PrincipalId,
            ["roleDefinitionId"] = assignment.RoleDefinitionId,
            ["directoryScopeId"] = assignment.DirectoryScopeId,
        };
        return Expand(json, assignment.PrincipalId, assignment.RoleDefinitionId, query);
    }

    /// <summary>unifiedRoleAssignmentScheduleInstance, shaped as the v1.0 "List roleAssignmentScheduleInstances" example.</summary>
    private JsonObject AssignmentInstanceJson(GraphRoleAssignment assignment, Dictionary<string, string> query)
    {
        var json = new JsonObject
        {
            ["id"] = assignment.Id + "-1",
            ["principalId"] = assignment.PrincipalId,
            ["roleDefinitionId"] = assignment.RoleDefinitionId,
            ["directoryScopeId"] = assignment.DirectoryScopeId,
            ["appScopeId"] = null,
            ["startDateTime"] = assignment.StartDateTime is { } start ? Timestamp(start) : null,
            ["endDateTime"] = assignment.EndDateTime is { } end ? Timestamp(end) : null,
            ["assignmentType"] = assignment.Activated ? "Activated" : "Assigned",
            ["memberType"] = "Direct",
            ["roleAssignmentOriginId"] = assignment.Id,
            ["roleAssignmentScheduleId"] = assignment.Id,
        };
        return Expand(json, assignment.PrincipalId, assignment.RoleDefinitionId, query);
    }

    /// <summary>unifiedRoleEligibilityScheduleInstance, shaped as the v1.0 "List roleEligibilityScheduleInstances" example.</summary>
    private JsonObject EligibilityInstanceJson(GraphRoleEligibility eligibility, Dictionary<string, string> query)
    {
        var json = new JsonObject
        {
            ["id"] = eligibility.Id + "-1-e",
            ["principalId"] = eligibility.PrincipalId,
            ["roleDefinitionId"] = eligibility.RoleDefinitionId,
            ["directoryScopeId"] = eligibility.DirectoryScopeId,
            ["appScopeId"] = null,
            ["startDateTime"] = Timestamp(_time.GetUtcNow().AddDays(-1)),
            ["endDateTime"] = null,
            ["memberType"] = eligibility.MemberType,
            ["roleEligibilityScheduleId"] = eligibility.Id,
        };
        return Expand(json, eligibility.PrincipalId, eligibility.RoleDefinitionId, query);
    }

    /// <summary>$expand=roleDefinition and $expand=principal (a user or a group, with its @odata.type), as role assignment lists take them.</summary>
    private JsonObject Expand(JsonObject json, string principalId, string roleDefinitionId, Dictionary<string, string> query)
    {
        if (Expands(query, "roleDefinition") && Tenant.RoleDefinitions.TryGetValue(roleDefinitionId, out var role)) json["roleDefinition"] = RoleDefinitionJson(role);
        if (Expands(query, "principal"))
        {
            json["principal"] = Tenant.Users.TryGetValue(principalId, out var user) ? UserJson(user)
                : Tenant.Groups.TryGetValue(principalId, out var group) ? GroupJson(group)
                : new JsonObject { ["@odata.type"] = "#microsoft.graph.directoryObject", ["id"] = principalId };
        }

        return json;
    }

    private JsonObject EligibilityJson(GraphRoleEligibility eligibility, Dictionary<string, string> query)
    {
        var json = new JsonObject
        {
            ["id"] = eligibility.Id,
            ["principalId"] = eligibility.PrincipalId,
            ["roleDefinitionId"] = eligibility.RoleDefinitionId,
            ["directoryScopeId"] = eligibility.DirectoryScopeId,
            ["memberType"] = eligibility.MemberType,
            ["status"] = "Provisioned",
        };
        return Expand(json, eligibility.PrincipalId, eligibility.RoleDefinitionId, query);
    }

    private static bool Expands(Dictionary<string, string> query, string relation) =>
        query.TryGetValue("$expand", out var expand) && expand.Split(',').Any(e => string.Equals(e.Trim(), relation, StringComparison.OrdinalIgnoreCase));

    private static JsonObject RiskyUserJson(GraphRiskyUser risky) => new()
    {
        ["id"] = risky.Id,
        ["isDeleted"] = risky.IsDeleted,
        ["isProcessing"] = false,
        ["riskLastUpdatedDateTime"] = Timestamp(risky.RiskLastUpdatedDateTime),
        ["riskLevel"] = risky.RiskLevel,
        ["riskState"] = risky.RiskState,
        ["riskDetail"] = risky.RiskDetail,
        ["userDisplayName"] = risky.UserDisplayName,
        ["userPrincipalName"] = risky.UserPrincipalName,
    };

    private static JsonObject AlertJson(GraphAlert alert) => new()
    {
        ["@odata.type"] = "#microsoft.graph.security.alert",
        ["id"] = alert.Id,
        ["title"] = alert.Title,
        ["description"] = alert.Description,
        ["severity"] = alert.Severity,
        ["status"] = alert.Status,
        ["category"] = alert.Category,
        ["serviceSource"] = alert.ServiceSource,
        ["detectionSource"] = alert.DetectionSource,
        ["createdDateTime"] = Timestamp(alert.CreatedDateTime),
        ["lastUpdateDateTime"] = Timestamp(alert.LastUpdateDateTime),
        ["evidence"] = new JsonArray([.. alert.Users.Select(u => (JsonNode)new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.security.userEvidence",
            ["createdDateTime"] = Timestamp(alert.CreatedDateTime),
            ["verdict"] = "suspicious",
            ["remediationStatus"] = "none",
            ["roles"] = new JsonArray(),
            ["userAccount"] = new JsonObject
            {
                ["accountName"] = u.AccountName,
                ["domainName"] = u.DomainName,
                ["userSid"] = null,
                ["azureAdUserId"] = u.AzureAdUserId,
                ["userPrincipalName"] = u.UserPrincipalName,
                ["displayName"] = u.DisplayName,
            },
        })]),
    };

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    private static Dictionary<string, string> ParseQuery(string raw)
    {
        var query = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in raw.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (!name.StartsWith('$') && name is "filter" or "select" or "expand" or "top" or "skiptoken") name = "$" + name;
            query[name] = value;
        }

        return query;
    }

    private static Answer Ok(JsonObject body) => new(200, body);

    private static Answer NoContent() => new(204, null);

    private Answer NotFound(string id) =>
        Error(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");

    private sealed record PageContext(string RawPath, Dictionary<string, string> Query);
}
