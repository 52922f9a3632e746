using System.Collections.Immutable;
using System.DirectoryServices.Protocols;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.ActiveDirectory;
using ResponseEngine.TestKit.Fakes;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>
/// Effective privilege on a live DC: the primary group (primaryGroupID + the domain SID) in both directions, nesting at
/// any depth, and the executor keeping Domain Admins at its minimum whichever path makes someone a holder.
/// </summary>
public sealed class AdPrivilegeTests(SambaDc dc)
{
    private const string DomainAdmins = "CN=Domain Admins,CN=Users," + SambaDc.BaseDn;
    private const string DomainUsers = "CN=Domain Users,CN=Users," + SambaDc.BaseDn;
    private const int DomainAdminsRid = 512;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Resolve_PrimaryGroupIsDomainAdmins_IsPrivilegedAndHoldsTheGroup()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var dn = h.AddUser("pgresolve");
        using var _ = MakePrimary(h, dn, DomainAdmins, DomainAdminsRid);

        var identity = (await domain.ResolveAsync(new Subject(Provider.Ad, null, "pgresolve"), Cancel)).Identity!;

        h.Attributes(DomainAdmins, "member").Should().NotContain(dn, "the DC keeps the primary group out of the member list");
        identity.Privileged.Should().BeTrue("primaryGroupID 512 makes the account a Domain Admin");
        identity.IsMemberOf("Domain Admins").Should().BeTrue();
        identity.Groups.Select(g => g.Name).Should().Contain("Domain Admins");
        identity.TransitiveGroups.Should().Contain("Administrators", "Domain Admins is nested in Builtin\\Administrators, so its primary members are too");
        (await domain.CountCriticalAsync("Domain Admins", Cancel)).EnabledMemberIds.Should().Contain(identity.Id);
    }

    [Fact]
    public async Task Resolve_PrimaryGroupNestedInDomainAdmins_IsPrivilegedAndCounted()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var tier0 = h.AddGroup("PG Tier0");
        var dn = h.AddUser("pgnested");
        using var nesting = Nest(h, DomainAdmins, tier0);
        using var _ = MakePrimary(h, dn, tier0, h.RidOf(tier0));

        var identity = (await domain.ResolveAsync(new Subject(Provider.Ad, null, "pgnested"), Cancel)).Identity!;
        var holders = await domain.CountCriticalAsync("Domain Admins", Cancel);

        identity.TransitiveGroups.Should().Contain(["PG Tier0", "Domain Admins"]);
        identity.Privileged.Should().BeTrue();
        holders.EnabledMemberIds.Should().Contain(identity.Id, "a primary group nested in Domain Admins makes a Domain Admin");
    }

    [Fact]
    public async Task RevokeGroup_ThePrimaryGroup_IsRefusedWithAReasonAndChangesNothing()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var ops = h.AddGroup("PG Ops");
        var dn = h.AddUser("pgrevoke");
        using var _ = MakePrimary(h, dn, ops, h.RidOf(ops));
        var identity = (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, null, "pgrevoke"), Cancel)).Identity!;
        var request = new ActionRequest(ActionCatalogue.Default.Find("revoke_group")!, ActionParameters.Empty.With("groups", ImmutableArray.Create("PG Ops")),
            new TargetRef(Provider.Ad, identity.Id, identity.Name));

        var read = await h.AdConnector.Invoking(c => c.ReadAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();
        await h.AdConnector.Invoking(c => c.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();

        read.Which.Message.Should().Contain("primary group").And.Contain("PG Ops");
        var summary = await RunAsync(h.AdConnector, Build.Lockout(Provider.Ad, 2, "Domain Admins"), "ad-primary-revoke",
            RuleFiles.Load(RuleFiles.Rule(id: "strip-ops", actions: "  - action: revoke_group\n    with:\n      groups: [PG Ops]")).RuleSet!, ["pgrevoke"]);
        var refused = summary.Results.Should().ContainSingle().Which.Decision;
        refused.Guard.Should().Be("precondition", "the executor refuses before the directory is asked");
        refused.Reason.Should().Contain("primary group");
        h.Attribute(dn, "primaryGroupID").Should().Be(h.RidOf(ops).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Executor_LastDomainAdminByPrimaryGroup_IsNotDisabled()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var dn = h.AddUser("pglast");
        using var _ = MakePrimary(h, dn, DomainAdmins, DomainAdminsRid);
        var minimum = EnabledDomainAdmins(h).Count;
        EnabledDomainAdmins(h).Should().Contain(dn, "read straight from the DC: pglast is a Domain Admin by primaryGroupID only");

        var summary = await RunAsync(domain, minimum, RuleFiles.Rule(id: "disable-pg"), "pglast");

        summary.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("lockout_protection");
        h.Attribute(dn, "userAccountControl").Should().Be("512", "the last Domain Admins above the minimum stays enabled");
        EnabledDomainAdmins(h).Count.Should().Be(minimum);
    }

    [Fact]
    public async Task Executor_RevokeNestedGroupThatConfersDomainAdmins_IsRefusedAtTheMinimum()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var tier0 = h.AddGroup("Nested Tier0");
        var inner = h.AddGroup("Nested Tier0 Core");
        var dn = h.AddUser("nestedonly");
        h.AddMember(inner, dn);
        h.AddMember(tier0, inner);
        using var nesting = Nest(h, DomainAdmins, tier0);
        var minimum = EnabledDomainAdmins(h).Count;
        EnabledDomainAdmins(h).Should().Contain(dn);

        var rule = RuleFiles.Rule(id: "strip-core", actions: "  - action: revoke_group\n    with:\n      groups: [Nested Tier0 Core]");
        var summary = await RunAsync(domain, minimum, rule, "nestedonly");

        summary.Results.Should().ContainSingle().Which.Decision.Guard.Should().Be("lockout_protection",
            "removing the group that confers Domain Admins through two levels of nesting takes a holder away");
        h.Attributes(inner, "member").Should().Equal(dn);
        EnabledDomainAdmins(h).Count.Should().Be(minimum);
    }

    /// <summary>Enabled Domain Admins by the DC's own answer (member chain or a primaryGroupID in the chain), not the connector's.</summary>
    internal static List<string> EnabledDomainAdmins(SambaHarness h) => LiveCount.EnabledHolders(h.Admin, DomainAdmins);

    private static Task<RunSummary> RunAsync(AdConnector connector, int minimum, string rule, params string[] subjects) =>
        RunAsync(connector, Build.Lockout(Provider.Ad, minimum, "Domain Admins"), "ad-privilege", RuleFiles.Load(rule).RuleSet!, subjects);

    /// <summary>One real run of the executor over the live DC: a finding per subject, the rules as given, a fresh in-memory trail.</summary>
    internal static async Task<RunSummary> RunAsync(AdConnector connector, EngineOptions options, string runId, Rules.RuleSet rules, IReadOnlyList<string> subjects)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 8, 0, 0, TimeSpan.Zero));
        await using var store = new InMemoryAuditStore(time);
        var run = new RunContext(runId, options, store, new Dictionary<Provider, IConnector> { [Provider.Ad] = connector }, time, dryRun: false, "tests", "host", "test");
        var findings = subjects.Select((name, i) => new Finding($"{runId}-f{i}", "test", FindingKind.Detection, "weak_password", Severity.High,
            time.GetUtcNow(), new Subject(Provider.Ad, null, name), "t", Finding.NoAttributes)).ToList();
        var (_, summary) = await ResponseRun.RunAsync(rules, findings, run, null, Cancel);
        return summary;
    }

    /// <summary>
    /// Makes <paramref name="groupDn"/> the account's primary group the way AD requires (member first, then primaryGroupID),
    /// and on dispose puts Domain Users back, so the group can be cleaned up.
    /// </summary>
    internal static IDisposable MakePrimary(SambaHarness h, string userDn, string groupDn, uint rid)
    {
        if (!h.Attributes(groupDn, "member").Contains(userDn, StringComparer.OrdinalIgnoreCase)) h.AddMember(groupDn, userDn);
        h.Replace(userDn, "primaryGroupID", rid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new Undo(() =>
        {
            if (!h.Attributes(DomainUsers, "member").Contains(userDn, StringComparer.OrdinalIgnoreCase)) h.AddMember(DomainUsers, userDn);
            h.Replace(userDn, "primaryGroupID", "513");
            if (h.Attributes(groupDn, "member").Contains(userDn, StringComparer.OrdinalIgnoreCase))
            {
                h.Admin.SendRequest(new ModifyRequest(groupDn, DirectoryAttributeOperation.Delete, "member", userDn));
            }
        });
    }

    /// <summary>Nests <paramref name="child"/> in a group outside the test's OU; undone on dispose.</summary>
    internal static IDisposable Nest(SambaHarness h, string parent, string child)
    {
        h.AddMember(parent, child);
        return new Undo(() => h.Admin.SendRequest(new ModifyRequest(parent, DirectoryAttributeOperation.Delete, "member", child)));
    }

    private sealed class Undo(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
