using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;
using ResponseEngine.TestKit.Okta;
using static ResponseEngine.Connectors.Okta.Tests.OktaTestData;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>
/// Okta admin roles assigned to groups: every member (direct or by a group rule) holds them, lookups say so, the count
/// sees them with their paths, the export keeps them, and the executor never deactivates the last SUPER_ADMINs.
/// </summary>
public sealed class OktaPrivilegeTests
{
    private const string SuperAdmin = "SUPER_ADMIN";

    [Fact]
    public async Task Resolve_RoleAssignedToAGroup_IsHeldButNotTheUsersOwn()
    {
        await using var h = new OktaHarness();
        h.Emulator.AddUser("00ubob", "bob@corp.example.com");
        var admins = h.Emulator.AddGroup("00gadmins", "Okta Admins");
        admins.Members.Add("00ubob");
        admins.Roles.Add(SuperAdmin);

        var identity = (await h.Connector.ResolveAsync(new Subject(Provider.Okta, null, "bob@corp.example.com"), Cancel)).Identity!;

        identity.HasRole(SuperAdmin).Should().BeTrue("bob is in a group that holds SUPER_ADMIN");
        identity.DirectRoles.Should().BeEmpty();
        identity.Privileged.Should().BeTrue();
        identity.Groups.Should().ContainSingle().Which.Roles.Should().Equal(SuperAdmin);
    }

    [Fact]
    public async Task CountCritical_RoleOnAGroupAndOnAUser_CountsEnabledHoldersWithTheirPaths()
    {
        await using var h = new OktaHarness();
        h.Emulator.AddUser("00ualice", "alice@corp.example.com").Roles.Add(SuperAdmin);
        h.Emulator.AddUser("00ubob", "bob@corp.example.com");
        h.Emulator.AddUser("00ucarl", "carl@corp.example.com", "SUSPENDED");
        h.Emulator.AddUser("00urita", "rita@corp.example.com");
        var admins = h.Emulator.AddGroup("00gadmins", "Okta Admins");
        var feeder = h.Emulator.AddGroup("00gfeeder", "Admin Feeder");
        admins.Members.UnionWith(["00ubob", "00ucarl"]);
        admins.Roles.Add(SuperAdmin);
        feeder.Members.Add("00urita");
        h.Emulator.Rules.Add(new EmulatedGroupRule("0prfeed", "feeder are admins", ["00gfeeder"], ["00gadmins"]));

        var set = await h.Connector.CountCriticalAsync(SuperAdmin, Cancel);

        set.EnabledMemberIds.Should().BeEquivalentTo(["00ualice", "00ubob", "00urita"], "carl is suspended; rita is an admin through a group rule");
        set.Graph!.Edges.Should().Contain(new PrivilegeEdge("00gadmins", SuperAdmin, EdgeKind.Role))
            .And.Contain(new PrivilegeEdge("00ubob", "00gadmins", EdgeKind.Member))
            .And.Contain(new PrivilegeEdge("00ualice", SuperAdmin, EdgeKind.Role));
        h.Emulator.Requests.Should().Contain(r => r.RawPath == "/api/v1/groups/00gadmins/roles");
    }

    [Fact]
    public async Task Executor_LastSuperAdminsThroughAGroup_AreNotDeactivated()
    {
        await using var h = new OktaHarness();
        h.Emulator.AddUser("00ualice", "alice@corp.example.com").Roles.Add(SuperAdmin);
        h.Emulator.AddUser("00ubob", "bob@corp.example.com");
        var admins = h.Emulator.AddGroup("00gadmins", "Okta Admins");
        admins.Members.Add("00ubob");
        admins.Roles.Add(SuperAdmin);
        var rule = RuleFiles.Rule(id: "deactivate-all", providers: "[okta]", actions: "  - action: deactivate_user");
        var rules = RuleFiles.Load(rule, "rules/okta/deactivate-all.yaml").RuleSet!;
        Finding[] findings =
        [
            Build.Finding("weak_password", Severity.High, Provider.Okta, "bob@corp.example.com", "f-bob"),
            Build.Finding("weak_password", Severity.High, Provider.Okta, "alice@corp.example.com", "f-alice"),
        ];
        var store = new InMemoryAuditStore(h.Clock);
        var options = Build.Lockout(Provider.Okta, 2, SuperAdmin);
        var run = new RunContext("okta-lockout", options, store, new Dictionary<Provider, IConnector> { [Provider.Okta] = h.Connector },
            h.Clock, dryRun: false, "tests", "host", "test");

        var (_, summary) = await h.Clock.RunAsync(() => ResponseRun.RunAsync(rules, findings, run, null, Cancel), TimeSpan.FromHours(1));

        summary.Results.Should().HaveCount(2).And.OnlyContain(r => r.Status == AuditStatus.Skipped && r.Decision.Guard == "lockout_protection");
        h.Emulator.Users["00ubob"].Status.Should().Be("ACTIVE", "bob is one of the two SUPER_ADMINs, through Okta Admins");
        h.Emulator.Users["00ualice"].Status.Should().Be("ACTIVE");
    }

    [Fact]
    public async Task Export_GroupRoles_ReadBackAsTheConnectorResolves()
    {
        await using var h = new OktaHarness();
        h.Emulator.AddUser("00ubob", "bob@corp.example.com");
        var admins = h.Emulator.AddGroup("00gadmins", "Okta Admins");
        admins.Members.Add("00ubob");
        admins.Roles.Add(SuperAdmin);

        var export = await h.OktaConnector.ExportAsync(Cancel);
        var snapshot = SnapshotReader.Read(SnapshotWriter.Write([export], OktaHarness.Start), "export.json", PrivilegedPolicy.Default).Snapshot!;

        export.Groups.Single().Roles.Should().Equal(SuperAdmin);
        export.Users.Single().Roles.Should().BeEmpty("the role is the group's, not bob's own");
        snapshot.Resolve(new Subject(Provider.Okta, "00ubob", null)).Identity!.HasRole(SuperAdmin).Should().BeTrue();
    }
}
