using System.Collections.Immutable;
using CsCheck;
using ResponseEngine.Findings;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>What a generated case may contain beyond nesting, cycles, disabled holders and protected accounts (always on).</summary>
public sealed record Features
{
    /// <summary>AD users whose primary group (primaryGroupID) is a critical group or a group nested in one.</summary>
    public bool PrimaryGroups { get; init; }

    /// <summary>Entra role-assignable groups holding directory roles, Okta groups holding admin roles, Entra PIM-eligible roles (never counted).</summary>
    public bool GroupRoles { get; init; }

    /// <summary>Break-glass accounts among the holders of critical sets (they must not count toward the minimum).</summary>
    public bool BreakGlassHolders { get; init; }

    /// <summary>The same finding again from another source (another finding id), possibly in another run.</summary>
    public bool RepeatSources { get; init; } = true;

    /// <summary>Tier groups nested (to depth five, with cycles) in the critical groups; off only to look at another feature alone.</summary>
    public bool NestedTiers { get; init; } = true;

    /// <summary>AD reset_password with set_random (the old password stops at once: a holder lost as surely as by a disable).</summary>
    public bool RandomPasswords { get; init; } = true;

    /// <summary>Entra accounts holding a role both directly and through a role-assignable group (remove_role_assignment then deletes only the direct one).</summary>
    public bool RolesBothWays { get; init; } = true;

    public int MaxRuns { get; init; } = 3;

    public static Features Nesting { get; } = new();

    public static Features All { get; } = new() { PrimaryGroups = true, GroupRoles = true, BreakGlassHolders = true };

    public override string ToString() =>
        string.Join('+', new[] { "nesting", PrimaryGroups ? "primary_group" : null, GroupRoles ? "group_roles" : null, BreakGlassHolders ? "break_glass" : null }.OfType<string>());
}

/// <summary>CsCheck generators of directory graphs, rule sets of destructive actions and findings aimed at them.</summary>
public static class GraphGen
{
    public const string ProtectedGroup = "Tier0-Protected";

    private static readonly string[] EntraRoles = ["Global Administrator", "Privileged Role Administrator", "Security Administrator"];
    private static readonly string[] OktaRoles = ["SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN"];
    private static readonly string[] OktaStatuses = ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED", "DEPROVISIONED", "PASSWORD_EXPIRED", "LOCKED_OUT"];

    private static readonly Dictionary<Provider, string[]> Actions = new()
    {
        [Provider.Ad] = ["disable_user", "reset_password", "revoke_group", "revoke_group"],
        [Provider.Entra] = ["disable_user", "reset_password", "revoke_group", "remove_role_assignment"],
        [Provider.Okta] = ["disable_user", "deactivate_user", "reset_password", "revoke_group"],
    };

    public static Gen<AdversaryCase> Case(Features features) =>
        Graph(features).SelectMany(graph => Gen.Select(Gen.Int[1, 3], Gen.Int[0, 99], Rules(graph.Groups, features), (minimum, engine, rules) => (minimum, engine, rules))
            .SelectMany(x => Findings(graph.Users, x.rules, features).Select(runs => new AdversaryCase(graph.Groups, graph.Users, x.rules, runs, x.minimum)
            {
                EngineAccounts = x.engine < graph.Users.Length ? [graph.Users[x.engine].Id] : [],
                ProtectedGroups = [ProtectedGroup],
            })));

    private static Gen<(ImmutableArray<GraphGroup> Groups, ImmutableArray<GraphUser> Users)> Graph(Features f) =>
        Gen.Select(AdGroups(f), EntraGroups(f), OktaGroups(f), (ad, entra, okta) => ad.AddRange(entra).AddRange(okta))
            .SelectMany(groups => Gen.Select(
                Users(Provider.Ad, groups, f, Gen.Int[2, 7]),
                Users(Provider.Entra, groups, f, Gen.Int[2, 6]),
                Users(Provider.Okta, groups, f, Gen.Int[2, 6]),
                (ad, entra, okta) => (groups, ad.AddRange(entra).AddRange(okta))));

