using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>
/// The smallest cases of each violation the generated properties found, written by hand and run through the same harness
/// and invariants, so each defect has one deterministic test that names it (each failed on the main of its day).
/// </summary>
public sealed class PrivilegeDefectTests
{
    [Fact]
    public Task RevokeGroup_GroupNestedInDomainAdmins_LastHoldersKept() => HoldsAsync(Case(
        [Group(Provider.Ad, "Domain Admins"), Group(Provider.Ad, "T1-Ops", memberOf: "Domain Admins")],
        [User(Provider.Ad, 1, groups: ["Domain Admins"]), User(Provider.Ad, 2, groups: ["T1-Ops"])],
        [Rule(Provider.Ad, new GraphAction("revoke_group") { Group = "T1-Ops" })],
        [[Finding(Provider.Ad, 2)]]));

    /// <summary>Issue #16 defect 2: a Domain Admin only by primaryGroupID (not in memberOf) is a holder, so neither may be disabled.</summary>
    [Fact]
    public Task DisableUser_DomainAdminOnlyByPrimaryGroup_LastHoldersKept() => HoldsAsync(Case(
        [Group(Provider.Ad, "Domain Admins"), Group(Provider.Ad, "Domain Users")],
        [User(Provider.Ad, 1, groups: ["Domain Admins"]), User(Provider.Ad, 2) with { PrimaryGroup = "Domain Admins" }, User(Provider.Ad, 3) with { PrimaryGroup = "Domain Users" }],
        [Rule(Provider.Ad, new GraphAction("disable_user"))],
        [[Finding(Provider.Ad, 2), Finding(Provider.Ad, 1)]]));

    [Fact]
    public Task RunOnce_ThreeProcessesRevokeNestedGroup_LastHoldersKept() => HoldsAsync(Case(
        [Group(Provider.Ad, "Domain Admins"), Group(Provider.Ad, "T2-Ops", memberOf: "T1-Ops"), Group(Provider.Ad, "T1-Ops", memberOf: "Domain Admins")],
        [User(Provider.Ad, 1, groups: ["Domain Admins"]), User(Provider.Ad, 2, groups: ["T2-Ops"]), User(Provider.Ad, 3, groups: ["T2-Ops"]), User(Provider.Ad, 4, groups: ["T2-Ops"])],
        [Rule(Provider.Ad, new GraphAction("revoke_group") { Group = "T2-Ops" })],
        [[Finding(Provider.Ad, 2)], [Finding(Provider.Ad, 3)], [Finding(Provider.Ad, 4)]],
        minimum: 3), processes: true);

    [Fact]
    public Task RevokeGroup_OktaGroupHoldingTheRole_LastHoldersKept() => HoldsAsync(Case(
        [Group(Provider.Okta, "Okta-Admins", roles: "ORG_ADMIN")],
        [User(Provider.Okta, 1, groups: ["Okta-Admins"]), User(Provider.Okta, 2, roles: ["ORG_ADMIN"])],
        [Rule(Provider.Okta, new GraphAction("revoke_group") { Group = "Okta-Admins" })],
        [[Finding(Provider.Okta, 1)]]));

    [Fact]
    public Task RevokeGroup_EntraRoleAssignableGroup_LastHoldersKept() => HoldsAsync(Case(
        [Group(Provider.Entra, "Entra-RA", roles: "Global Administrator") with { RoleAssignable = true }],
        [User(Provider.Entra, 1, groups: ["Entra-RA"]), User(Provider.Entra, 2, roles: ["Global Administrator"])],
        [Rule(Provider.Entra, new GraphAction("revoke_group") { Group = "Entra-RA" })],
        [[Finding(Provider.Entra, 1)]]));

    [Fact]
    public Task DisableUser_LastGlobalAdministratorBesideBreakGlass_Kept() => HoldsAsync(Case(
        [],
        [User(Provider.Entra, 1, roles: ["Global Administrator"]), User(Provider.Entra, 2, roles: ["Global Administrator"]) with { Tags = ["break_glass"] }],
        [Rule(Provider.Entra, new GraphAction("disable_user"))],
        [[Finding(Provider.Entra, 1)]],
        minimum: 1));

