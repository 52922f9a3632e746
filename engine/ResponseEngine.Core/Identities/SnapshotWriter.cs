using System.Text.Json.Nodes;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>
/// Writes exported directories as one snapshot file (schemas/directory.schema.json) in the layout of
/// samples/directory.json: groups then users, one per line, ordered by provider and name so two exports of an unchanged
/// directory are byte-identical and a diff shows exactly what changed. Defaults are left out, as the reader assumes them.
/// </summary>
public static class SnapshotWriter
{
    public static byte[] Write(IEnumerable<DirectoryExport> exports, DateTimeOffset generatedAt)
    {
        ArgumentNullException.ThrowIfNull(exports);
        var all = exports.ToList();
        var groups = new JsonArray();
        foreach (var group in all.SelectMany(e => e.Groups).OrderBy(g => g.Provider).ThenBy(g => g.Name, StringComparer.OrdinalIgnoreCase).ThenBy(g => g.Id, StringComparer.Ordinal))
        {
            groups.Add(Group(group));
        }

        var users = new JsonArray();
        foreach (var user in all.SelectMany(e => e.Users).OrderBy(u => u.Provider).ThenBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ThenBy(u => u.Id, StringComparer.Ordinal))
        {
            users.Add(User(user));
        }

        var root = new JsonObject
        {
            ["$schema"] = "https://responseengine.dev/schemas/directory.schema.json",
            ["version"] = 1,
            ["generated_at"] = SnapshotFormat.Timestamp(generatedAt),
            ["groups"] = groups,
            ["users"] = users,
        };
        return SnapshotFormat.Write(root);
    }

    private static JsonObject Group(Group group)
    {
        var entry = new JsonObject { ["provider"] = group.Provider.Name(), ["id"] = group.Id, ["name"] = group.Name };
        if (group.Dynamic) entry["dynamic"] = true;
        if (group.Synced) entry["synced"] = true;
        if (group.OktaType is { } type) entry["okta_type"] = type;
        List(entry, "member_of", group.MemberOf);
        if (group.RoleAssignable) entry["role_assignable"] = true;
        List(entry, "roles", group.Roles);
        return entry;
    }

    private static JsonObject User(UserEntry user)
    {
        var entry = new JsonObject { ["provider"] = user.Provider.Name(), ["id"] = user.Id, ["name"] = user.Name };
        Text(entry, "upn", user.Upn);
        Text(entry, "sid", user.Sid);
        Text(entry, "email", user.Email);
        Text(entry, "consistency_guid", user.ConsistencyGuid);
        Text(entry, "on_premises_sid", user.OnPremisesSid);
        Text(entry, "on_premises_immutable_id", user.OnPremisesImmutableId);
        Text(entry, "employee_id", user.EmployeeId);
        if (user.DisplayName is { } display && !string.Equals(display, user.Name, StringComparison.Ordinal)) entry["display_name"] = display;

        // An Okta account's status decides whether it can sign in; the reader derives 'enabled' from it.
        if (user.OktaStatus is { } status) entry["okta_status"] = status;
        else if (!user.Enabled) entry["enabled"] = false;
        if (user.Guest) entry["guest"] = true;
        List(entry, "groups", user.Groups);
        Text(entry, "primary_group", user.PrimaryGroup);
        List(entry, "roles", user.Roles);
        List(entry, "eligible_roles", user.EligibleRoles);
        List(entry, "tags", user.Tags);
        if (user.PasswordMustChange) entry["password_must_change"] = true;
        Time(entry, "random_password_set_at", user.RandomPasswordSetAt);
        Time(entry, "sessions_revoked_at", user.SessionsRevokedAt);
        Time(entry, "last_sign_in_at", user.LastSignInAt);
        Text(entry, "risk_state", user.RiskState);
        List(entry, "mfa_policies", user.MfaPolicies);
        return entry;
    }

    private static void Text(JsonObject entry, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value)) entry[name] = value;
    }

    private static void Time(JsonObject entry, string name, DateTimeOffset? value)
    {
        if (value is { } at) entry[name] = SnapshotFormat.Timestamp(at);
    }

    private static void List(JsonObject entry, string name, IEnumerable<string> items)
    {
        var sorted = items.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        if (sorted.Count > 0) entry[name] = new JsonArray([.. sorted.Select(item => (JsonNode)JsonValue.Create(item))]);
    }

    /// <summary>An identity as the directory reports it, back as a snapshot entry (direct groups and roles, not the closure).</summary>
    public static UserEntry Entry(Identity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new UserEntry(identity.Provider, identity.Id, identity.Name)
        {
            Upn = identity.Upn,
            Sid = identity.Sid,
            Email = identity.Email,
            ConsistencyGuid = identity.ConsistencyGuid,
            OnPremisesSid = identity.OnPremisesSid,
            OnPremisesImmutableId = identity.OnPremisesImmutableId,
            EmployeeId = identity.EmployeeId,
            DisplayName = identity.DisplayName,
            Enabled = identity.Enabled,
            Guest = identity.Guest,
            Groups = [.. identity.Groups.Select(g => g.Name).Where(name => !string.Equals(name, identity.PrimaryGroup, StringComparison.OrdinalIgnoreCase))],
            PrimaryGroup = identity.PrimaryGroup,
            Roles = identity.DirectRoles,
            EligibleRoles = identity.EligibleRoles,
            Tags = identity.Tags,
            PasswordMustChange = identity.PasswordMustChange,
            RandomPasswordSetAt = identity.RandomPasswordSetAt,
            SessionsRevokedAt = identity.SessionsRevokedAt,
            LastSignInAt = identity.LastSignInAt,
            RiskState = identity.RiskState,
            OktaStatus = identity.OktaStatus,
            MfaPolicies = identity.MfaPolicies,
        };
    }
}
