using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Identities;

/// <summary>
/// A point-in-time copy of the directories (schemas/directory.schema.json): the embedded default directory,
/// and what makes a plan reproducible offline.
/// </summary>
public sealed class DirectorySnapshot : IIdentityResolver
{
    private readonly Dictionary<(Provider, string), Identity> _byId = new(ProviderKeyComparer.Instance);
    private readonly Dictionary<(Provider, string), List<Identity>> _byName = new(ProviderKeyComparer.Instance);
    private readonly Dictionary<(Provider, string), Group> _groups = new(ProviderKeyComparer.Instance);
    private readonly Dictionary<Provider, PrivilegeGraph> _graphs = [];

    public DirectorySnapshot(IEnumerable<Identity> users, IEnumerable<Group> groups, DateTimeOffset? generatedAt = null)
    {
        foreach (var group in groups)
        {
            _groups[(group.Provider, group.Name)] = group;
        }

        var list = new List<Identity>();
        foreach (var user in users)
        {
            list.Add(user);
            _byId[(user.Provider, user.Id)] = user;
            if (Sids.Normalize(user.Sid) is { } sid) _byId.TryAdd((user.Provider, sid), user);
            foreach (var name in new[] { user.Name, user.Upn, user.Email }.Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var key = (user.Provider, name!);
                if (!_byName.TryGetValue(key, out var matches)) _byName[key] = matches = [];
                matches.Add(user);
            }
        }

        Users = [.. list];
        Groups = [.. _groups.Values];
        GeneratedAt = generatedAt;
    }

    public ImmutableArray<Identity> Users { get; }

    public ImmutableArray<Group> Groups { get; }

    public DateTimeOffset? GeneratedAt { get; }

    public Group? FindGroup(Provider provider, string name) =>
        _groups.GetValueOrDefault((provider, name));

    /// <summary>
    /// By id (an AD account also by its objectSid), else by a name that matches one account: its name, UPN or email —
    /// for AD also <c>DOMAIN\sAMAccountName</c>, by the account part, as the AD connector looks it up.
    /// </summary>
    public IdentityLookup Resolve(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Id is not null && (_byId.TryGetValue((subject.Provider, subject.Id), out var byId)
            || (subject.Provider == Provider.Ad && Sids.Normalize(subject.Id) is { } sid && _byId.TryGetValue((subject.Provider, sid), out byId))))
        {
            return IdentityLookup.Found(byId);
        }

        if (subject.Name is not null && (_byName.TryGetValue((subject.Provider, subject.Name), out var matches)
            || (AccountPart(subject) is { } account && _byName.TryGetValue((subject.Provider, account), out matches))))
        {
            return matches.Count == 1
                ? IdentityLookup.Found(matches[0])
                : IdentityLookup.NotFound($"{matches.Count} {subject.Provider.Name()} accounts match '{subject.Name}'; refusing to guess");
        }

