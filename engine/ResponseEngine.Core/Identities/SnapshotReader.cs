using System.Globalization;
using System.Text.Json;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>A directory snapshot, or the diagnostics that explain why it could not be read.</summary>
public sealed record SnapshotLoad(DirectorySnapshot? Snapshot, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>Reads schemas/directory.schema.json files; every bad entry is reported with its position.</summary>
public static class SnapshotReader
{
    private static readonly string[] RootFields = ["$schema", "version", "generated_at", "users", "groups"];
    private static readonly string[] UserFields = ["provider", "id", "name", "upn", "sid", "email", "display_name", "enabled", "guest", "groups", "roles", "tags",
        "password_must_change", "random_password_set_at", "sessions_revoked_at", "last_sign_in_at", "risk_state", "okta_status", "mfa_policies", "primary_group", "eligible_roles",
        "consistency_guid", "on_premises_sid", "on_premises_immutable_id", "employee_id"];
    private static readonly string[] GroupFields = ["provider", "id", "name", "dynamic", "synced", "okta_type", "member_of", "roles", "role_assignable"];

    public static SnapshotLoad ReadFile(string path, PrivilegedPolicy policy)
    {
        if (!File.Exists(path))
        {
            return new SnapshotLoad(null, [Diagnostic.Error(DiagnosticCodes.DirectoryMissing, SourceLocation.FileOnly(path),
                "directory snapshot file does not exist", "pass --directory with a snapshot file (see samples/directory.json), or run `respond snapshot`")]);
        }

        return Read(File.ReadAllBytes(path), path, policy);
    }

    public static SnapshotLoad Read(byte[] bytes, string file, PrivilegedPolicy policy)
    {
        var bag = new DiagnosticBag();
        var locator = new JsonLocator(file, bytes);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            bag.Error(DiagnosticCodes.DirectoryMalformed, new SourceLocation(file, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1),
                $"directory snapshot is not valid JSON: {e.Message.Split(" Path:")[0]}");
            return new SnapshotLoad(null, bag.Items);
        }

        using (document)
        {
            var root = document.RootElement;

            // System.Text.Json parses a lone surrogate escape or an invalid UTF-8 byte and throws only when the text is
            // read: find the first such field up front, so a bad file is a diagnostic at the field, never a crash.
            if (JsonText.FirstUnreadable(root) is { } unreadable)
            {
                bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(LocatorPath(unreadable)),
                    $"field '{unreadable}' is not valid Unicode text (a lone surrogate escape such as \\ud800, or bytes that are not UTF-8)",
                    "write the file as UTF-8 and escape only whole surrogate pairs");
                return new SnapshotLoad(null, bag.Items);
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(""), "a directory snapshot is a JSON object with 'users' and 'groups'");
                return new SnapshotLoad(null, bag.Items);
            }

            CheckFields(root, "", RootFields, locator, bag);
            DateTimeOffset? generatedAt = null;
            if (root.TryGetProperty("generated_at", out var generated) && generated.ValueKind == JsonValueKind.String
                && FindingReader.TryParseTimestamp(generated.GetString()!, out var parsed))
            {
                generatedAt = parsed;
            }

            var groups = new List<Group>();
            foreach (var (element, path) in Items(root, "groups", locator, bag))
            {
                CheckFields(element, path, GroupFields, locator, bag);
                var provider = ReadProvider(element, path, locator, bag);
                var name = ReadString(element, "name", path, locator, bag, required: true);
                var id = ReadString(element, "id", path, locator, bag, required: false) ?? name;
                if (provider is null || name is null) continue;
                var roleAssignable = ReadBool(element, "role_assignable", false, path, locator, bag);
                var groupRoles = ReadStrings(element, "roles", path, locator, bag);
                if (roleAssignable && provider != Provider.Entra)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/role_assignable"),
                        $"'role_assignable' is an Entra ID group property; this group is {provider.Value.Name()}", "leave 'role_assignable' out");
                }

                if (groupRoles.Count > 0 && provider == Provider.Ad)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/roles"),
                        "an AD group holds no directory roles; privilege in AD comes from the group itself (list it under guards.lockout.critical)",
                        "leave 'roles' out, or nest the group with 'member_of'");
                }
                else if (groupRoles.Count > 0 && provider == Provider.Entra && !roleAssignable)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/roles"),
                        "Entra ID assigns directory roles only to role-assignable groups", "add \"role_assignable\": true, as the group has in Entra (isAssignableToRole)");
                }

                groups.Add(new Group(provider.Value, id!, name)
                {
                    Dynamic = ReadBool(element, "dynamic", false, path, locator, bag),
                    Synced = ReadBool(element, "synced", false, path, locator, bag),
                    OktaType = ReadString(element, "okta_type", path, locator, bag, required: false),
                    MemberOf = [.. ReadStrings(element, "member_of", path, locator, bag)],
                    Roles = [.. groupRoles],
                    RoleAssignable = roleAssignable,
                });
            }

            var users = new List<UserEntry>();
            var ids = new HashSet<(Provider, string)>();
            var sids = new HashSet<string>(StringComparer.Ordinal);
            var anchors = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (element, path) in Items(root, "users", locator, bag))
            {
                CheckFields(element, path, UserFields, locator, bag);
                var provider = ReadProvider(element, path, locator, bag);
                var id = ReadString(element, "id", path, locator, bag, required: true);
                var name = ReadString(element, "name", path, locator, bag, required: true);
                if (provider is null || id is null || name is null) continue;
                if (!ids.Add((provider.Value, id.ToUpperInvariant())))
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/id"), $"duplicate {provider.Value.Name()} user id '{id}'");
                    continue;
                }

                var oktaStatus = ReadChoice(element, "okta_status", OktaStatuses.All, path, locator, bag);
                var enabled = ReadBool(element, "enabled", oktaStatus is null || OktaStatuses.IsEnabled(oktaStatus), path, locator, bag);
                if (oktaStatus is not null && element.TryGetProperty("enabled", out _) && enabled != OktaStatuses.IsEnabled(oktaStatus))
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/enabled"),
                        $"'enabled' is {(enabled ? "true" : "false")} but okta_status {oktaStatus} means the account {(enabled ? "cannot" : "can")} sign in",
                        "leave 'enabled' out: it follows from okta_status");
                }

                var primaryGroup = ReadString(element, "primary_group", path, locator, bag, required: false);
                if (primaryGroup is not null && provider != Provider.Ad)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/primary_group"),
                        $"'primary_group' is an AD property (primaryGroupID); this user is {provider.Value.Name()}", "list the group under 'groups' instead");
                }

                var sid = ReadString(element, "sid", path, locator, bag, required: false);
                var normalized = Sids.Normalize(sid);
                if (sid is not null && provider != Provider.Ad)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/sid"),
                        $"'sid' is an AD property (objectSid); this user is {provider.Value.Name()}", "leave 'sid' out");
                }
                else if (sid is not null && normalized is null)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/sid"), $"field 'sid' is '{sid}', not a SID", "write it like S-1-5-21-1004336348-1177238915-682003330-1104");
                }
                else if (normalized is not null && !sids.Add(normalized))
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/sid"), $"duplicate AD user sid '{sid}'");
                }

                var (consistencyGuid, onPremisesSid, immutableId) = ReadAnchors(element, provider.Value, path, locator, bag, anchors);
                var eligibleRoles = ReadStrings(element, "eligible_roles", path, locator, bag);
                if (eligibleRoles.Count > 0 && provider != Provider.Entra)
                {
                    bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/eligible_roles"),
                        $"'eligible_roles' are Entra PIM eligibilities; this user is {provider.Value.Name()}", "leave 'eligible_roles' out");
                }

                users.Add(new UserEntry(provider.Value, id, name)
                {
                    PrimaryGroup = primaryGroup,
                    EligibleRoles = eligibleRoles,
                    Upn = ReadString(element, "upn", path, locator, bag, required: false),
                    Sid = normalized,
                    Email = ReadString(element, "email", path, locator, bag, required: false),
                    ConsistencyGuid = consistencyGuid,
                    OnPremisesSid = onPremisesSid,
                    OnPremisesImmutableId = immutableId,
                    EmployeeId = ReadString(element, "employee_id", path, locator, bag, required: false),
                    DisplayName = ReadString(element, "display_name", path, locator, bag, required: false),
                    Enabled = enabled,
                    Guest = ReadBool(element, "guest", false, path, locator, bag),
                    Groups = ReadStrings(element, "groups", path, locator, bag),
                    Roles = ReadStrings(element, "roles", path, locator, bag),
                    Tags = ReadStrings(element, "tags", path, locator, bag),
                    PasswordMustChange = ReadBool(element, "password_must_change", false, path, locator, bag),
                    RandomPasswordSetAt = ReadTimestamp(element, "random_password_set_at", path, locator, bag),
                    SessionsRevokedAt = ReadTimestamp(element, "sessions_revoked_at", path, locator, bag),
                    LastSignInAt = ReadTimestamp(element, "last_sign_in_at", path, locator, bag),
                    RiskState = ReadChoice(element, "risk_state", RiskStates.All, path, locator, bag),
                    OktaStatus = oktaStatus,
                    MfaPolicies = ReadStrings(element, "mfa_policies", path, locator, bag),
                });
            }

            if (bag.HasErrors) return new SnapshotLoad(null, bag.Items);
            return new SnapshotLoad(DirectorySnapshot.Build(users, groups, policy, generatedAt), bag.Items);
        }
    }

    /// <summary>
    /// The link anchors (AD consistency_guid; Entra on_premises_sid and on_premises_immutable_id): each only on its
    /// provider, well-formed, and not shared by two accounts (an anchor names one account, or links would be guesses).
    /// </summary>
    private static (string? ConsistencyGuid, string? OnPremisesSid, string? ImmutableId) ReadAnchors(JsonElement element, Provider provider, string path,
        JsonLocator locator, DiagnosticBag bag, HashSet<string> seen)
    {
        string? Field(string name, Provider owner, string what)
        {
            var text = ReadString(element, name, path, locator, bag, required: false);
            if (text is null || provider == owner) return text;
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name),
                $"'{name}' is an {(owner == Provider.Ad ? "AD" : "Entra ID")} property ({what}); this user is {provider.Name()}", $"leave '{name}' out");
            return null;
        }

        bool Unique(string name, string key)
        {
            if (seen.Add(name + ":" + key)) return true;
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"duplicate {name} '{key}': an anchor names one account",
                "two accounts with one anchor cannot both be linked; correct the snapshot");
            return false;
        }

        var consistency = Field("consistency_guid", Provider.Ad, "ms-DS-ConsistencyGuid");
        if (consistency is not null && !Guid.TryParse(consistency, out _))
        {
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/consistency_guid"), $"field 'consistency_guid' is '{consistency}', not a GUID",
                "write it like 3f2504e0-4f89-11d3-9a0c-0305e82c3301");
            consistency = null;
        }

        var sid = Field("on_premises_sid", Provider.Entra, "onPremisesSecurityIdentifier");
        var normalized = Sids.Normalize(sid);
        if (sid is not null && normalized is null)
        {
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/on_premises_sid"), $"field 'on_premises_sid' is '{sid}', not a SID",
                "write it like S-1-5-21-1004336348-1177238915-682003330-1104");
        }
        else if (normalized is not null && !Unique("on_premises_sid", normalized))
        {
            normalized = null;
        }

        var immutable = Field("on_premises_immutable_id", Provider.Entra, "onPremisesImmutableId");
        if (immutable is not null && ImmutableIds.ToGuid(immutable) is null)
        {
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/on_premises_immutable_id"),
                $"field 'on_premises_immutable_id' is '{immutable}', not the base64 of 16 bytes (an objectGUID)", "write it as Entra reports it, like 4CUFP4lP0xGaDAMF6CwzAQ==");
            immutable = null;
        }
        else if (immutable is not null && !Unique("on_premises_immutable_id", ImmutableIds.ToGuid(immutable)!.Value.ToString("D")))
        {
            immutable = null;
        }

        return (consistency, normalized, immutable);
    }

    /// <summary>A JSON pointer as the locator's path: no leading slash, segments unescaped.</summary>
    private static string LocatorPath(string pointer) =>
        string.Join('/', pointer.TrimStart('/').Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)));

    private static IEnumerable<(JsonElement Element, string Path)> Items(JsonElement root, string name, JsonLocator locator, DiagnosticBag bag)
    {
        if (!root.TryGetProperty(name, out var array)) yield break;
        if (array.ValueKind != JsonValueKind.Array)
        {
            bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(name), $"'{name}' must be an array");
            yield break;
        }

        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var path = name + "/" + index.ToString(CultureInfo.InvariantCulture);
            index++;
            if (element.ValueKind != JsonValueKind.Object)
            {
                bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path), $"each entry of '{name}' must be an object");
                continue;
            }

            yield return (element, path);
        }
    }

    private static void CheckFields(JsonElement element, string path, string[] known, JsonLocator locator, DiagnosticBag bag)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                var at = path.Length == 0 ? property.Name : path + "/" + property.Name;
                bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(at), $"unknown field '{property.Name}'", Suggest.DidYouMean(property.Name, known));
            }
        }
    }

    private static Provider? ReadProvider(JsonElement element, string path, JsonLocator locator, DiagnosticBag bag)
    {
        var text = ReadString(element, "provider", path, locator, bag, required: true);
        if (text is null) return null;
        if (Providers.TryParse(text, out var provider)) return provider;
        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/provider"), $"unknown provider '{text}'", Suggest.DidYouMean(text, [.. Providers.Names]));
        return null;
    }

    private static string? ReadString(JsonElement element, string name, string path, JsonLocator locator, DiagnosticBag bag, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path), $"missing field '{name}'");
            return null;
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0) return value.GetString();
        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"field '{name}' must be a non-empty string");
        return null;
    }

    private static bool ReadBool(JsonElement element, string name, bool fallback, string path, JsonLocator locator, DiagnosticBag bag)
    {
        if (!element.TryGetProperty(name, out var value)) return fallback;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"field '{name}' must be true or false");
        return fallback;
    }

    private static DateTimeOffset? ReadTimestamp(JsonElement element, string name, string path, JsonLocator locator, DiagnosticBag bag)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String && FindingReader.TryParseTimestamp(value.GetString()!, out var parsed)) return parsed;
        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"field '{name}' must be an RFC 3339 timestamp",
            "write it like 2026-11-20T08:15:00Z");
        return null;
    }

    private static string? ReadChoice(JsonElement element, string name, IReadOnlyList<string> allowed, string path, JsonLocator locator, DiagnosticBag bag)
    {
        var text = ReadString(element, name, path, locator, bag, required: false);
        if (text is null || allowed.Contains(text, StringComparer.Ordinal)) return text;
        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"field '{name}' is '{text}', not one of {string.Join(", ", allowed)}",
            Suggest.DidYouMean(text, [.. allowed]));
        return null;
    }

    private static List<string> ReadStrings(JsonElement element, string name, string path, JsonLocator locator, DiagnosticBag bag)
    {
        if (!element.TryGetProperty(name, out var value)) return [];
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
        {
            return [.. value.EnumerateArray().Select(v => v.GetString()!)];
        }

        bag.Error(DiagnosticCodes.DirectoryInvalid, locator.Locate(path + "/" + name), $"field '{name}' must be an array of strings");
        return [];
    }
}
