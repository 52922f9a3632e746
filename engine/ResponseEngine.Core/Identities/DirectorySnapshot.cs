using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

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

    public IdentityLookup Resolve(Subject subject)
    {
        if (subject.Id is not null && _byId.TryGetValue((subject.Provider, subject.Id), out var byId))
        {
            return IdentityLookup.Found(byId);
        }

        if (subject.Name is not null && _byName.TryGetValue((subject.Provider, subject.Name), out var matches))
        {
            return matches.Count == 1
                ? IdentityLookup.Found(matches[0])
                : IdentityLookup.NotFound($"{matches.Count} {subject.Provider.Name()} accounts match '{subject.Name}'; refusing to guess");
        }

        return IdentityLookup.NotFound($"no {subject.Provider.Name()} account matches {Describe(subject)}");
    }

    private static string Describe(Subject subject) =>
        subject.Id is not null && subject.Name is not null ? $"id '{subject.Id}' or name '{subject.Name}'"
        : subject.Id is not null ? $"id '{subject.Id}'"
        : $"name '{subject.Name}'";

    /// <summary>Builds identities from raw entries: resolves group nesting and computes the privileged flag.</summary>
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

        var closureCache = new Dictionary<(Provider, string), FrozenSet<string>>(ProviderKeyComparer.Instance);
        var identities = new List<Identity>();
        foreach (var user in users)
        {
            var direct = user.Groups.Select(name => groupIndex.GetValueOrDefault((user.Provider, name))
                ?? new Group(user.Provider, name, name) { Privileged = policy.IsPrivilegedGroup(user.Provider, name) }).ToImmutableArray();
            var transitive = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var group in direct)
            {
                transitive.UnionWith(Closure(group, groupIndex, closureCache));
            }

            var roles = user.Roles.ToImmutableArray();
            identities.Add(new Identity(user.Provider, user.Id, user.Name)
            {
                Upn = user.Upn,
                Email = user.Email,
                DisplayName = user.DisplayName ?? user.Name,
                Enabled = user.Enabled,
                Guest = user.Guest,
                Groups = direct,
                TransitiveGroups = transitive.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
                Roles = roles,
                RoleSet = roles.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
                Privileged = policy.IsPrivileged(user.Provider, transitive, roles),
                GlobalAdmin = policy.IsGlobalAdminLevel(user.Provider, roles),
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

        return new DirectorySnapshot(identities, groupIndex.Values, generatedAt);
    }

    private static FrozenSet<string> Closure(Group start, Dictionary<(Provider, string), Group> index, Dictionary<(Provider, string), FrozenSet<string>> cache)
    {
        var key = (start.Provider, start.Name);
        if (cache.TryGetValue(key, out var cached)) return cached;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { start.Name };
        var queue = new Queue<Group>([start]);
        while (queue.Count > 0)
        {
            var group = queue.Dequeue();
            foreach (var parentName in group.MemberOf)
            {
                if (!seen.Add(parentName)) continue;
                if (index.TryGetValue((group.Provider, parentName), out var parent)) queue.Enqueue(parent);
            }
        }

        return cache[key] = seen.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }
}

/// <summary>A user as written in a snapshot, before nesting and privilege are worked out.</summary>
public sealed record UserEntry(Provider Provider, string Id, string Name)
{
    public string? Upn { get; init; }

    public string? Email { get; init; }

    public string? DisplayName { get; init; }

    public bool Enabled { get; init; } = true;

    public bool Guest { get; init; }

    public IReadOnlyList<string> Groups { get; init; } = [];

    public IReadOnlyList<string> Roles { get; init; } = [];

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