        return IdentityLookup.NotFound($"no {subject.Provider.Name()} account matches {Describe(subject)}");
    }

    /// <summary>The sAMAccountName of an AD subject named <c>DOMAIN\account</c>; null for any other.</summary>
    private static string? AccountPart(Subject subject) =>
        subject.Provider == Provider.Ad && subject.Name!.IndexOf('\\', StringComparison.Ordinal) is > 0 and var at && at < subject.Name.Length - 1 ? subject.Name[(at + 1)..] : null;

    private static string Describe(Subject subject) =>
        subject.Id is not null && subject.Name is not null ? $"id '{subject.Id}' or name '{subject.Name}'"
        : subject.Id is not null ? $"id '{subject.Id}'"
        : $"name '{subject.Name}'";

    /// <summary>The privilege graph of one provider's accounts and groups, built once and kept: lockout counts and the privileged flag read it.</summary>
    public PrivilegeGraph Graph(Provider provider)
    {
        lock (_graphs)
        {
            if (!_graphs.TryGetValue(provider, out var graph))
            {
                _graphs[provider] = graph = EffectivePrivilege.Graph(provider, Users, Groups);
            }

            return graph;
        }
    }

    /// <summary>Builds identities from raw entries: resolves nesting, primary groups and group-held roles, and computes the privileged flag.</summary>
    public static DirectorySnapshot Build(IEnumerable<UserEntry> users, IEnumerable<Group> groups, PrivilegedPolicy policy, DateTimeOffset? generatedAt = null)
    {
        var groupIndex = new Dictionary<(Provider, string), Group>(ProviderKeyComparer.Instance);
        foreach (var group in groups)
        {
            groupIndex[(group.Provider, group.Name)] = group with
            {
                Privileged = policy.IsPrivilegedGroup(group.Provider, group.Name),
            };
        }

        var direct = new List<Identity>();
        foreach (var user in users)
        {
            Group Lookup(string name) => groupIndex.GetValueOrDefault((user.Provider, name))
                ?? new Group(user.Provider, name, name) { Privileged = policy.IsPrivilegedGroup(user.Provider, name) };
            var names = user.PrimaryGroup is { } primary && !user.Groups.Contains(primary, StringComparer.OrdinalIgnoreCase)
                ? user.Groups.Append(primary)
                : user.Groups;
            var roles = user.Roles.ToImmutableArray();
            direct.Add(new Identity(user.Provider, user.Id, user.Name)
            {
                Upn = user.Upn,
                Sid = user.Sid,
                Email = user.Email,
                ConsistencyGuid = user.ConsistencyGuid,
                OnPremisesSid = user.OnPremisesSid,
                OnPremisesImmutableId = user.OnPremisesImmutableId,
                EmployeeId = user.EmployeeId,
                DisplayName = user.DisplayName ?? user.Name,
                Enabled = user.Enabled,
                Guest = user.Guest,
                Groups = [.. names.Select(Lookup)],
                PrimaryGroup = user.PrimaryGroup,
                Roles = roles,
                DirectRoles = roles,
                EligibleRoles = [.. user.EligibleRoles],
                Tags = [.. user.Tags],
                PasswordMustChange = user.PasswordMustChange,
                RandomPasswordSetAt = user.RandomPasswordSetAt,
                SessionsRevokedAt = user.SessionsRevokedAt,
                LastSignInAt = user.LastSignInAt,
                RiskState = user.RiskState,
                OktaStatus = user.OktaStatus,
                MfaPolicies = [.. user.MfaPolicies],
            });
        }

        var graphs = direct.Select(u => u.Provider).Distinct()
            .ToDictionary(p => p, p => EffectivePrivilege.Graph(p, direct, groupIndex.Values));
        var identities = direct.Select(u => EffectivePrivilege.Project(u, graphs[u.Provider], policy)).ToList();
        var snapshot = new DirectorySnapshot(identities, groupIndex.Values, generatedAt);
        foreach (var (provider, graph) in graphs) snapshot._graphs[provider] = graph;
        return snapshot;
    }
}

/// <summary>A user as written in a snapshot, before nesting and privilege are worked out.</summary>
public sealed record UserEntry(Provider Provider, string Id, string Name)
{
    public string? Upn { get; init; }

    /// <summary>The AD objectSid as text: a subject naming the account by SID resolves to it.</summary>
    public string? Sid { get; init; }

    public string? Email { get; init; }

    /// <summary>AD ms-DS-ConsistencyGuid (a GUID), the sync anchor where configured.</summary>
    public string? ConsistencyGuid { get; init; }

    /// <summary>Entra onPremisesSecurityIdentifier.</summary>
    public string? OnPremisesSid { get; init; }

    /// <summary>Entra onPremisesImmutableId (base64).</summary>
    public string? OnPremisesImmutableId { get; init; }

    public string? EmployeeId { get; init; }

    public string? DisplayName { get; init; }

    public bool Enabled { get; init; } = true;

    public bool Guest { get; init; }

    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Active roles assigned to the account itself; roles held through groups come from the groups.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The AD primary group's name (from primaryGroupID).</summary>
    public string? PrimaryGroup { get; init; }

    /// <summary>PIM-eligible roles: reported, not counted.</summary>
    public IReadOnlyList<string> EligibleRoles { get; init; } = [];

    public IReadOnlyList<string> Tags { get; init; } = [];

    public bool PasswordMustChange { get; init; }

    public DateTimeOffset? RandomPasswordSetAt { get; init; }

    public DateTimeOffset? SessionsRevokedAt { get; init; }

    public DateTimeOffset? LastSignInAt { get; init; }

    public string? RiskState { get; init; }

    public string? OktaStatus { get; init; }

    public IReadOnlyList<string> MfaPolicies { get; init; } = [];
}

/// <summary>Directory names compare without case, as AD, Entra and Okta compare them.</summary>
internal sealed class ProviderKeyComparer : IEqualityComparer<(Provider, string)>
{
    public static ProviderKeyComparer Instance { get; } = new();

    public bool Equals((Provider, string) x, (Provider, string) y) =>
        x.Item1 == y.Item1 && string.Equals(x.Item2, y.Item2, StringComparison.OrdinalIgnoreCase);

    public int GetHashCode((Provider, string) obj) =>
        HashCode.Combine(obj.Item1, StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Item2));
}
