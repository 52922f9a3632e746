using ResponseEngine.Execution;
using ResponseEngine.TestKit.Okta;
using static ResponseEngine.Connectors.Okta.Tests.OktaTestData;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>Each Okta action checked on the emulator's own state after the call, and Okta's non-idempotent lifecycle read first.</summary>
public sealed class OktaActionTests
{
    [Theory]
    [InlineData("disable_user", "ACTIVE", "SUSPENDED")]
    [InlineData("enable_user", "SUSPENDED", "ACTIVE")]
    [InlineData("deactivate_user", "ACTIVE", "DEPROVISIONED")]
    [InlineData("deactivate_user", "SUSPENDED", "DEPROVISIONED")]
    [InlineData("reset_password", "ACTIVE", "PASSWORD_EXPIRED")]
    public async Task Apply_LifecycleAction_ChangesTheStatusInTheOrg(string action, string from, string to)
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com", from);

        (await harness.Connector.ReadAsync(Request(action, "00u1"), Cancel)).AlreadyDone.Should().BeFalse();
        await harness.Connector.ApplyAsync(Request(action, "00u1"), Cancel);

        user.Status.Should().Be(to);
        (await harness.Connector.VerifyAsync(Request(action, "00u1"), Cancel)).Should().BeTrue();
        var lifecycle = harness.Emulator.Requests.Single(r => r.RawPath.Contains("/lifecycle/", StringComparison.Ordinal));
        lifecycle.Method.Should().Be("POST");
        lifecycle.ContentLength.Should().Be(0, "Okta wants Content-Length: 0 on a POST without a body");
    }

    [Theory]
    [InlineData("disable_user", "SUSPENDED")]
    [InlineData("disable_user", "DEPROVISIONED")]
    [InlineData("enable_user", "ACTIVE")]
    [InlineData("deactivate_user", "DEPROVISIONED")]
    [InlineData("reset_password", "PASSWORD_EXPIRED")]
    public async Task Read_AlreadyInTheWantedStatus_IsANoopWithoutALifecycleCall(string action, string status)
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com", status);

        var state = await harness.Connector.ReadAsync(Request(action, "00u1"), Cancel);

        state.AlreadyDone.Should().BeTrue();
        state.PriorState.Should().Be($$"""{"okta_status":"{{status}}"}""");
        harness.Emulator.Requests.Should().NotContain(r => r.Method == "POST");
    }

    [Fact]
    public async Task Apply_UserSuspendedSinceItWasRead_ReportsAlreadyDoneWithoutALifecycleCall()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com", "SUSPENDED");

        // Read again as it acts: already there, so nothing is sent, and the executor records a no-op, not a success it did not cause.
        var changed = await harness.Invoking(h => h.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().BeTrue();
        changed.Which.Current.PriorState.Should().Be("""{"okta_status":"SUSPENDED"}""");
        user.Status.Should().Be("SUSPENDED");
        harness.Emulator.Requests.Should().NotContain(r => r.Method == "POST");
    }

    [Fact]
    public async Task Apply_SuspendOfAUserNoLongerActive_ReportedChangedWithOktasReasonAndTheStatus()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com", "PASSWORD_EXPIRED");

        var failure = await harness.Invoking(h => h.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        failure.Which.Message.Should().Contain("E0000001").And.Contain("Cannot suspend a user whose status is PASSWORD_EXPIRED")
            .And.Contain("Okta suspends only ACTIVE users").And.Contain("is PASSWORD_EXPIRED").And.Contain("nothing done");
        failure.Which.Transient.Should().BeFalse();
        failure.Which.Current.AlreadyDone.Should().BeFalse();
        failure.Which.Current.PriorState.Should().Be("""{"okta_status":"PASSWORD_EXPIRED"}""");
    }

    [Theory]
    [InlineData("disable_user", "suspend", "DEPROVISIONED", true)]
    [InlineData("disable_user", "suspend", "SUSPENDED", true)]
    [InlineData("reset_password", "expire_password", "PASSWORD_EXPIRED", true)]
    [InlineData("reset_password", "expire_password", "LOCKED_OUT", false)]
    [InlineData("disable_user", "suspend", "LOCKED_OUT", false)]
    public async Task Apply_StatusChangedByAnotherAdminJustBeforeTheCall_ReportedChangedWithTheStatusFound(string action, string operation, string meanwhile, bool done)
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.BeforeHandle = r =>
        {
            if (r.Method == "POST" && r.RawPath.EndsWith("/lifecycle/" + operation, StringComparison.Ordinal)) user.Status = meanwhile;
        };

        var changed = await harness.Invoking(h => h.Connector.ApplyAsync(Request(action, "00u1"), Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().Be(done);
        changed.Which.Current.PriorState.Should().Be($$"""{"okta_status":"{{meanwhile}}"}""", "the state Okta has now, not the ACTIVE one read before: undo must not restore it");
        user.Status.Should().Be(meanwhile);
    }

    [Fact]
    public async Task Apply_RevokeSessions_ClearsSessionsAndOAuthTokens()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Clock.Advance(TimeSpan.FromMinutes(5));

        (await harness.Connector.ReadAsync(Request("revoke_sessions", "00u1"), Cancel)).AlreadyDone.Should().BeFalse();
        await harness.Connector.ApplyAsync(Request("revoke_sessions", "00u1"), Cancel);

        user.SessionsClearedAt.Should().Be(harness.Clock.GetUtcNow());
        user.OAuthTokensRevoked.Should().BeTrue();
        harness.Emulator.Requests.Should().Contain(r => r.Method == "DELETE" && r.RawPath == "/api/v1/users/00u1/sessions" && r.Query == "?oauthTokens=true");
        (await harness.Connector.ReadAsync(Request("revoke_sessions", "00u1"), Cancel)).AlreadyDone.Should().BeTrue();

        user.LastLogin = harness.Clock.GetUtcNow().AddSeconds(1);
        (await harness.Connector.VerifyAsync(Request("revoke_sessions", "00u1"), Cancel)).Should().BeFalse("a sign-in after the clearing means live sessions again");
    }

    [Fact]
    public async Task Apply_RevokeGroup_RemovesOnlyDirectOktaGroupsAndRestorePutsThemBack()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        var admins = harness.Emulator.AddGroup("00g1", "Okta Admins");
        var app = harness.Emulator.AddGroup("00g2", "Salesforce Admins", "APP_GROUP");
        admins.Members.Add("00u1");
        app.Members.Add("00u1");
        var request = Request("revoke_group", "00u1", Groups("Okta Admins", "Salesforce Admins", "Not A Member"));

        var prior = await harness.Connector.ReadAsync(request, Cancel);
        await harness.Connector.ApplyAsync(request, Cancel);

        admins.Members.Should().BeEmpty();
        app.Members.Should().Contain("00u1", "APP_GROUP membership belongs to the application");
        prior.PriorState.Should().Be("""{"okta_status":"ACTIVE","groups":[{"id":"00g1","name":"Okta Admins"}]}""");
        (await harness.Connector.VerifyAsync(request, Cancel)).Should().BeTrue();

        await harness.Connector.RestoreAsync(request, prior.PriorState, Cancel);
        admins.Members.Should().Contain("00u1");
        harness.Emulator.Requests.Should().Contain(r => r.Method == "PUT" && r.RawPath == "/api/v1/groups/00g1/users/00u1" && r.ContentLength == 0);
    }

    [Fact]
    public async Task Apply_RevokeGroupOnlyAppGroups_RefusesWithAReason()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.AddGroup("00g2", "Salesforce Admins", "APP_GROUP").Members.Add("00u1");
        harness.Emulator.AddGroup("00g3", "Everyone", "BUILT_IN").Members.Add("00u1");

        var failure = await harness.Invoking(h => h.Connector.ApplyAsync(Request("revoke_group", "00u1", Groups("Salesforce Admins", "Everyone")), Cancel))
            .Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("'Salesforce Admins' is an Okta APP_GROUP").And.Contain("'Everyone' is an Okta BUILT_IN");
        harness.Emulator.Requests.Should().NotContain(r => r.Method == "DELETE");
    }

    [Fact]
    public async Task Restore_DisableUser_UnsuspendsAndEnableUserSuspendsAgain()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com");

        var prior = (await harness.Connector.ReadAsync(Request("disable_user", "00u1"), Cancel)).PriorState;
        await harness.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel);
        await harness.Connector.RestoreAsync(Request("disable_user", "00u1"), prior, Cancel);
        user.Status.Should().Be("ACTIVE");

        var enablePrior = """{"okta_status":"SUSPENDED"}""";
        await harness.Connector.RestoreAsync(Request("enable_user", "00u1"), enablePrior, Cancel);
        user.Status.Should().Be("SUSPENDED");
    }

    [Fact]
    public async Task Apply_EnableADeprovisionedUser_FailsWithoutReactivating()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com", "DEPROVISIONED");

        await harness.Invoking(h => h.Connector.ApplyAsync(Request("enable_user", "00u1"), Cancel)).Should().ThrowAsync<ConnectorException>()
            .WithMessage("*DEPROVISIONED*manual*");
        user.Status.Should().Be("DEPROVISIONED");
    }
}
