using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.Findings;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>The critical sets every generated case configures: AD groups, Entra directory roles, Okta admin role types.</summary>
public static class CriticalSets
{
    public static ImmutableArray<string> Ad { get; } = ["Domain Admins", "Enterprise Admins", "Administrators"];

    public static ImmutableArray<string> Entra { get; } = ["Global Administrator", "Privileged Role Administrator"];

    public static ImmutableArray<string> Okta { get; } = ["SUPER_ADMIN", "ORG_ADMIN"];

    public static ImmutableArray<string> For(Provider provider) => provider switch
    {
        Provider.Ad => Ad,
        Provider.Entra => Entra,
        _ => Okta,
    };
}

/// <summary>A generated group: nesting (member_of), and the roles it holds (Entra role-assignable group, Okta group admin role).</summary>
public sealed record GraphGroup(Provider Provider, string Name)
{
    public ImmutableArray<string> MemberOf { get; init; } = [];

    public ImmutableArray<string> Roles { get; init; } = [];

    public bool RoleAssignable { get; init; }
}

/// <summary>A generated account, as the snapshot writes it (and as the test reads the working copy back).</summary>
public sealed record GraphUser(Provider Provider, string Id, string Name)
{
    public bool Enabled { get; init; } = true;

    public string? OktaStatus { get; init; }

    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Direct memberships; the AD primary group is not among them (AD does not list it in memberOf).</summary>
    public ImmutableArray<string> Groups { get; init; } = [];

    public string? PrimaryGroup { get; init; }

    /// <summary>Roles held by the account itself.</summary>
    public ImmutableArray<string> Roles { get; init; } = [];

    /// <summary>Entra PIM-eligible roles: reported, never held, never counted.</summary>
    public ImmutableArray<string> EligibleRoles { get; init; } = [];

    public bool PasswordMustChange { get; init; }

    public string? RandomPasswordSetAt { get; init; }

    /// <summary>Can sign in: Okta by status (ACTIVE, PASSWORD_EXPIRED, RECOVERY), the others by the enabled flag.</summary>
    public bool SignsIn => OktaStatus is { } status ? status is "ACTIVE" or "PASSWORD_EXPIRED" or "RECOVERY" : Enabled;

    public bool BreakGlass => Tags.Contains("break_glass", StringComparer.OrdinalIgnoreCase);
}

/// <summary>One action of a generated rule, with its one parameter.</summary>
public sealed record GraphAction(string Name)
{
    public string? Group { get; init; }

    public string? Role { get; init; }

    public bool SetRandom { get; init; }

    public override string ToString() => Name + (Group is not null ? $" [{Group}]" : Role is not null ? $" [{Role}]" : SetRandom ? " (set_random)" : "");
}

public sealed record GraphRule(string Id, Provider Provider, string Type, ImmutableArray<GraphAction> Actions)
{
    public bool Cooldown { get; init; }
}

public sealed record GraphFinding(string Id, string Source, string Type, Provider Provider, string UserId);

/// <summary>
/// One generated case: a directory graph over the three providers, rules of destructive actions, and the findings each of
/// one to three concurrent runs gets (a finding may go to more than one run; a repeat may come from another source).
/// </summary>
public sealed record AdversaryCase(
    ImmutableArray<GraphGroup> Groups,
    ImmutableArray<GraphUser> Users,
    ImmutableArray<GraphRule> Rules,
    ImmutableArray<ImmutableArray<GraphFinding>> Runs,
    int Minimum)
{
    /// <summary>Listed as the engine's own accounts in respond.yaml (by id).</summary>
    public ImmutableArray<string> EngineAccounts { get; init; } = [];

    /// <summary>Listed under guards.protected.groups: their members, transitively, are never acted on.</summary>
    public ImmutableArray<string> ProtectedGroups { get; init; } = [];

    /// <summary>Runs one after another instead of at once (hand-made cases: a later run after an earlier one finished).</summary>
    public bool Sequential { get; init; }

    public DirectoryState State => new(Groups, Users);

    /// <summary>The longest chain of group-in-group hops from an account's group to a critical set, cycles cut.</summary>
    public int NestingDepth => State.NestingDepth();
}

/// <summary>The directory at one moment (the generated snapshot, or the working copy after the runs), with the test's own reachability.</summary>
public sealed class DirectoryState(ImmutableArray<GraphGroup> groups, ImmutableArray<GraphUser> users)
{
    private static readonly StringComparer Names = StringComparer.OrdinalIgnoreCase;

    public ImmutableArray<GraphGroup> Groups { get; } = groups;

    public ImmutableArray<GraphUser> Users { get; } = users;

