using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.ActiveDirectory;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>
/// Generated directory graphs built in the live DC, one OU each: groups nested up to five deep (cycles included), some
/// nested in Domain Admins, users with direct memberships and primary groups (their own groups or Domain Admins), some
/// disabled. The real executor then runs rules that disable every user and revoke random groups, and every critical set
/// (Domain Admins, and the graph's own root group) must keep its minimum of enabled holders, counted on the DC by
/// <see cref="LiveCount"/>, not by the connector under test.
/// </summary>
public sealed class AdGeneratedGraphTests(SambaDc dc)
{
    private const string DomainAdmins = "CN=Domain Admins,CN=Users," + SambaDc.BaseDn;
    private const int Minimum = 2;

    /// <summary>RESPOND_TEST_AD_GRAPHS raises the count for a longer run; CI runs the default.</summary>
    public static TheoryData<int> Seeds { get; } = new(Enumerable.Range(1, int.TryParse(Environment.GetEnvironmentVariable("RESPOND_TEST_AD_GRAPHS"), out var n) ? n : 20));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Executor_GeneratedGraphWithDestructiveRules_KeepsEveryCriticalSetAtItsMinimum(int seed)
    {
        var graph = GeneratedGraph.Create(seed);
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var undo = new List<IDisposable>();
        try
        {
            var groupDns = graph.Groups.Select(g => h.AddGroup(g.Name)).ToList();
            foreach (var (group, i) in graph.Groups.Select((g, i) => (g, i)))
            {
                foreach (var parent in group.Parents) h.AddMember(groupDns[parent], groupDns[i]);
                if (group.InDomainAdmins) undo.Add(AdPrivilegeTests.Nest(h, DomainAdmins, groupDns[i]));
            }

            foreach (var user in graph.Users)
            {
                var dn = h.AddUser(user.Name, user.Enabled);
                foreach (var g in user.Groups) h.AddMember(groupDns[g], dn);
                if (user.PrimaryGroup is { } primary)
                {
                    var target = primary < 0 ? DomainAdmins : groupDns[primary];
                    undo.Add(AdPrivilegeTests.MakePrimary(h, dn, target, primary < 0 ? 512u : h.RidOf(target)));
                }
            }

            var critical = groupDns[0];
            var before = (DomainAdmins: LiveCount.EnabledHolders(h.Admin, DomainAdmins).Count, Root: LiveCount.EnabledHolders(h.Admin, critical).Count);
            using var domain = h.Create(BaseDn: SambaDc.BaseDn);

            var summary = await RunAsync(domain, graph);

            var after = (DomainAdmins: LiveCount.EnabledHolders(h.Admin, DomainAdmins).Count, Root: LiveCount.EnabledHolders(h.Admin, critical).Count);
            var because = $"seed {seed}: {graph.Describe()}\nbefore {before}, after {after}\n{Outcomes(summary)}";
            after.DomainAdmins.Should().BeGreaterThanOrEqualTo(Math.Min(Minimum, before.DomainAdmins), because);
            after.Root.Should().BeGreaterThanOrEqualTo(Math.Min(Minimum, before.Root), because);
            summary.Results.Where(r => r.Status == AuditStatus.Failed).Should().BeEmpty(because);
        }
        finally
        {
            foreach (var step in Enumerable.Reverse(undo)) step.Dispose();
        }
    }

    private static Task<RunSummary> RunAsync(AdConnector connector, GeneratedGraph graph)
    {
        var options = Build.Lockout(Provider.Ad, Minimum, "Domain Admins", graph.Groups[0].Name);
        options = options with { Guards = options.Guards with { RateLimits = new RateLimitOptions { GlobalPerHour = null } } };
        var revoked = string.Join(", ", graph.Revoked.Select(i => graph.Groups[i].Name));
        var rules = RuleFiles.Load(
            ("rules/ad/strip.yaml", RuleFiles.Rule(id: "strip", actions: $"  - action: revoke_group\n    with:\n      groups: [{revoked}]")),
            ("rules/ad/disable.yaml", RuleFiles.Rule(id: "disable"))).RuleSet!;
        return AdPrivilegeTests.RunAsync(connector, options, $"ad-graph-{graph.Seed}", rules, [.. graph.Users.Select(u => u.Name)]);
    }

