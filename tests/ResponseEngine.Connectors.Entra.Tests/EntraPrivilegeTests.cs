using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>
/// Directory roles held through role-assignable groups and PIM, through the real Graph SDK against the emulator: held
/// and counted when active (a permanent group assignment, a PIM activation), reported and never counted when only
/// eligible; and the executor keeps Global Administrator at its minimum whichever way a holder holds it.
/// </summary>
public sealed class EntraPrivilegeTests
{
    private const string GlobalAdmin = "Global Administrator";

    [Fact]
    public async Task Resolve_RoleThroughRoleAssignableGroup_IsHeldAndPrivilegedButNotDirect()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var bob = h.Emulator.AddUser("u-bob", "bob@corp.example.com");
        var group = h.Emulator.AddGroup("g-ga", "GA Holders", roleAssignable: true);
        group.Members.Add(bob.Id);
        h.Emulator.AssignRole(group.Id, GlobalAdmin);

        var identity = (await h.ResolveAsync("bob@corp.example.com")).Identity!;

        identity.HasRole(GlobalAdmin).Should().BeTrue("bob holds the role through GA Holders");
        identity.DirectRoles.Should().BeEmpty("nothing is assigned to bob himself: remove_role_assignment has nothing to remove");
        identity.Privileged.Should().BeTrue();
        identity.GlobalAdmin.Should().BeTrue();
        identity.Groups.Should().ContainSingle().Which.Should().Match<Group>(g => g.RoleAssignable && g.Roles.Contains(GlobalAdmin));
    }

    [Fact]
    public async Task Resolve_PimActivatedAndPimEligible_ActiveIsHeldEligibleIsOnlyReported()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var dana = h.Emulator.AddUser("u-dana", "dana@corp.example.com");
        var eve = h.Emulator.AddUser("u-eve", "eve@corp.example.com");
        h.Emulator.AssignRole(dana.Id, GlobalAdmin, activated: true);
        h.Emulator.MakeEligible(eve.Id, GlobalAdmin);

        var activated = (await h.ResolveAsync("dana@corp.example.com")).Identity!;
        var eligible = (await h.ResolveAsync("eve@corp.example.com")).Identity!;

        activated.HasRole(GlobalAdmin).Should().BeTrue("a PIM activation is listed among roleAssignmentScheduleInstances only, and it is active");
        activated.DirectRoles.Should().Contain(GlobalAdmin);
        eligible.HasRole(GlobalAdmin).Should().BeFalse("eligible is not holding");
        eligible.EligibleRoles.Should().Equal(GlobalAdmin);
        eligible.Privileged.Should().BeFalse();
    }

    [Fact]
    public async Task CountCritical_RoleThroughGroupPimActiveAndEligible_CountsActiveHoldersWithTheirPaths()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var alice = h.Emulator.AddUser("u-alice", "alice@corp.example.com");
        var bob = h.Emulator.AddUser("u-bob", "bob@corp.example.com");
        var off = h.Emulator.AddUser("u-off", "off@corp.example.com", enabled: false);
        var dana = h.Emulator.AddUser("u-dana", "dana@corp.example.com");
        var eve = h.Emulator.AddUser("u-eve", "eve@corp.example.com");
        var group = h.Emulator.AddGroup("g-ga", "GA Holders", roleAssignable: true);
        group.Members.UnionWith([bob.Id, off.Id]);
        h.Emulator.AssignRole(alice.Id, GlobalAdmin);
        h.Emulator.AssignRole(group.Id, GlobalAdmin);
        h.Emulator.AssignRole(dana.Id, GlobalAdmin, activated: true);
        h.Emulator.MakeEligible(eve.Id, GlobalAdmin);

        var set = await h.Connector.CountCriticalAsync(GlobalAdmin, Cancel);

        set.EnabledMemberIds.Should().BeEquivalentTo([alice.Id, bob.Id, dana.Id], "off is disabled, eve only eligible");
        set.SetNode.Should().Be(GlobalAdmin);
        var graph = set.Graph!;
        graph.Edges.Should().Contain(new PrivilegeEdge(group.Id, GlobalAdmin, EdgeKind.Role))
            .And.Contain(new PrivilegeEdge(bob.Id, group.Id, EdgeKind.Member))
            .And.Contain(new PrivilegeEdge(alice.Id, GlobalAdmin, EdgeKind.Role))
            .And.Contain(new PrivilegeEdge(eve.Id, GlobalAdmin, EdgeKind.EligibleRole));
        graph.EffectiveHolders(GlobalAdmin).Should().BeEquivalentTo(set.EnabledMemberIds);
    }

    [Fact]
    public async Task Executor_LastGlobalAdminsThroughGroupAndWithAnEligibleSpare_AreNotDisabled()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var alice = h.Emulator.AddUser("u-alice", "alice@corp.example.com");
        var bob = h.Emulator.AddUser("u-bob", "bob@corp.example.com");
        var eve = h.Emulator.AddUser("u-eve", "eve@corp.example.com");
        var group = h.Emulator.AddGroup("g-ga", "GA Holders", roleAssignable: true);
        group.Members.Add(bob.Id);
        h.Emulator.AssignRole(alice.Id, GlobalAdmin);
        h.Emulator.AssignRole(group.Id, GlobalAdmin);
        h.Emulator.MakeEligible(eve.Id, GlobalAdmin);
        var rules = RuleFiles.Load(RuleFiles.Rule(id: "disable-risky", providers: "[entra]", types: "[risky_user]"), "rules/entra/disable-risky.yaml").RuleSet!;
        Finding[] findings =
        [
            Build.Finding("risky_user", Severity.High, Provider.Entra, "bob@corp.example.com", "f-bob"),
            Build.Finding("risky_user", Severity.High, Provider.Entra, "alice@corp.example.com", "f-alice"),
        ];
        var store = new InMemoryAuditStore(h.Clock);
        var options = Build.Lockout(Provider.Entra, 2, GlobalAdmin);
        var run = new RunContext("entra-lockout", options, store, new Dictionary<Provider, IConnector> { [Provider.Entra] = h.Connector },
            h.Clock, dryRun: false, "tests", "host", "test");

        var (_, summary) = await ResponseRun.RunAsync(rules, findings, run, null, Cancel);

        summary.Results.Should().HaveCount(2).And.OnlyContain(r => r.Status == AuditStatus.Skipped && r.Decision.Guard == "lockout_protection",
            "alice and bob are the only two active Global Administrators; eve may activate the role but does not hold it");
        h.Emulator.Tenant.Users[bob.Id].AccountEnabled.Should().BeTrue();
        h.Emulator.Tenant.Users[alice.Id].AccountEnabled.Should().BeTrue();
    }

    [Fact]
    public async Task Export_RoleAssignableGroupsTheirRolesAndEligibility_ReadBackAsTheConnectorResolves()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var bob = h.Emulator.AddUser("u-bob", "bob@corp.example.com");
        var eve = h.Emulator.AddUser("u-eve", "eve@corp.example.com");
        var group = h.Emulator.AddGroup("g-ga", "GA Holders", roleAssignable: true);
        group.Members.Add(bob.Id);
        h.Emulator.AssignRole(group.Id, GlobalAdmin);
        h.Emulator.MakeEligible(eve.Id, GlobalAdmin);

        var export = await ((IDirectoryExport)h.Connector).ExportAsync(Cancel);
        var bytes = SnapshotWriter.Write([export], EntraHarness.Start);
        var json = System.Text.Encoding.UTF8.GetString(bytes);
        var snapshot = SnapshotReader.Read(bytes, "export.json", PrivilegedPolicy.Default).Snapshot!;

        json.Should().Contain("\"role_assignable\": true").And.Contain("\"eligible_roles\"");
        var exportedBob = snapshot.Resolve(new Subject(Provider.Entra, bob.Id, null)).Identity!;
        exportedBob.HasRole(GlobalAdmin).Should().BeTrue();
        exportedBob.DirectRoles.Should().BeEmpty();
        var exportedEve = snapshot.Resolve(new Subject(Provider.Entra, eve.Id, null)).Identity!;
        exportedEve.HasRole(GlobalAdmin).Should().BeFalse();
        exportedEve.EligibleRoles.Should().Equal(GlobalAdmin);
    }
}
