using System.Collections.Immutable;
using System.Text.Json;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.TestKit;

/// <summary>Short ways to make findings and identities in tests.</summary>
public static class Build
{
    public static readonly DateTimeOffset Now = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    public static Finding Finding(string type = "weak_password", Severity severity = Severity.High, Provider provider = Provider.Ad,
        string name = "alice", string? id = null, object? attributes = null)
    {
        var attrs = Findings.Finding.NoAttributes;
        if (attributes is not null)
        {
            using var document = JsonDocument.Parse(JsonSerializer.Serialize(attributes));
            attrs = document.RootElement.EnumerateObject().ToImmutableDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }

        return new Finding(id ?? $"f-{Guid.NewGuid():N}", "test", FindingKind.Detection, type, severity, Now.AddHours(-1),
            new Subject(provider, null, name), type, attrs);
    }

    public static DirectorySnapshot Directory(params UserEntry[] users) =>
        DirectorySnapshot.Build(users, [], PrivilegedPolicy.Default);

    public static DirectorySnapshot Directory(IEnumerable<UserEntry> users, IEnumerable<Group> groups) =>
        DirectorySnapshot.Build(users, groups, PrivilegedPolicy.Default);

    public static UserEntry User(string name, Provider provider = Provider.Ad, string[]? groups = null, string[]? roles = null, bool guest = false,
        bool enabled = true, string[]? tags = null) =>
        new(provider, "id-" + name, name)
        {
            Upn = $"{name}@corp.example.com",
            Groups = groups ?? [],
            Roles = roles ?? [],
            Guest = guest,
            Enabled = enabled,
            Tags = tags ?? [],
        };

    /// <summary>Engine options whose lockout protection keeps <paramref name="minimum"/> enabled holders of exactly these sets.</summary>
    public static Configuration.EngineOptions Lockout(Provider provider, int minimum, params string[] sets) => new()
    {
        Guards = new Configuration.GuardOptions
        {
            Lockout = new Configuration.LockoutOptions
            {
                Minimum = minimum,
                Critical = ImmutableDictionary<Provider, ImmutableArray<string>>.Empty.Add(provider, [.. sets]),
            },
        },
    };

    public static Identity Identity(string name, Provider provider = Provider.Ad, string[]? groups = null, string[]? roles = null, bool guest = false) =>
        Directory(User(name, provider, groups, roles, guest)).Users[0];
}
