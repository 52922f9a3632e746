using System.Text;
using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Core.Tests.Privilege;

/// <summary>The four cases of the privilege-graph redesign, on the pure rule; the guards' tests run them through plan and run.</summary>
public class LockoutRuleTests
{
    private static DirectorySnapshot Snapshot(string groups, string users) =>
        SnapshotReader.Read(Encoding.UTF8.GetBytes($$"""{ "groups": [{{groups}}], "users": [{{users}}] }"""), "dir.json", PrivilegedPolicy.Default).Snapshot!;

    private static LockoutVerdict Check(DirectorySnapshot snapshot, Provider provider, string set, string action, string target, object? with = null)
    {
        var parameters = with is null ? ActionParameters.Empty : Execution.Reconciler.ParseParameters(System.Text.Json.JsonSerializer.Serialize(with));
        var effect = ActionCatalogue.Default.Find(action)!.Effect(target, parameters);
        return LockoutRule.Evaluate(snapshot.Graph(provider), set, [], effect, minimum: 2);
    }

    [Fact]
    public void Evaluate_DisableLastHolderByPrimaryGroup_Refused()
    {
        var snapshot = Snapshot("""{ "provider": "ad", "id": "g-da", "name": "Domain Admins" }""", """
            { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
            { "provider": "ad", "id": "2", "name": "svc-legacy", "primary_group": "Domain Admins" }
            """);

        var verdict = Check(snapshot, Provider.Ad, "Domain Admins", "disable_user", "2");

        verdict.Allowed.Should().BeFalse();
        verdict.Reason.Should().Be("'svc-legacy' holds Domain Admins as primary group; would leave 1 enabled holder, minimum 2");
    }

    [Fact]
    public void Evaluate_DisableLastGlobalAdminThroughRoleAssignableGroup_Refused()
    {
        var snapshot = Snapshot("""{ "provider": "entra", "id": "e1", "name": "Cloud Tier0", "role_assignable": true, "roles": ["Global Administrator"] }""", """
            { "provider": "entra", "id": "1", "name": "erin", "groups": ["Cloud Tier0"] },
            { "provider": "entra", "id": "2", "name": "gail", "roles": ["Global Administrator"] }
            """);

        var verdict = Check(snapshot, Provider.Entra, "Global Administrator", "disable_user", "1");

        verdict.Allowed.Should().BeFalse();
        verdict.Reason.Should().Be("'erin' holds Global Administrator via Cloud Tier0; would leave 1 enabled holder, minimum 2");
    }

    [Fact]
    public void Evaluate_RevokeNestedGroupConferringTheSet_Refused()
    {
        var snapshot = Snapshot("""
            { "provider": "ad", "id": "g-da", "name": "Domain Admins" },
            { "provider": "ad", "id": "g-t0", "name": "Tier0 Operators", "member_of": ["Domain Admins"] }
            """, """
            { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
            { "provider": "ad", "id": "2", "name": "bob", "groups": ["Tier0 Operators"] }
            """);

        var verdict = Check(snapshot, Provider.Ad, "Domain Admins", "revoke_group", "2", new { groups = new[] { "Tier0 Operators" } });

        verdict.Allowed.Should().BeFalse("Tier0 Operators is not in the privileged policy, but it confers Domain Admins");
        verdict.Reason.Should().Be("'bob' holds Domain Admins via Tier0 Operators; would leave 1 enabled holder, minimum 2");
    }

    [Fact]
    public void Evaluate_RevokeDirectMembershipHeldAlsoThroughNesting_Passes()
    {
        var snapshot = Snapshot("""
            { "provider": "ad", "id": "g-da", "name": "Domain Admins" },
            { "provider": "ad", "id": "g-t0", "name": "Tier0 Operators", "member_of": ["Domain Admins"] }
            """, """
            { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
            { "provider": "ad", "id": "2", "name": "bob", "groups": ["Domain Admins", "Tier0 Operators"] }
            """);

        var verdict = Check(snapshot, Provider.Ad, "Domain Admins", "revoke_group", "2", new { groups = new[] { "Domain Admins" } });

        verdict.Allowed.Should().BeTrue("bob keeps Domain Admins through Tier0 Operators: nobody is lost");
        verdict.Lost.Should().BeEmpty();
        verdict.HoldersAfter.Should().Be(2);
    }

    [Fact]
    public void Evaluate_BreakGlassHolders_NotCountedTowardTheMinimumUnlessAsked()
    {
        var snapshot = Snapshot("", """
            { "provider": "okta", "id": "1", "name": "a", "roles": ["SUPER_ADMIN"] },
            { "provider": "okta", "id": "2", "name": "b", "roles": ["SUPER_ADMIN"] },
            { "provider": "okta", "id": "3", "name": "bg", "roles": ["SUPER_ADMIN"], "tags": ["break_glass"] }
            """);
        var effect = ActionCatalogue.Default.Find("deactivate_user")!.Effect("1", ActionParameters.Empty);

        var verdict = LockoutRule.Evaluate(snapshot.Graph(Provider.Okta), "SUPER_ADMIN", [], effect, minimum: 2);

        verdict.Allowed.Should().BeFalse();
        verdict.Reason.Should().EndWith("would leave 1 enabled holder, minimum 2 (break-glass accounts not counted: 1)");
        LockoutRule.Evaluate(snapshot.Graph(Provider.Okta), "SUPER_ADMIN", [], effect, minimum: 2, countBreakGlass: true).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Evaluate_PendingEditsOfOtherRuns_AreAppliedFirst()
    {
        var snapshot = Snapshot("", """
            { "provider": "entra", "id": "1", "name": "a", "roles": ["Global Administrator"] },
            { "provider": "entra", "id": "2", "name": "b", "roles": ["Global Administrator"] },
            { "provider": "entra", "id": "3", "name": "c", "roles": ["Global Administrator"] }
            """);
        var graph = snapshot.Graph(Provider.Entra);
        GraphEdit[] pending = [new GraphEdit.RemoveEdge("2", "Global Administrator", EdgeKind.Role)];
        GraphEdit[] unrelated = [new GraphEdit.RemoveEdge("2", "Some Group", EdgeKind.Member)];

        LockoutRule.Evaluate(graph, "Global Administrator", pending, [new GraphEdit.Disable("1")], 2).Allowed.Should().BeFalse();
        LockoutRule.Evaluate(graph, "Global Administrator", unrelated, [new GraphEdit.Disable("1")], 2).Allowed.Should().BeTrue(
            "a pending removal from an unrelated group takes nobody out of the set");
    }
}