    /// <summary>
    /// The AD critical groups (Domain and Enterprise Admins possibly nested in Administrators, as in a real domain),
    /// Domain Users, Staff, the protected group, and up to five tier groups, each nested in an earlier group (mostly the
    /// one before it, so chains reach depth five), sometimes in a second one, sometimes closing a cycle.
    /// </summary>
    private static Gen<ImmutableArray<GraphGroup>> AdGroups(Features f) =>
        Gen.Select(Gen.Bool, Gen.Bool, f.NestedTiers ? Gen.Int[0, 5] : Gen.Const(0), (daInAdmins, eaInAdmins, tiers) => (daInAdmins, eaInAdmins, tiers)).SelectMany(top =>
            Sequence(Enumerable.Range(0, top.tiers).Select(_ => Gen.Select(Gen.Int[0, 9], Gen.Int[0, 99], Gen.Int[0, 9], Gen.Int[0, 99], Gen.Int[0, 19], Gen.Int[0, 99],
                (r, pick, r2, pick2, cycle, cycleTo) => (r, pick, r2, pick2, cycle, cycleTo))))
            .Select(rolls =>
            {
                var groups = new List<GraphGroup>
                {
                    new(Provider.Ad, "Domain Admins") { MemberOf = top.daInAdmins ? ["Administrators"] : [] },
                    new(Provider.Ad, "Enterprise Admins") { MemberOf = top.eaInAdmins ? ["Administrators"] : [] },
                    new(Provider.Ad, "Administrators"),
                    new(Provider.Ad, "Domain Users"),
                    new(Provider.Ad, "Staff"),
                    new(Provider.Ad, ProtectedGroup),
                };
                for (var i = 0; i < rolls.Length; i++)
                {
                    var (r, pick, r2, pick2, _, _) = rolls[i];
                    var earlier = groups.Where(g => g.Name != "Domain Users").Select(g => g.Name).ToList();
                    var first = r < 6 && i > 0 ? Tier(i - 1) : r < 8 ? CriticalSets.Ad[pick % 3] : r == 8 ? earlier[pick % earlier.Count] : pick % 2 == 0 ? "Staff" : ProtectedGroup;
                    ImmutableArray<string> parents = r2 < 2 && earlier[pick2 % earlier.Count] is var second && second != first ? [first, second] : [first];
                    groups.Add(new GraphGroup(Provider.Ad, Tier(i)) { MemberOf = parents });
                }

                // Cycles: an earlier group (a tier or a critical group) nested back into a later tier.
                for (var i = 0; i < rolls.Length; i++)
                {
                    if (rolls[i].cycle > 2) continue;
                    var targets = CriticalSets.Ad.Concat(Enumerable.Range(0, i).Select(Tier)).ToList();
                    var from = targets[rolls[i].cycleTo % targets.Count];
                    var index = groups.FindIndex(g => g.Name == from);
                    if (!groups[index].MemberOf.Contains(Tier(i))) groups[index] = groups[index] with { MemberOf = groups[index].MemberOf.Add(Tier(i)) };
                }

                return groups.ToImmutableArray();
            }));

    private static string Tier(int i) => $"T{i + 1}-Ops";

    /// <summary>Entra: role-assignable groups holding critical roles (not nestable into, as Entra requires), and ordinary groups.</summary>
    private static Gen<ImmutableArray<GraphGroup>> EntraGroups(Features f) =>
        (f.GroupRoles ? Gen.Int[0, 3] : Gen.Const(0)).SelectMany(n => Gen.Int[1, 3].Array[n]).Select(masks =>
        {
            var groups = masks.Select((mask, i) => new GraphGroup(Provider.Entra, $"Entra-RA-{i + 1}")
            {
                RoleAssignable = true,
                Roles = [.. CriticalSets.Entra.Where((_, bit) => (mask & (1 << bit)) != 0)],
            }).ToList();
            groups.Add(new GraphGroup(Provider.Entra, "Entra-Staff"));
            groups.Add(new GraphGroup(Provider.Entra, "Entra-Ops") { MemberOf = ["Entra-Staff"] });
            return groups.ToImmutableArray();
        });

