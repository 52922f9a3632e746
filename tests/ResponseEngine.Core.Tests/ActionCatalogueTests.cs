using ResponseEngine.Actions;
using ResponseEngine.Actions.Catalogue;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

public class ActionCatalogueTests
{
    public static TheoryData<string> ActionNames => [.. ActionCatalogue.Default.Names];

    [Fact]
    public void Default_HasTheDesignedActionsAndProviders()
    {
        ActionCatalogue.Default.All.ToDictionary(a => a.Name, a => string.Join(",", a.Providers.Select(p => p.Name()))).Should().BeEquivalentTo(
            new Dictionary<string, string>
            {
                ["disable_user"] = "ad,entra,okta",
                ["enable_user"] = "ad,entra,okta",
                ["reset_password"] = "ad,entra,okta",
                ["revoke_sessions"] = "entra,okta",
                ["revoke_group"] = "ad,entra,okta",
                ["remove_role_assignment"] = "entra",
                ["enforce_mfa"] = "entra",
                ["enforce_phishing_resistant_mfa"] = "entra",
                ["mark_compromised"] = "entra",
                ["deactivate_user"] = "okta",
            });
    }

    [Theory]
    [MemberData(nameof(ActionNames))]
    public void EveryAction_DescribesItselfCompletely(string name)
    {
        var action = ActionCatalogue.Default.Find(name)!;

        action.Summary.Should().NotBeNullOrWhiteSpace();
        action.Reversal.How.Should().NotBeNullOrWhiteSpace();
        action.Permissions.Keys.Should().BeEquivalentTo(action.Providers, "every provider needs its permissions named");
        action.Permissions.Values.Should().OnlyContain(p => p.Length > 0);
        action.GetType().Namespace.Should().Be(typeof(DisableUser).Namespace);
        action.GetType().IsSealed.Should().BeTrue();
    }

    [Fact]
    public void Catalogue_RegistersEveryActionClassInTheAssembly()
    {
        var classes = typeof(ActionDefinition).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(ActionDefinition)) && !t.IsAbstract).Select(t => t.Name);

        ActionCatalogue.Default.All.Select(a => a.GetType().Name).Should().BeEquivalentTo(classes);
    }

    [Fact]
    public void RevokeGroup_NarrowsToDirectStaticMemberships()
    {
        var user = Build.User("erin", Provider.Entra, groups: ["Cloud Admins", "All Sales", "Synced Admins"]);
        var snapshot = Build.Directory([user],
        [
            new Group(Provider.Entra, "g1", "All Sales") { Dynamic = true },
            new Group(Provider.Entra, "g2", "Synced Admins") { Synced = true },
        ]);
        var parameters = Parameters("groups", "Cloud Admins", "All Sales", "Synced Admins", "Not Member");

        var result = new RevokeGroup().CheckPreconditions(snapshot.Users[0], parameters, PrivilegedPolicy.Default);

        result.Allowed.Should().BeTrue();
        result.Parameters.Strings("groups").Should().Equal("Cloud Admins");
        result.Reason.Should().Contain("'All Sales' has dynamic membership").And.Contain("synced from on-premises").And.Contain("not a direct member of Not Member");
    }

    [Fact]
    public void RevokeGroup_OktaAppGroup_IsRefused()
    {
        var snapshot = Build.Directory([Build.User("olga", Provider.Okta, groups: ["Everyone"])],
            [new Group(Provider.Okta, "00g1", "Everyone") { OktaType = "BUILT_IN" }]);

        var result = new RevokeGroup().CheckPreconditions(snapshot.Users[0], Parameters("groups", "Everyone"), PrivilegedPolicy.Default);

        result.Allowed.Should().BeFalse();
        result.Reason.Should().Contain("BUILT_IN");
    }

    [Fact]
    public void RevokeSessions_Guest_IsRefused()
    {
        var guest = Build.Identity("partner", Provider.Entra, guest: true);

        new RevokeSessions().CheckPreconditions(guest, ActionParameters.Empty, PrivilegedPolicy.Default).Allowed.Should().BeFalse();
    }

    [Theory]
    [InlineData("Global Administrator", true)]
    [InlineData("Privileged Authentication Administrator", true)]
    [InlineData("Security Administrator", false)]
    public void EnforcePhishingResistantMfa_OnlyForGlobalAdminLevelRoles(string role, bool allowed)
    {
        var admin = Build.Identity("adm", Provider.Entra, roles: [role]);

        new EnforcePhishingResistantMfa().CheckPreconditions(admin, ActionParameters.Empty, PrivilegedPolicy.Default).Allowed.Should().Be(allowed);
    }

    [Fact]
    public void RemoveRoleAssignment_KeepsOnlyHeldRoles()
    {
        var admin = Build.Identity("adm", Provider.Entra, roles: ["Exchange Administrator"]);

        var result = new RemoveRoleAssignment().CheckPreconditions(admin, Parameters("roles", "Global Administrator", "Exchange Administrator"), PrivilegedPolicy.Default);

        result.Parameters.Strings("roles").Should().Equal("Exchange Administrator");
    }

    [Fact]
    public void ActionParameters_CanonicalFormIsSortedAndStable()
    {
        var a = ActionParameters.Empty.With("groups", System.Collections.Immutable.ImmutableArray.Create("A")).With("b", true);
        var b = ActionParameters.Empty.With("b", true).With("groups", System.Collections.Immutable.ImmutableArray.Create("A"));

        a.Canonical.Should().Be("""{"b":true,"groups":["A"]}""");
        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
    }

    private static ActionParameters Parameters(string name, params string[] values) =>
        ActionParameters.Empty.With(name, System.Collections.Immutable.ImmutableArray.Create(values));
}