    public GraphUser? User(Provider provider, string id) => Users.FirstOrDefault(u => u.Provider == provider && u.Id == id);

    public GraphGroup? Group(Provider provider, string name) => Groups.FirstOrDefault(g => g.Provider == provider && Names.Equals(g.Name, name));

    /// <summary>Every group the account is in: direct, primary group, and their nesting closure (breadth first, visited set).</summary>
    public HashSet<string> GroupsOf(GraphUser user)
    {
        var seen = new HashSet<string>(Names);
        var queue = new Queue<string>();
        foreach (var start in user.Groups.Concat(user.PrimaryGroup is { } primary ? [primary] : []))
        {
            if (seen.Add(start)) queue.Enqueue(start);
        }

        while (queue.Count > 0)
        {
            foreach (var parent in Group(user.Provider, queue.Dequeue())?.MemberOf ?? [])
            {
                if (seen.Add(parent)) queue.Enqueue(parent);
            }
        }

        return seen;
    }

    /// <summary>Roles held directly and through every group the account is in.</summary>
    public HashSet<string> RolesOf(GraphUser user)
    {
        var roles = new HashSet<string>(user.Roles, Names);
        foreach (var name in GroupsOf(user)) roles.UnionWith(Group(user.Provider, name)?.Roles ?? []);
        return roles;
    }

    public bool Holds(GraphUser user, string set) => GroupsOf(user).Contains(set) || RolesOf(user).Contains(set);

    /// <summary>One way the account holds the set, for messages: "alice → T1 → T2 → Domain Admins".</summary>
    public string Path(GraphUser user, string set)
    {
        var from = new Dictionary<string, string?>(Names);
        var queue = new Queue<string>();
        if (user.Roles.Contains(set, Names)) return $"{user.Name} holds {set} directly";
        foreach (var start in user.Groups.Concat(user.PrimaryGroup is { } primary ? [primary] : []))
        {
            if (from.TryAdd(start, null)) queue.Enqueue(start);
        }

        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            var group = Group(user.Provider, name);
            if (Names.Equals(name, set) || (group?.Roles.Contains(set, Names) ?? false))
            {
                var chain = new List<string>();
                for (string? at = name; at is not null; at = from[at]) chain.Insert(0, at);
                var via = user.PrimaryGroup is { } p && Names.Equals(chain[0], p) ? " (primary group)" : "";
                return $"{user.Name} → {string.Join(" → ", chain)}{via}" + (Names.Equals(name, set) ? "" : $" holds {set}");
            }

            foreach (var parent in group?.MemberOf ?? [])
            {
                if (from.TryAdd(parent, name)) queue.Enqueue(parent);
            }
        }

        return $"{user.Name} does not hold {set}";
    }

    /// <summary>
    /// The holders that keep a set usable: can sign in, hold it by any path, are not break-glass accounts (they do not
    /// count toward the minimum by default), and did not get a random password since <paramref name="before"/> (that
    /// stops the old password at once: a lockout as real as a disable).
    /// </summary>
    public List<GraphUser> UsableHolders(Provider provider, string set, DirectoryState before) =>
    [
        .. Users.Where(u => u.Provider == provider && u.SignsIn && !u.BreakGlass && Holds(u, set)
            && (before.User(provider, u.Id) is not { } was || was.RandomPasswordSetAt == u.RandomPasswordSetAt)),
    ];

    public int NestingDepth()
    {
        var deepest = 0;
        foreach (var group in Groups) deepest = Math.Max(deepest, Depth(group, new HashSet<string>(Names)));
        return deepest;

        int Depth(GraphGroup group, HashSet<string> path)
        {
            if (!path.Add(group.Name)) return -1;
            var best = CriticalSets.For(group.Provider).Contains(group.Name, Names) ? 0 : -1;
            foreach (var parent in group.MemberOf)
            {
                if (Group(group.Provider, parent) is not { } next) continue;
                var below = Depth(next, path);
                if (below >= 0) best = Math.Max(best, below + 1);
            }

            path.Remove(group.Name);
            return best;
        }
    }

    /// <summary>Reads a snapshot file (schemas/directory.schema.json) into the test's own model; fields it does not know are ignored.</summary>
    public static DirectoryState Parse(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        static ImmutableArray<string> Strings(JsonNode? node) => node is JsonArray a ? [.. a.Select(x => (string)x!)] : [];
        static Provider ProviderOf(JsonObject entry) =>
            Providers.TryParse((string?)entry["provider"], out var provider) ? provider : throw new FormatException($"no provider in {entry.ToJsonString()}");
        var groups = (root["groups"] as JsonArray ?? []).OfType<JsonObject>().Select(g => new GraphGroup(ProviderOf(g), (string)g["name"]!)
        {
            MemberOf = Strings(g["member_of"]),
            Roles = Strings(g["roles"]),
            RoleAssignable = (bool?)g["role_assignable"] ?? false,
        });
        var users = (root["users"] as JsonArray ?? []).OfType<JsonObject>().Select(u => new GraphUser(ProviderOf(u), (string)u["id"]!, (string)u["name"]!)
        {
            Enabled = (bool?)u["enabled"] ?? true,
            OktaStatus = (string?)u["okta_status"],
            Tags = Strings(u["tags"]),
            Groups = Strings(u["groups"]),
            PrimaryGroup = (string?)u["primary_group"],
            Roles = Strings(u["roles"]),
            EligibleRoles = Strings(u["eligible_roles"]),
            PasswordMustChange = (bool?)u["password_must_change"] ?? false,
            RandomPasswordSetAt = (string?)u["random_password_set_at"],
        });
        return new DirectoryState([.. groups], [.. users]);
    }
}

