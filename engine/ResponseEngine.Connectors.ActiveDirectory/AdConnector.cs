using System.Collections.Frozen;
using System.Collections.Immutable;
using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Text.Json.Nodes;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Connectors.ActiveDirectory;

/// <summary>
/// Active Directory over LDAPS: resolves accounts by objectGUID, sAMAccountName, userPrincipalName or DN, reads group
/// membership transitively on the DC (LDAP_MATCHING_RULE_IN_CHAIN), and applies disable_user, enable_user,
/// reset_password and revoke_group state-aware, with every value from a finding escaped.
/// </summary>
public sealed class AdConnector : IConnector, IDirectoryExport, IDisposable
{
    /// <summary>LDAP_MATCHING_RULE_IN_CHAIN: the DC walks nested groups itself.</summary>
    public const string InChain = "1.2.840.113556.1.4.1941";

    private const string UserFilter = "(objectCategory=person)(objectClass=user)";
    private const string NotDisabled = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";

    private readonly ILdapSession _session;
    private readonly AdRetry _retry;
    private readonly AdConnectorOptions _options;
    private readonly PrivilegedPolicy _policy;
    private readonly TimeProvider _time;

    internal AdConnector(AdConnectorOptions options, ILdapSession session, PrivilegedPolicy policy, TimeProvider time)
    {
        _options = options;
        _session = session;
        _policy = policy;
        _time = time;
        _retry = new AdRetry(options.Retry, time);
    }

    public Provider Provider => Provider.Ad;

    /// <summary>
    /// A connector for the domain controller the options name; refuses unusable options with every problem at once, and
    /// reports the lab-only certificate switch through <paramref name="warn"/> every time it starts.
    /// </summary>
    public static AdConnector Create(
        AdConnectorOptions options, PrivilegedPolicy policy, TimeProvider time, Action<string>? warn = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(time);
        var problems = options.Validate();
        if (!problems.IsEmpty) throw new AdConfigurationException(string.Join("; ", problems));
        if (options.InsecureSkipCertificateValidation)
        {
            warn?.Invoke($"WARNING: connectors.ad.insecure_skip_certificate_validation is on: the certificate of {options.Server}:{options.Port} is NOT checked, " +
                "so anyone on the network path can impersonate the domain controller and read the service account's password. Lab use only.");
        }

        var password = options.ReadPassword(environment ?? Environment.GetEnvironmentVariable);
        return new AdConnector(options, new LdapSession(options, password), policy, time);
    }

    public void Dispose() => _session.Dispose();

