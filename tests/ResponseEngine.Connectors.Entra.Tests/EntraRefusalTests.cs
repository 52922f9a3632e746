using System.Text;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Fakes;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>
/// What Entra refuses — session revocation for guests, phishing-resistant MFA for accounts without a global-admin-level
/// role, removal from dynamic or synced groups — comes out of the precondition guard with its reason, in the plan and in
/// the audit trail, from identities the connector resolved live; and nothing is written to the tenant.
/// </summary>
public sealed class EntraRefusalTests
{
    private const string Rule = """
        id: entra-refusals
        title: every refusable Entra action
        owner: tests
        mode: enforce
        match:
          types: [risky_user]
          providers: [entra]
        actions:
          - action: revoke_sessions
          - action: enforce_phishing_resistant_mfa
          - action: revoke_group
            with: { groups: [Sales Dynamic, HQ Synced] }
        """;

    [Fact]
    public async Task GuestNonAdminAndDynamicGroup_AreRefusedWithReasons_InThePlanAndTheAudit()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.AddUser("u-guest", "partner_example.com#EXT#@corp.example.com", userType: "Guest");
        var member = h.Emulator.AddUser("u-pat", "pat@corp.example.com");
        h.Emulator.AssignRole(member.Id, "User Administrator");
        h.Emulator.AddGroup("g-dyn", "Sales Dynamic", dynamic: true).Members.Add(member.Id);
        h.Emulator.AddGroup("g-sync", "HQ Synced", synced: true).Members.Add(member.Id);
        var rules = RuleFiles.Load(Rule, "rules/entra/entra-refusals.yaml").RuleSet!;
        Finding[] findings =
        [
            Build.Finding("risky_user", Severity.High, Provider.Entra, "partner_example.com#EXT#@corp.example.com", "f-guest"),
            Build.Finding("risky_user", Severity.High, Provider.Entra, "pat@corp.example.com", "f-pat"),
        ];
        var store = new InMemoryAuditStore(h.Clock);
        var run = new RunContext("entra-refusals", new EngineOptions(), store, new Dictionary<Provider, IConnector> { [Provider.Entra] = h.Connector },
            h.Clock, dryRun: false, "tests", "host", "test");

        // The plan: the same run in dry-run, from identities the connector resolved, on a scratch trail.
        var dry = new RunContext("entra-refusals-plan", new EngineOptions(), new InMemoryAuditStore(h.Clock),
            new Dictionary<Provider, IConnector> { [Provider.Entra] = h.Connector }, h.Clock, dryRun: true, "tests", "host", "test");
        var (proposed, planned) = await ResponseRun.RunAsync(rules, findings, dry, null, Cancel);
        var plan = proposed with { Decisions = [.. planned.Results.Select(r => r.Decision)] };
        using var json = new MemoryStream();
        PlanJsonWriter.Write(plan, json);
        var planText = Encoding.UTF8.GetString(json.ToArray());

        Decision Planned(string finding, string action) => plan.Decisions.Single(d => d.Finding.Id == finding && d.Action?.Name == action);
        Refusal(Planned("f-guest", "revoke_sessions")).Should().Contain("guest");
        Refusal(Planned("f-pat", "enforce_phishing_resistant_mfa")).Should().Contain("no global-admin-level role");
        Refusal(Planned("f-pat", "revoke_group")).Should().Contain("'Sales Dynamic' has dynamic membership").And.Contain("'HQ Synced' is synced from on-premises");
        planText.Should().Contain("guest account").And.Contain("holds no global-admin-level role").And.Contain("has dynamic membership");

        // The run: the same refusals, audited.
        var (_, summary) = await ResponseRun.RunAsync(rules, findings, run, null, Cancel);

        AuditEntry Audited(string finding, string action) => store.Rows.Select(r => r.Entry).Single(e => e.FindingId == finding && e.Action == action);
        foreach (var (finding, action, reason) in new[]
                 {
                     ("f-guest", "revoke_sessions", "guest"),
                     ("f-pat", "enforce_phishing_resistant_mfa", "no global-admin-level role"),
                     ("f-pat", "revoke_group", "dynamic membership"),
                 })
        {
            var entry = Audited(finding, action);
            entry.Status.Should().Be(AuditStatus.Skipped);
            entry.Guard.Should().Be("precondition");
            entry.Reason.Should().Contain(reason);
        }

        summary.Results.Where(r => r.Decision.Finding.Id == "f-pat" && r.Decision.Action?.Name == "revoke_sessions").Should().ContainSingle()
            .Which.Status.Should().Be(AuditStatus.Succeeded, "the member's sessions are revoked: refusals are per action");
        h.Emulator.Requests.Where(r => r.IsWrite && r.Path != "/$batch").Select(r => r.Path).Should().Equal(["/users/u-pat/revokeSignInSessions"],
            "nothing refused reached the tenant");
        h.Emulator.Tenant.Groups["g-dyn"].Members.Should().Contain(member.Id);
        h.Emulator.Tenant.ConditionalAccessPolicies.Should().BeEmpty();
    }

    private static string Refusal(Decision decision)
    {
        decision.Verdict.Should().Be(Verdict.Skip);
        decision.Guard.Should().Be("precondition");
        return decision.Reason!;
    }
}
