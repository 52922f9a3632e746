using System.Text;
using System.Text.Json;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// Issue #21, plan = run: a rule acting on a person's linked accounts makes one decision per account, each through every
/// guard of its own provider (lockout counted there, a linked break-glass account protected, dedupe per account), with
/// the link evidence on the decision and in the plan's JSON.
/// </summary>
public class LinkedPlanTests
{
    private const string AliceSid = "S-1-5-21-1004336348-1177238915-682003330-1104";
    private const string CaseySid = "S-1-5-21-1004336348-1177238915-682003330-1105";
    private static readonly Guid AliceGuid = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    private static readonly Guid CaseyGuid = Guid.Parse("0b7c7a3e-1d22-4a51-9f6d-2b9a0d6f3c11");

    private static DirectorySnapshot Directory() => SnapshotReader.Read(Encoding.UTF8.GetBytes($$"""
        {"users": [
          {"provider": "ad", "id": "{{AliceGuid:D}}", "name": "alice", "upn": "alice@corp.example.com", "sid": "{{AliceSid}}"},
          {"provider": "ad", "id": "{{CaseyGuid:D}}", "name": "casey", "upn": "casey@corp.example.com", "sid": "{{CaseySid}}"},
          {"provider": "entra", "id": "e-alice", "name": "alice@corp.example.com", "upn": "alice@corp.example.com", "on_premises_sid": "{{AliceSid}}",
           "on_premises_immutable_id": "{{ImmutableIds.FromGuid(AliceGuid)}}", "roles": ["Global Administrator"]},
          {"provider": "entra", "id": "e-admin2", "name": "admin2@corp.example.com", "roles": ["Global Administrator"]},
          {"provider": "entra", "id": "e-casey", "name": "casey@corp.example.com", "upn": "casey@corp.example.com", "on_premises_sid": "{{CaseySid}}", "tags": ["break_glass"]},
          {"provider": "okta", "id": "00u-alice", "name": "alice@corp.example.com", "okta_status": "ACTIVE"},
          {"provider": "okta", "id": "00u-casey", "name": "casey@corp.example.com", "okta_status": "ACTIVE"}
        ]}
        """), "dir.json", PrivilegedPolicy.Default).Snapshot!;

    private static readonly EngineOptions Options = new() { Linking = new LinkOptions([LinkAttribute.Login]) };

    private static async Task<Plan> PlanAsync(string actions, params Finding[] findings)
    {
        var load = RuleFiles.Load(("rules/r0.yaml", RuleFiles.Rule(actions: actions, providers: "[ad, entra]")));
        load.HasErrors.Should().BeFalse(string.Join("\n", load.Diagnostics));
        return await PlanRun.PlanAsync(load.RuleSet!, findings, Directory(), Options, new PlanSettings(), RuleFiles.Clock(), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task OneFinding_ActsOnEachAccount_GuardedInItsOwnProvider()
    {
        var plan = await PlanAsync("  - action: disable_user\n    on: [ad, entra, okta]", Build.Finding(name: "alice", id: "f1"));

        plan.Decisions.Select(d => (d.Identity!.Provider, d.Verdict, d.Guard)).Should().Equal(
            (Provider.Ad, Verdict.Execute, null),
            (Provider.Entra, Verdict.Skip, "lockout_protection"),
            (Provider.Okta, Verdict.Execute, null));
        plan.Decisions[1].Reason.Should().Contain("Global Administrator", "the Entra account is one of the last two Global Administrators");
        plan.Decisions[1].Link!.Evidence.Should().StartWith($"objectSid {AliceSid} = onPremisesSecurityIdentifier, objectGUID");
        plan.Decisions[2].Link!.Evidence.Should().Be("Okta login alice@corp.example.com = AD userPrincipalName");
    }

    [Fact]
    public async Task ALinkedBreakGlassAccount_IsProtected()
    {
        var plan = await PlanAsync("  - action: disable_user\n    on: [ad, entra]", Build.Finding(name: "casey", id: "f1"));

        plan.Decisions.Select(d => (d.Identity!.Provider, d.Verdict, d.Guard)).Should().Equal(
            (Provider.Ad, Verdict.Execute, null),
            (Provider.Entra, Verdict.Skip, "protected_identity"));
    }

    [Fact]
    public async Task FindingsAboutOnePersonFromTwoSources_AreOnePerson_ForDedupe()
    {
        // Defender names the Entra account, the ITDR product the AD account: the same person, so the same accounts, once each.
        var plan = await PlanAsync("  - action: revoke_sessions\n    on: [entra, okta]",
            Build.Finding(name: "alice", id: "itdr-1"),
            Build.Finding(provider: Provider.Entra, name: "alice@corp.example.com", id: "defender-1"));

        var done = plan.Decisions.Where(d => d.Verdict == Verdict.Execute).Select(d => (d.Identity!.Provider, d.Finding.Id)).ToList();
        done.Should().BeEquivalentTo([(Provider.Entra, "itdr-1"), (Provider.Okta, "itdr-1")]);
        plan.Decisions.Where(d => d.Finding.Id == "defender-1").Should().OnlyContain(d => d.Verdict == Verdict.Skip && d.Guard == "pending_remediation");
    }

    [Fact]
    public async Task PlanJson_ShowsThePersonAndTheEvidence_AndMatchesTheSchema()
    {
        var plan = await PlanAsync("  - action: disable_user\n    on: linked", Build.Finding(name: "alice", id: "f1"));

        using var stream = new MemoryStream();
        PlanJsonWriter.Write(plan, stream);
        var json = Encoding.UTF8.GetString(stream.ToArray());
        SchemaValidator.Validate("plan", json).Should().BeEmpty();
        var person = JsonDocument.Parse(json).RootElement.GetProperty("decisions")[0].GetProperty("person");
        person.GetProperty("accounts").EnumerateArray().Select(a => (a.GetProperty("provider").GetString(), a.GetProperty("id").GetString()))
            .Should().Equal(("ad", AliceGuid.ToString("D")), ("entra", "e-alice"), ("okta", "00u-alice"));
        person.GetProperty("accounts")[0].GetProperty("evidence").ValueKind.Should().Be(JsonValueKind.Null);
        person.GetProperty("accounts")[2].GetProperty("evidence").GetString().Should().Be("Okta login alice@corp.example.com = AD userPrincipalName");
    }
}