/// <summary>Writes a case as the files a user would have: the snapshot, rules/, respond.yaml and one findings file per run.</summary>
public static class CaseFiles
{
    public const string ObservedAt = "2026-12-01T07:00:00Z";

    public static string Snapshot(AdversaryCase c)
    {
        var groups = new JsonArray();
        foreach (var g in c.Groups)
        {
            var entry = new JsonObject { ["provider"] = g.Provider.Name(), ["id"] = GroupId(g), ["name"] = g.Name };
            if (g.Provider == Provider.Okta) entry["okta_type"] = "OKTA_GROUP";
            if (g.MemberOf.Length > 0) entry["member_of"] = Array(g.MemberOf);
            if (g.Roles.Length > 0) entry["roles"] = Array(g.Roles);
            if (g.RoleAssignable) entry["role_assignable"] = true;
            groups.Add(entry);
        }

        var users = new JsonArray();
        foreach (var u in c.Users)
        {
            var entry = new JsonObject { ["provider"] = u.Provider.Name(), ["id"] = u.Id, ["name"] = u.Name };
            if (u.Provider != Provider.Okta) entry["upn"] = u.Name + "@corp.example.com";
            entry["enabled"] = u.SignsIn;
            if (u.OktaStatus is { } status) entry["okta_status"] = status;
            if (u.Tags.Length > 0) entry["tags"] = Array(u.Tags);
            if (u.Groups.Length > 0) entry["groups"] = Array(u.Groups);
            if (u.PrimaryGroup is { } primary) entry["primary_group"] = primary;
            if (u.Roles.Length > 0) entry["roles"] = Array(u.Roles);
            if (u.EligibleRoles.Length > 0) entry["eligible_roles"] = Array(u.EligibleRoles);
            users.Add(entry);
        }

        return new JsonObject { ["version"] = 1, ["groups"] = groups, ["users"] = users }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    public static string GroupId(GraphGroup g) => $"g-{g.Provider.Name()}-{g.Name.Replace(' ', '-').ToLowerInvariant()}";

    public static string Rule(GraphRule rule)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"id: {rule.Id}\ntitle: generated {rule.Id}\nowner: adversary\nmode: enforce\n");
        text.Append(CultureInfo.InvariantCulture, $"match:\n  types: [{rule.Type}]\n  providers: [{rule.Provider.Name()}]\nactions:\n");
        foreach (var action in rule.Actions)
        {
            text.Append(CultureInfo.InvariantCulture, $"  - action: {action.Name}\n");
            if (action.Group is { } group) text.Append(CultureInfo.InvariantCulture, $"    with: {{ groups: [\"{group}\"] }}\n");
            if (action.Role is { } role) text.Append(CultureInfo.InvariantCulture, $"    with: {{ roles: [\"{role}\"] }}\n");
            if (action.SetRandom) text.Append("    with: { set_random: true }\n");
        }