    private static string Outcomes(RunSummary summary) =>
        string.Join("\n", summary.Results.Select(r => $"  {r.Decision.Identity?.Name} {r.Decision.Action?.Name}: {r.Status} {r.Decision.Guard} {r.Decision.Reason}"));

    /// <summary>A group: its parents (indices of groups it is a member of) and whether it is nested in Domain Admins.</summary>
    private sealed record GeneratedGroup(string Name, ImmutableArray<int> Parents, bool InDomainAdmins);

    /// <summary>A user: its direct groups, and its primary group (a group index, -1 for Domain Admins, null for Domain Users).</summary>
    private sealed record GeneratedUser(string Name, bool Enabled, ImmutableArray<int> Groups, int? PrimaryGroup);

    private sealed record GeneratedGraph(int Seed, ImmutableArray<GeneratedGroup> Groups, ImmutableArray<GeneratedUser> Users, ImmutableArray<int> Revoked)
    {
        /// <summary>
        /// Group 0 is the graph's critical root; each further group hangs below an earlier one (so chains reach five deep),
        /// sometimes below a second one too, and sometimes the root is put inside the deepest group (a cycle).
        /// </summary>
        public static GeneratedGraph Create(int seed)
        {
            var random = new Random(seed);
            var count = random.Next(3, 7);
            var parents = Enumerable.Range(0, count).Select(_ => new List<int>()).ToList();
            for (var i = 1; i < count; i++)
            {
                parents[i].Add(random.Next(0, i) is var p && random.NextDouble() < 0.6 ? i - 1 : p);
                if (random.NextDouble() < 0.25 && i > 1) parents[i].Add(random.Next(0, i - 1));
            }

            if (random.NextDouble() < 0.3) parents[0].Add(count - 1);
            var groups = Enumerable.Range(0, count).Select(i => new GeneratedGroup($"gg{seed}-{i}", [.. parents[i].Distinct()],
                InDomainAdmins: i == 0 ? random.NextDouble() < 0.5 : random.NextDouble() < 0.15)).ToImmutableArray();
            var users = Enumerable.Range(0, random.Next(3, 8)).Select(j =>
            {
                var direct = Enumerable.Range(0, count).Where(_ => random.NextDouble() < 0.3).ToImmutableArray();
                var roll = random.NextDouble();
                int? primary = roll < 0.1 ? -1 : roll < 0.4 ? random.Next(0, count) : null;
                return new GeneratedUser($"gu{seed}x{j}", random.NextDouble() < 0.85, direct, primary);
            }).ToImmutableArray();
            var revoked = Enumerable.Range(0, count).Where(_ => random.NextDouble() < 0.5).DefaultIfEmpty(count - 1).ToImmutableArray();
            return new GeneratedGraph(seed, groups, users, revoked);
        }

        public string Describe()
        {
            var text = new StringBuilder();
            foreach (var g in Groups)
            {
                text.Append(CultureInfo.InvariantCulture, $"{g.Name} in [{string.Join(",", g.Parents.Select(p => Groups[p].Name))}]{(g.InDomainAdmins ? " +DA" : "")}; ");
            }

            foreach (var u in Users)
            {
                var primary = u.PrimaryGroup is { } p ? p < 0 ? "Domain Admins" : Groups[p].Name : "-";
                text.Append(CultureInfo.InvariantCulture, $"{u.Name}{(u.Enabled ? "" : " (disabled)")} in [{string.Join(",", u.Groups.Select(i => Groups[i].Name))}] primary {primary}; ");
            }

            return text.Append(CultureInfo.InvariantCulture, $"revoke [{string.Join(",", Revoked.Select(i => Groups[i].Name))}]").ToString();
        }
    }
}