    [Fact]
    public Task ResetPasswordSetRandom_EveryDomainAdminInTurn_KeepsMinimum() => HoldsAsync(Case(
        [Group(Provider.Ad, "Domain Admins")],
        [User(Provider.Ad, 1, groups: ["Domain Admins"]), User(Provider.Ad, 2, groups: ["Domain Admins"]), User(Provider.Ad, 3, groups: ["Domain Admins"])],
        [Rule(Provider.Ad, new GraphAction("reset_password") { SetRandom = true })],
        [[Finding(Provider.Ad, 1)], [Finding(Provider.Ad, 2)], [Finding(Provider.Ad, 3)]]) with { Sequential = true });

    [Fact]
    public Task RemoveRoleAssignment_RoleAlsoHeldThroughGroup_RecordedSucceeded() => HoldsAsync(Case(
        [Group(Provider.Entra, "Entra-RA", roles: "Global Administrator") with { RoleAssignable = true }],
        [User(Provider.Entra, 1, groups: ["Entra-RA"], roles: ["Global Administrator"]), User(Provider.Entra, 2, roles: ["Global Administrator"]), User(Provider.Entra, 3, roles: ["Global Administrator"])],
        [Rule(Provider.Entra, new GraphAction("remove_role_assignment") { Role = "Global Administrator" })],
        [[Finding(Provider.Entra, 1)]],
        minimum: 1), Checks.ExactlyOnceOnly with { NoFailures = true });

    [Fact]
    public Task OktaActions_OnStaleOrNonActiveStatus_RefusedNotFailed() => HoldsAsync(Case(
        [],
        [User(Provider.Okta, 1) with { OktaStatus = "LOCKED_OUT", Enabled = false }, User(Provider.Okta, 2)],
        [Rule(Provider.Okta, new GraphAction("disable_user")), Rule(Provider.Okta, new GraphAction("reset_password"), 2)],
        [[Finding(Provider.Okta, 1), Finding(Provider.Okta, 2), Finding(Provider.Okta, 2, rule: 2)]]), Checks.ExactlyOnceOnly with { NoFailures = true });

    [Fact]
    public Task DisableUser_RepeatFindingFromAnotherSourceInLaterRun_NoSecondIntent() => HoldsAsync(Case(
        [],
        [User(Provider.Entra, 1), User(Provider.Entra, 2)],
        [Rule(Provider.Entra, new GraphAction("disable_user"))],
        [[Finding(Provider.Entra, 1)], [Finding(Provider.Entra, 1) with { Id = "r1", Source = "other-source" }]]) with { Sequential = true },
        Checks.ExactlyOnceOnly with { OneIntentPerChange = true });

    private static async Task HoldsAsync(AdversaryCase c, Checks? checks = null, bool processes = false)
    {
        using var folder = Reliability.ScratchDirectory();
        var cancel = TestContext.Current.CancellationToken;
        var outcome = processes ? await AdversaryHarness.ProcessesAsync(c, folder.Path, cancel) : await AdversaryHarness.InProcessAsync(c, folder.Path, cancel);
        var violations = Invariants.Check(c, outcome, checks ?? Checks.Safety);
        if (violations.Count > 0)
        {
            Assert.Fail(string.Join('\n', violations) + "\n\n" + CaseFiles.Render(c) + "audit trail:\n" + Invariants.Trail(outcome));
        }
    }

    private static AdversaryCase Case(GraphGroup[] groups, GraphUser[] users, GraphRule[] rules, GraphFinding[][] runs, int minimum = 2) =>
        new([.. groups], [.. users], [.. rules], [.. runs.Select(r => r.ToImmutableArray())], minimum);

    private static GraphGroup Group(Provider provider, string name, string? memberOf = null, string? roles = null) => new(provider, name)
    {
        MemberOf = memberOf is null ? [] : [memberOf],
        Roles = roles is null ? [] : [roles],
    };

    private static GraphUser User(Provider provider, int n, string[]? groups = null, string[]? roles = null) =>
        new(provider, $"u-{provider.Name()}-{n}", provider == Provider.Okta ? $"ok{n}@corp.example.com" : $"{provider.Name()}{n}")
        {
            OktaStatus = provider == Provider.Okta ? "ACTIVE" : null,
            Groups = [.. groups ?? []],
            Roles = [.. roles ?? []],
        };

    private static GraphRule Rule(Provider provider, GraphAction action, int n = 1) => new($"rule-{n}", provider, $"t{n}", [action]);

    private static GraphFinding Finding(Provider provider, int user, int rule = 1) =>
        new($"f{user}-{rule}", "gen", $"t{rule}", provider, $"u-{provider.Name()}-{user}");
}