        if (rule.Cooldown) text.Append("limits: { cooldown: 1h }\n");
        return text.ToString();
    }

    /// <summary>respond.yaml: the case's minimum and critical sets, its protected accounts, and limits high enough never to mask a lockout.</summary>
    public static string Config(AdversaryCase c) =>
        $"""
        rules: rules
        audit: {"{"} store: sqlite, connection: respond.db {"}"}
        local: {"{"} snapshot: directory.json, working_copy: state/directory.json {"}"}
        guards:
          protected:
            engine_accounts: [{string.Join(", ", c.EngineAccounts.Select(Quote))}]
            groups: [{string.Join(", ", c.ProtectedGroups.Select(Quote))}]
          lockout:
            minimum: {c.Minimum}
            critical:
              ad: [{string.Join(", ", CriticalSets.Ad.Select(Quote))}]
              entra: [{string.Join(", ", CriticalSets.Entra.Select(Quote))}]
              okta: [{string.Join(", ", CriticalSets.Okta.Select(Quote))}]
          rate_limits: {"{"} global_per_hour: 1000000 {"}"}
          breaker: {"{"} threshold: 1000000 {"}"}

        """;

    public static string Findings(IEnumerable<GraphFinding> findings)
    {
        var text = new StringBuilder();
        foreach (var f in findings)
        {
            var line = new JsonObject
            {
                ["id"] = f.Id,
                ["source"] = f.Source,
                ["type"] = f.Type,
                ["severity"] = "high",
                ["observed_at"] = ObservedAt,
                ["subject"] = new JsonObject { ["provider"] = f.Provider.Name(), ["id"] = f.UserId },
            };
            text.Append(line.ToJsonString());
            text.Append('\n');
        }

        return text.ToString();
    }

    public static void Write(AdversaryCase c, string folder)
    {
        File.WriteAllText(System.IO.Path.Combine(folder, "directory.json"), Snapshot(c));
        File.WriteAllText(System.IO.Path.Combine(folder, "respond.yaml"), Config(c));
        Directory.CreateDirectory(System.IO.Path.Combine(folder, "rules"));
        foreach (var rule in c.Rules) File.WriteAllText(System.IO.Path.Combine(folder, "rules", rule.Id + ".yaml"), Rule(rule));
        for (var i = 0; i < c.Runs.Length; i++) File.WriteAllText(System.IO.Path.Combine(folder, FindingsFile(i)), Findings(c.Runs[i]));
    }

    public static string FindingsFile(int run) => $"findings-{run}.ndjson";

    private static JsonArray Array(IEnumerable<string> values) => [.. values.Select(v => (JsonNode)v)];

    private static string Quote(string value) => "\"" + value + "\"";

    /// <summary>The case in a form a person can read in a failure message: the graph, the rules, the runs.</summary>
    public static string Render(AdversaryCase c)
    {
        var state = c.State;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"minimum {c.Minimum}; engine accounts [{string.Join(", ", c.EngineAccounts)}]; protected groups [{string.Join(", ", c.ProtectedGroups)}]; nesting depth {c.NestingDepth}\n");
        foreach (var provider in Providers.All)
        {
            text.Append(CultureInfo.InvariantCulture, $"{provider.Name()} groups:\n");
            foreach (var g in c.Groups.Where(g => g.Provider == provider))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {g.Name}");
                if (g.MemberOf.Length > 0) text.Append(" ∈ ").Append(string.Join(", ", g.MemberOf));
                if (g.Roles.Length > 0) text.Append(g.RoleAssignable ? " (role-assignable)" : "").Append(" holds ").Append(string.Join(", ", g.Roles));
                text.Append('\n');
            }

            text.Append(CultureInfo.InvariantCulture, $"{provider.Name()} users:\n");
            foreach (var u in c.Users.Where(u => u.Provider == provider))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {u.Id} {u.Name}: {(u.SignsIn ? "enabled" : "DISABLED")}");
                if (u.OktaStatus is { } s) text.Append(' ').Append(s);
                if (u.Tags.Length > 0) text.Append(" tags ").Append(string.Join(",", u.Tags));
                if (u.Groups.Length > 0) text.Append("; groups ").Append(string.Join(", ", u.Groups));
                if (u.PrimaryGroup is { } p) text.Append("; primary ").Append(p);
                if (u.Roles.Length > 0) text.Append("; roles ").Append(string.Join(", ", u.Roles));
                if (u.EligibleRoles.Length > 0) text.Append("; eligible ").Append(string.Join(", ", u.EligibleRoles));
                var holds = CriticalSets.For(provider).Where(set => state.Holds(u, set)).Select(set => state.Path(u, set)).ToList();
                if (holds.Count > 0) text.Append("; holds: ").Append(string.Join("; ", holds));
                text.Append('\n');
            }
        }

        text.Append("rules:\n");
        foreach (var rule in c.Rules)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {rule.Id} on {rule.Provider.Name()} {rule.Type}: {string.Join(", ", rule.Actions)}{(rule.Cooldown ? " (cooldown 1h)" : "")}\n");
        }

        for (var i = 0; i < c.Runs.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"run {i + 1}: ");
            text.Append(string.Join("; ", c.Runs[i].Select(f => $"{f.Source}/{f.Id} {f.Type} → {f.UserId} ({state.User(f.Provider, f.UserId)?.Name})")));
            text.Append('\n');
        }

        return text.ToString();
    }
}