    public async Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Provider != Provider) return IdentityLookup.NotFound($"the ad connector cannot resolve a {subject.Provider.Name()} account");
        var key = subject.Id ?? subject.Name;
        if (string.IsNullOrWhiteSpace(key)) return IdentityLookup.NotFound("the subject has neither an id nor a name");

        // No account name holds a control character; some directories cut a value at NUL and would match a prefix.
        if (key.Any(char.IsControl)) return IdentityLookup.NotFound("no AD account can match a name with control characters; nothing was looked up");
        List<AdUser> users;
        try
        {
            users = await FindUsersAsync(key, cancellationToken);
        }
        catch (ConnectorException e)
        {
            return IdentityLookup.NotFound($"looking up '{key}' in AD failed: {e.Message}");
        }

        if (users.Count == 0) return IdentityLookup.NotFound($"no AD account matches '{key}' under {_options.BaseDn}");
        if (users.Count > 1)
        {
            return IdentityLookup.NotFound($"{users.Count} AD accounts match '{key}' ({string.Join("; ", users.Select(u => u.Dn))}); refusing to guess");
        }

        try
        {
            return IdentityLookup.Found(await IdentityAsync(users[0], cancellationToken));
        }
        catch (ConnectorException e)
        {
            return IdentityLookup.NotFound($"reading the groups of {users[0].Dn} failed: {e.Message}");
        }
    }

    public async Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        var user = await TargetAsync(request.Target, cancellationToken);
        return await action.ReadAsync(this, user, request, cancellationToken);
    }

    public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        var user = await TargetAsync(request.Target, cancellationToken);

        // Read again as it acts: done since the executor's read (another run, a person) is reported with the state found,
        // so the trail says no-op, not a success with a prior state this call did not change.
        var now = await action.ReadAsync(this, user, request, cancellationToken);
        if (now.AlreadyDone)
        {
            throw new TargetChangedException(now, $"already {now.Description ?? "in the desired state"} when the change was to be made (changed since it was read); nothing done");
        }

        await action.ApplyAsync(this, user, request, cancellationToken);
    }

    public async Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        var user = await TargetAsync(request.Target, cancellationToken);
        return (await action.ReadAsync(this, user, request, cancellationToken)).AlreadyDone;
    }

    public async Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken)
    {
        var action = Check(request);
        JsonObject prior;
        try
        {
            prior = JsonNode.Parse(priorState) as JsonObject ?? throw new ConnectorException($"the recorded prior state of {action.Name} is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ConnectorException($"the recorded prior state of {action.Name} is not JSON: {e.Message}", e);
        }

        var user = await TargetAsync(request.Target, cancellationToken);
        await action.RestoreAsync(this, user, request, prior, cancellationToken);
    }

    /// <summary>
    /// The set group, every group nested in it at any depth (searched from the domain root, so a path through a group
    /// outside the base DN is not lost), and every account under the base DN that holds it: through the member chain
    /// (LDAP_MATCHING_RULE_IN_CHAIN) or a primaryGroupID that is the RID of the set group or of a group nested in it.
    /// The graph keeps each direct fact (member links, primary groups) so lockout protection can tell which edit cuts a path.
    /// </summary>
    public async Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupOrRole);
        var group = await FindGroupAsync(groupOrRole, cancellationToken);
        if (group is null) return CriticalSet.From(Provider, groupOrRole, PrivilegeGraph.Empty);
        var nested = (await SearchAsync(DomainDn, $"(&(objectClass=group)(memberOf:{InChain}:={LdapEscape.FilterValue(group.Dn)}))", SearchScope.Subtree,
            AdGroup.Attributes, $"reading the groups nested in {group.Dn}", cancellationToken)).Select(AdGroup.From).ToList();
        var chain = new[] { group }.Concat(nested).GroupBy(g => g.ObjectGuid).Select(g => g.First()).ToList();
        var byDn = chain.ToDictionary(g => g.Dn, StringComparer.OrdinalIgnoreCase);
        var byRid = chain.Where(g => g.Rid is not null).GroupBy(g => g.Rid!.Value).ToDictionary(g => g.Key, g => g.First());
        var membership = $"(memberOf:{InChain}:={LdapEscape.FilterValue(group.Dn)})"
            + string.Concat(byRid.Keys.Order().Select(rid => $"(primaryGroupID={rid.ToString(CultureInfo.InvariantCulture)})"));
        var users = (await SearchAsync(_options.BaseDn, $"(&{UserFilter}(|{membership}))", SearchScope.Subtree, AdUser.Attributes,
            $"counting the holders of {group.Dn}", cancellationToken)).Select(AdUser.From).ToList();

        var principals = chain.Select(g => new PrivilegePrincipal(g.Id, PrincipalKind.Group, g.Name)).ToList();
        var edges = chain.SelectMany(g => g.MemberOf.Where(byDn.ContainsKey).Select(parent => new PrivilegeEdge(g.Id, byDn[parent].Id, EdgeKind.Member))).ToList();
        foreach (var user in users)
        {
            principals.Add(new PrivilegePrincipal(user.Id, PrincipalKind.User, user.SamAccountName) { Enabled = user.Enabled });
            edges.AddRange(user.MemberOf.Where(byDn.ContainsKey).Select(dn => new PrivilegeEdge(user.Id, byDn[dn].Id, EdgeKind.Member)));
            if (user.PrimaryGroupId is { } rid && byRid.TryGetValue(rid, out var primary)) edges.Add(new PrivilegeEdge(user.Id, primary.Id, EdgeKind.PrimaryGroup));
        }

        var graph = PrivilegeGraph.Build(principals, edges);
        return CriticalSet.From(Provider, group.Id, graph) with { Name = groupOrRole };
    }

    /// <summary>
    /// Every user and group under the base DN in two paged searches: direct memberships by name, group nesting kept, and
    /// each account's primary group (primaryGroupID + the domain SID), so the snapshot reader works out the same groups the DC does.
    /// </summary>
    public async Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken)
    {
        var groupEntries = await SearchAsync(_options.BaseDn, "(objectClass=group)", SearchScope.Subtree, AdGroup.Attributes, "exporting the groups", cancellationToken);
        var adGroups = groupEntries.Select(AdGroup.From).ToList();
        var byDn = adGroups.ToDictionary(g => g.Dn, StringComparer.OrdinalIgnoreCase);
        string? NameOf(string dn) => byDn.TryGetValue(dn, out var group) ? group.Name : null;
        var groups = adGroups.Select(g => new Group(Provider, g.Id, g.Name) { MemberOf = [.. g.MemberOf.Select(NameOf).OfType<string>()] }).ToList();

        var userEntries = await SearchAsync(_options.BaseDn, $"(&{UserFilter})", SearchScope.Subtree, AdUser.Attributes, "exporting the accounts", cancellationToken);
        var bySid = adGroups.Where(g => g.Sid is not null).GroupBy(g => Convert.ToHexString(g.Sid!)).ToDictionary(g => g.Key, g => g.First());
        var users = userEntries.Select(AdUser.From).Select(user => new UserEntry(Provider, user.Id, user.SamAccountName)
        {
            PrimaryGroup = user.PrimaryGroupSid is { } sid && bySid.TryGetValue(Convert.ToHexString(sid), out var primary) ? primary.Name : null,
            Upn = user.Upn,
            Sid = Sids.ToText(user.Sid),
            Email = user.Mail,
            EmployeeId = user.EmployeeId,
            ConsistencyGuid = user.ConsistencyGuid?.ToString("D"),
            DisplayName = user.DisplayName ?? user.SamAccountName,
            Enabled = user.Enabled,
            Groups = [.. user.MemberOf.Select(NameOf).OfType<string>()],
            PasswordMustChange = user.PasswordMustChange,
            RandomPasswordSetAt = user.PasswordResetWithForcedChangeAt,
        }).ToList();
        return new DirectoryExport(Provider, users, groups);
    }

    internal async Task<AdUser> ReloadAsync(AdUser user, CancellationToken cancellationToken) =>
        await TargetAsync(new TargetRef(Provider, user.Id, user.SamAccountName), cancellationToken);

    internal Task ModifyAsync(string dn, string operation, string neededRight, CancellationToken cancellationToken, params DirectoryAttributeModification[] changes) =>
        SendAsync(new ModifyRequest(dn, changes), operation, dn, neededRight, cancellationToken);

    /// <summary>The groups named in a rule that the account is a direct member of; missing groups are simply not there.</summary>
    internal async Task<List<AdGroup>> DirectGroupsNamedAsync(AdUser user, IEnumerable<string> names, CancellationToken cancellationToken)
    {
        var held = new List<AdGroup>();
        foreach (var name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var group = await FindGroupAsync(name, cancellationToken);
            if (group is not null && user.MemberOf.Contains(group.Dn, StringComparer.OrdinalIgnoreCase) && !held.Exists(g => g.ObjectGuid == group.ObjectGuid)) held.Add(group);
        }

        return held;
    }

    internal async Task<AdGroup?> FindGroupByIdAsync(Guid id, CancellationToken cancellationToken)
    {
        var entries = await SearchAsync(_options.BaseDn, $"(&(objectClass=group)(objectGUID={LdapEscape.FilterBytes(id.ToByteArray())}))", SearchScope.Subtree, AdGroup.Attributes, "looking up a group", cancellationToken);
        return entries.Count == 1 ? AdGroup.From(entries[0]) : null;
    }

    internal async Task<AdGroup?> FindGroupAsync(string name, CancellationToken cancellationToken)
    {
        var entries = await SearchAsync(_options.BaseDn, AdGroup.Filter(name), SearchScope.Subtree, AdGroup.Attributes, $"looking up group '{name}'", cancellationToken);
        var groups = entries.Select(AdGroup.From).ToList();

        // A sAMAccountName is unique in the domain; a cn only within its container, so prefer the former.
        var exact = groups.Where(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (exact.Count == 1) return exact[0];
        return groups.Count switch
        {
            0 => null,
            1 => groups[0],
            _ => throw new ConnectorException($"{groups.Count} AD groups are called '{name}' ({string.Join("; ", groups.Select(g => g.Dn))}); name it by its sAMAccountName"),
        };
    }

    private async Task<List<AdUser>> FindUsersAsync(string key, CancellationToken cancellationToken)
    {
        List<SearchResultEntry> entries;
        if (Guid.TryParse(key, out var guid))
        {
            entries = await SearchAsync(_options.BaseDn, $"(&{UserFilter}(objectGUID={LdapEscape.FilterBytes(guid.ToByteArray())}))", SearchScope.Subtree, AdUser.Attributes, "looking up an account", cancellationToken);
        }
        else if (Sids.TryParse(key, out var sid))
        {
            // Defender names an on-premises account by its SID (userEvidence.userSid): matched as the binary objectSid.
            entries = await SearchAsync(_options.BaseDn, $"(&{UserFilter}(objectSid={LdapEscape.FilterBytes(sid)}))", SearchScope.Subtree, AdUser.Attributes, "looking up an account", cancellationToken);
        }
        else if (LooksLikeDn(key))
        {
            if (!IsUnderBase(key)) return [];
            try
            {
                entries = await SearchAsync(key, $"(&{UserFilter})", SearchScope.Base, AdUser.Attributes, "looking up an account", cancellationToken);
            }
            catch (ConnectorException e) when (e.InnerException is { } inner && LdapFault.From(inner)?.Code is LdapFault.NoSuchObject or 34)
            {
                return [];
            }
        }
        else
        {
            var value = LdapEscape.FilterValue(key);
            var backslash = key.IndexOf('\\', StringComparison.Ordinal);
            var filter = key.Contains('@', StringComparison.Ordinal)
                ? $"(|(userPrincipalName={value})(mail={value}))"
                : backslash > 0 ? $"(sAMAccountName={LdapEscape.FilterValue(key[(backslash + 1)..])})" : $"(sAMAccountName={value})";
            entries = await SearchAsync(_options.BaseDn, $"(&{UserFilter}{filter})", SearchScope.Subtree, AdUser.Attributes, "looking up an account", cancellationToken);
        }

        return [.. entries.Select(AdUser.From)];
    }

    /// <summary>By objectGUID only: the executor acts on the account it resolved, never on a name that may now mean someone else.</summary>
    private async Task<AdUser> TargetAsync(TargetRef target, CancellationToken cancellationToken)
    {
        if (target.Provider != Provider) throw new ConnectorException($"the ad connector was asked to act on a {target.Provider.Name()} account ({target.Name})");
        if (!Guid.TryParse(target.Id, out var guid)) throw new ConnectorException($"'{target.Id}' ({target.Name}) is not an AD objectGUID; nothing was done");
        var entries = await SearchAsync(_options.BaseDn, $"(&{UserFilter}(objectGUID={LdapEscape.FilterBytes(guid.ToByteArray())}))", SearchScope.Subtree, AdUser.Attributes, "reading the target", cancellationToken);
        return entries.Count == 1
            ? AdUser.From(entries[0])
            : throw new ConnectorException($"no AD account with objectGUID {guid:D} ({target.Name}) under {_options.BaseDn}; nothing was done");
    }

    private async Task<Identity> IdentityAsync(AdUser user, CancellationToken cancellationToken)
    {
        var groups = await GroupsOfAsync(user, cancellationToken);
        var primary = groups.Primary;
        var byDn = groups.All.ToDictionary(g => g.Dn, StringComparer.OrdinalIgnoreCase);
        var transitive = groups.All.Select(g => g.Name).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        var direct = groups.All
            .Where(g => user.MemberOf.Contains(g.Dn, StringComparer.OrdinalIgnoreCase) || g.ObjectGuid == primary?.ObjectGuid)
            .Select(g => new Group(Provider, g.Id, g.Name)
            {
                MemberOf = [.. g.MemberOf.Select(dn => byDn.TryGetValue(dn, out var parent) ? parent.Name : null).OfType<string>()],
                Privileged = _policy.IsPrivilegedGroup(Provider, g.Name),
            })
            .OrderBy(g => g.Name, StringComparer.OrdinalIgnoreCase);
        return new Identity(Provider, user.Id, user.SamAccountName)
        {
            Upn = user.Upn,
            Sid = Sids.ToText(user.Sid),
            Email = user.Mail,
            EmployeeId = user.EmployeeId,
            ConsistencyGuid = user.ConsistencyGuid?.ToString("D"),
            DisplayName = user.DisplayName ?? user.SamAccountName,
            Enabled = user.Enabled,
            Groups = [.. direct],
            TransitiveGroups = transitive,
            PrimaryGroup = primary?.Name,
            Privileged = _policy.IsPrivileged(Provider, transitive, []),
            PasswordMustChange = user.PasswordMustChange,
            RandomPasswordSetAt = user.PasswordResetWithForcedChangeAt,
        };
    }

    /// <summary>
    /// Every group the account belongs to under the base DN: its member chain (LDAP_MATCHING_RULE_IN_CHAIN), and its primary
    /// group with that group's own chain, which the DC leaves out of both memberOf and the chain rule.
    /// </summary>
    internal async Task<(List<AdGroup> All, AdGroup? Primary)> GroupsOfAsync(AdUser user, CancellationToken cancellationToken)
    {
        var all = (await GroupsContainingAsync(user.Dn, $"reading the groups of {user.Dn}", cancellationToken)).ToList();
        var primary = await PrimaryGroupAsync(user, cancellationToken);
        if (primary is not null)
        {
            foreach (var group in new[] { primary }.Concat(await GroupsContainingAsync(primary.Dn, $"reading the groups of {primary.Dn}", cancellationToken)))
            {
                if (!all.Exists(g => g.ObjectGuid == group.ObjectGuid)) all.Add(group);
            }
        }

        return (all, primary);
    }

    /// <summary>The group primaryGroupID names (domain SID + RID), when it is under the base DN.</summary>
    internal async Task<AdGroup?> PrimaryGroupAsync(AdUser user, CancellationToken cancellationToken)
    {
        if (user.PrimaryGroupSid is not { } sid) return null;
        var entries = await SearchAsync(_options.BaseDn, $"(&(objectClass=group)(objectSid={LdapEscape.FilterBytes(sid)}))", SearchScope.Subtree, AdGroup.Attributes,
            $"reading the primary group of {user.Dn}", cancellationToken);
        return entries.Count == 1 ? AdGroup.From(entries[0]) : null;
    }

    private async Task<IEnumerable<AdGroup>> GroupsContainingAsync(string dn, string operation, CancellationToken cancellationToken) =>
        (await SearchAsync(_options.BaseDn, $"(&(objectClass=group)(member:{InChain}:={LdapEscape.FilterValue(dn)}))", SearchScope.Subtree, AdGroup.Attributes, operation, cancellationToken))
        .Select(AdGroup.From);

    private static AdAction Check(ActionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Target.Provider != Provider.Ad)
        {
            throw new ConnectorException($"the ad connector was asked to act on a {request.Target.Provider.Name()} account ({request.Target.Name})");
        }

        if (!request.Action.Supports(Provider.Ad) || !AdAction.All.TryGetValue(request.Action.Name, out var action))
        {
            throw new ConnectorException($"{request.Action.Name} is not an action ad supports");
        }

        return action;
    }

    private static bool LooksLikeDn(string key) =>
        key.Contains('=', StringComparison.Ordinal) && (key.StartsWith("CN=", StringComparison.OrdinalIgnoreCase) || key.StartsWith("OU=", StringComparison.OrdinalIgnoreCase)
            || key.StartsWith("UID=", StringComparison.OrdinalIgnoreCase));

    /// <summary>The domain naming context the base DN lies in (its DC= components): where group nesting is read whole.</summary>
    private string DomainDn
    {
        get
        {
            var at = _options.BaseDn.IndexOf("DC=", StringComparison.OrdinalIgnoreCase);
            return at < 0 ? _options.BaseDn : _options.BaseDn[at..];
        }
    }

    private bool IsUnderBase(string dn) =>
        dn.EndsWith("," + _options.BaseDn, StringComparison.OrdinalIgnoreCase) || string.Equals(dn, _options.BaseDn, StringComparison.OrdinalIgnoreCase);

    /// <summary>A subtree or base search, paged so a whole-directory read never hits the DC's size limit.</summary>
    private async Task<List<SearchResultEntry>> SearchAsync(
        string baseDn, string filter, SearchScope scope, string[] attributes, string operation, CancellationToken cancellationToken)
    {
        var results = new List<SearchResultEntry>();
        var paging = new PageResultRequestControl(_options.PageSize) { IsCritical = false };
        while (true)
        {
            var request = new SearchRequest(baseDn, filter, scope, attributes);
            if (scope != SearchScope.Base) request.Controls.Add(paging);
            var response = (SearchResponse)await SendAsync(request, operation, baseDn, "read access to users and groups (Authenticated Users has it by default)", cancellationToken);
            results.AddRange(response.Entries.Cast<SearchResultEntry>());
            var cookie = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()?.Cookie;
            if (scope == SearchScope.Base || cookie is not { Length: > 0 }) return results;
            paging.Cookie = cookie;
        }
    }

    private async Task<DirectoryResponse> SendAsync(DirectoryRequest request, string operation, string target, string neededRight, CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.RunAsync(() => _session.SendAsync(request, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (LdapFault.From(e) is { } fault)
        {
            throw fault.ToConnectorException(operation, target, neededRight, e);
        }
    }

    internal DateTimeOffset Now => _time.GetUtcNow();
}