    /// <summary>Okta: groups holding admin roles (no nesting in Okta), and an ordinary group.</summary>
    private static Gen<ImmutableArray<GraphGroup>> OktaGroups(Features f) =>
        (f.GroupRoles ? Gen.Int[0, 3] : Gen.Const(0)).SelectMany(n => Gen.Int[1, 3].Array[n]).Select(masks =>
        {
            var groups = masks.Select((mask, i) => new GraphGroup(Provider.Okta, $"Okta-Admins-{i + 1}")
            {
                Roles = [.. CriticalSets.Okta.Where((_, bit) => (mask & (1 << bit)) != 0)],
            }).ToList();
            groups.Add(new GraphGroup(Provider.Okta, "Okta-Staff"));
            return groups.ToImmutableArray();
        });

    private static Gen<ImmutableArray<GraphUser>> Users(Provider provider, ImmutableArray<GraphGroup> groups, Features f, Gen<int> count)
    {
        var mine = groups.Where(g => g.Provider == provider).Select(g => g.Name).Where(n => n != "Domain Users").ToImmutableArray();
        var primaries = groups.Where(g => g.Provider == Provider.Ad && (CriticalSets.Ad.Contains(g.Name) || g.Name.StartsWith('T'))).Select(g => g.Name).ToImmutableArray();
        var roles = provider switch { Provider.Entra => EntraRoles, Provider.Okta => OktaRoles, _ => [] };
        var one = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 19], Gen.Int[0, 9].Array[mine.Length], Gen.Int[0, 9], Gen.Int[0, 99], Gen.Int[0, 9].Array[roles.Length], Gen.Int[0, 9],
            Gen.Int[0, 9].Array[roles.Length],
            (enabled, tag, member, primaryRoll, primaryPick, role, status, eligible) => (enabled, tag, member, primaryRoll, primaryPick, role, status, eligible));
        return count.SelectMany(n => one.Array[n]).Select(rolls => rolls.Select((x, i) =>
        {
            var name = provider switch { Provider.Ad => $"ad{i + 1}", Provider.Entra => $"en{i + 1}", _ => $"ok{i + 1}@corp.example.com" };
            string? primary = provider == Provider.Ad && f.PrimaryGroups ? (x.primaryRoll < 3 && primaries.Length > 0 ? primaries[x.primaryPick % primaries.Length] : "Domain Users") : null;
            var user = new GraphUser(provider, $"u-{provider.Name()}-{i + 1}", name)
            {
                Enabled = x.enabled < 8,
                OktaStatus = provider == Provider.Okta ? OktaStatuses[x.status] : null,
                Tags = x.tag == 0 ? ["break_glass"] : x.tag == 1 ? ["response_engine"] : [],
                Groups = [.. mine.Where((g, j) => x.member[j] < 3 && g != primary)],
                PrimaryGroup = primary,
                Roles = [.. roles.Where((_, j) => x.role[j] < 3)],
                EligibleRoles = provider == Provider.Entra && f.GroupRoles ? [.. roles.Where((_, j) => x.role[j] >= 3 && x.eligible[j] < 3)] : [],
            };

            if (!f.RolesBothWays)
            {
                var throughGroups = groups.Where(g => g.Provider == provider && user.Groups.Contains(g.Name)).SelectMany(g => g.Roles).ToHashSet();
                user = user with { Roles = [.. user.Roles.Where(r => !throughGroups.Contains(r))] };
            }

            // Without the feature, break-glass accounts hold nothing, so whether they count cannot decide a case.
            return user.BreakGlass && !f.BreakGlassHolders ? user with { Groups = [], Roles = [], PrimaryGroup = primary is null ? null : "Domain Users" } : user;
        }).ToImmutableArray());
    }

    private static Gen<ImmutableArray<GraphRule>> Rules(ImmutableArray<GraphGroup> groups, Features f)
    {
        var action = Gen.Select(Gen.Int[0, 99], Gen.Int[0, 99], Gen.Int[0, 99], Gen.Bool, (kind, group, role, random) => (kind, group, role, random));
        var rule = Gen.Select(Gen.Int[0, 2], Gen.Int[1, 2].SelectMany(n => action.Array[n]), Gen.Bool, (provider, actions, cooldown) => (provider, actions, cooldown));
        return Gen.Int[1, 6].SelectMany(n => rule.Array[n]).Select(rules => rules.Select((r, i) =>
        {
            var provider = Providers.All[r.provider];
            var names = groups.Where(g => g.Provider == provider).Select(g => g.Name).ToList();
            var actions = r.actions.Select(a =>
            {
                var kinds = Actions[provider];
                var name = kinds[a.kind % kinds.Length];
                return name switch
                {
                    "revoke_group" => new GraphAction(name) { Group = names[a.group % names.Count] },
                    "remove_role_assignment" => new GraphAction(name) { Role = EntraRoles[a.role % EntraRoles.Length] },
                    "reset_password" when provider == Provider.Ad => new GraphAction(name) { SetRandom = a.random && f.RandomPasswords },
                    _ => new GraphAction(name),
                };
            }).DistinctBy(a => a.Name).ToImmutableArray();
            return new GraphRule($"gen-{i + 1}", provider, $"t{i + 1}", actions) { Cooldown = r.cooldown };
        }).ToImmutableArray());
    }

    /// <summary>Findings aimed at the accounts of each rule's provider, spread over one to three runs; a few go to two runs, a few come again from another source.</summary>
    private static Gen<ImmutableArray<ImmutableArray<GraphFinding>>> Findings(ImmutableArray<GraphUser> users, ImmutableArray<GraphRule> rules, Features f)
    {
        var finding = Gen.Select(Gen.Int[0, 99], Gen.Int[0, 99], Gen.Int[0, 9], Gen.Int[0, 99], Gen.Int[0, 9], Gen.Int[0, 99],
            (rule, user, spread, runs, repeat, repeatRun) => (rule, user, spread, runs, repeat, repeatRun));
        return Gen.Select(Gen.Int[1, f.MaxRuns], Gen.Int[1, 14].SelectMany(n => finding.Array[n]), (runCount, picks) =>
        {
            var runs = Enumerable.Range(0, runCount).Select(_ => new List<GraphFinding>()).ToList();
            for (var i = 0; i < picks.Length; i++)
            {
                var x = picks[i];
                var rule = rules[x.rule % rules.Length];
                var targets = users.Where(u => u.Provider == rule.Provider).ToList();
                var target = targets[x.user % targets.Count];
                var item = new GraphFinding($"f{i + 1}", "gen", rule.Type, rule.Provider, target.Id);
                var mask = x.spread < 7 || runCount == 1 ? 1 << (x.runs % runCount) : 1 + (x.runs % ((1 << runCount) - 1));
                for (var run = 0; run < runCount; run++)
                {
                    if ((mask & (1 << run)) != 0) runs[run].Add(item);
                }

                if (f.RepeatSources && x.repeat == 0)
                {
                    runs[x.repeatRun % runCount].Add(item with { Id = $"r{i + 1}", Source = "other-source" });
                }
            }

            return runs.Where(r => r.Count > 0).Select(r => r.ToImmutableArray()).ToImmutableArray();
        });
    }

    private static Gen<ImmutableArray<T>> Sequence<T>(IEnumerable<Gen<T>> gens) =>
        gens.Aggregate(Gen.Const(ImmutableArray<T>.Empty), (all, gen) => all.SelectMany(items => gen.Select(items.Add)));
}
