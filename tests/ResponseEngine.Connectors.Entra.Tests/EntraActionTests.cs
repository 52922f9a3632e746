using System.Text.Json.Nodes;
using ResponseEngine.Actions.Catalogue;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.Graph;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>Each Entra action checked on the emulated tenant after the call: what Graph holds, and which requests went out.</summary>
public sealed class EntraActionTests
{
    [Fact]
    public async Task RevokeGroup_RemovesTheMembershipByRef_NeverDeletesTheUser()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var admins = h.Emulator.AddGroup("g-admins", "Tier0 Admins");
        var team = h.Emulator.AddGroup("g-team", "Team");
        admins.Members.Add(user.Id);
        team.Members.Add(user.Id);

        (await ActAsync(h.Connector, Request("revoke_group", user, Groups("Tier0 Admins")))).Should().BeTrue();

        admins.Members.Should().NotContain(user.Id);
        team.Members.Should().Contain(user.Id, "only the listed group");
        h.Emulator.Tenant.Users.Should().ContainKey(user.Id, "the user object is untouched");
        var deletes = h.Emulator.Requests.Where(r => r.Method == "DELETE").ToList();
        deletes.Should().ContainSingle().Which.RawPath.Should().Be("/v1.0/groups/g-admins/members/u-1/$ref");
        h.Emulator.Requests.Should().NotContain(r => r.Method == "DELETE" && !r.RawPath.EndsWith("/$ref", StringComparison.Ordinal),
            "DELETE /groups/{g}/members/{u} without $ref deletes the directory object");
    }

    [Fact]
    public async Task RevokeGroup_Undo_AddsTheRecordedMembershipBack()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var admins = h.Emulator.AddGroup("g-admins", "Tier0 Admins");
        admins.Members.Add(user.Id);
        var request = Request("revoke_group", user, Groups("Tier0 Admins"));
        var prior = (await h.Connector.ReadAsync(request, Cancel)).PriorState;
        await h.Connector.ApplyAsync(request, Cancel);

        await h.Connector.RestoreAsync(request, prior, Cancel);

        admins.Members.Should().Contain(user.Id);
        var post = h.Emulator.Requests.Single(r => r.Method == "POST" && r.Path.EndsWith("/members/$ref", StringComparison.Ordinal));
        JsonNode.Parse(post.Body!)!["@odata.id"]!.GetValue<string>().Should().EndWith("/directoryObjects/u-1");
    }

    [Fact]
    public async Task RevokeGroup_OnlyDynamicOrSyncedGroups_IsRefusedWithAReasonAndNothingIsSent()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.AddGroup("g-dyn", "Sales Dynamic", dynamic: true).Members.Add(user.Id);
        h.Emulator.AddGroup("g-sync", "HQ Synced", synced: true).Members.Add(user.Id);
        var request = Request("revoke_group", user, Groups("Sales Dynamic", "HQ Synced"));

        var state = await h.Connector.ReadAsync(request, Cancel);
        var failure = await h.Invoking(x => x.Connector.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();

        state.Description.Should().Contain("dynamic membership").And.Contain("synced from on-premises");
        failure.Which.Message.Should().Contain("refused").And.Contain("'Sales Dynamic' has dynamic membership");
        h.Emulator.Requests.Should().NotContain(r => r.IsWrite && !r.RawPath.EndsWith("/$batch", StringComparison.Ordinal));
        h.Emulator.Tenant.Groups["g-dyn"].Members.Should().Contain(user.Id);
    }

    [Fact]
    public async Task Emulator_DynamicGroupMemberRemoval_Is400AsInGraph()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.AddGroup("g-dyn", "Sales Dynamic", dynamic: true).Members.Add("u-1");
        using var http = new HttpClient();
        using var message = new HttpRequestMessage(HttpMethod.Delete, h.Emulator.BaseUrl + "/groups/g-dyn/members/u-1/$ref");
        message.Headers.Authorization = new("Bearer", GraphEmulator.Token);

        using var response = await http.SendAsync(message, Cancel);

        ((int)response.StatusCode).Should().Be(400);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!["error"]!;
        error["code"]!.GetValue<string>().Should().Be("Request_BadRequest");
        error["innerError"]!["request-id"].Should().NotBeNull();
    }

    [Fact]
    public async Task EnforceMfa_FirstUserCreatesThePolicyAndPersistsItsId_LaterUsersAreAppended()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var first = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var second = h.Emulator.AddUser("u-2", "sam@corp.example.com");

        (await ActAsync(h.Connector, Request("enforce_mfa", first))).Should().BeTrue();
        (await ActAsync(h.Connector, Request("enforce_mfa", second))).Should().BeTrue();

        var policy = h.Emulator.Tenant.ConditionalAccessPolicies.Values.Should().ContainSingle().Subject;
        policy["displayName"]!.GetValue<string>().Should().Be(EnforceMfa.DefaultPolicyName);
        policy["state"]!.GetValue<string>().Should().Be("enabled");
        policy["grantControls"]!["builtInControls"]!.AsArray().Select(c => c!.GetValue<string>()).Should().Equal("mfa");
        policy["conditions"]!["applications"]!["includeApplications"]!.AsArray().Select(c => c!.GetValue<string>()).Should().Equal("All");
        policy["conditions"]!["users"]!["includeUsers"]!.AsArray().Select(c => c!.GetValue<string>()).Should().Equal("u-1", "u-2");
        h.Emulator.Requests.Count(r => r.Method == "POST" && r.Path == "/identity/conditionalAccess/policies").Should().Be(1);
        var state = JsonNode.Parse(await File.ReadAllTextAsync(h.EntraConnector.StateFile, Cancel))!;
        state["tenants"]![EntraHarness.TenantId]![EnforceMfa.DefaultPolicyName]!.GetValue<string>().Should().Be(policy["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task EnforceMfa_TwoEnginesAtOnceOnOneStateFile_CreateOnePolicyAndLoseNoUser()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var users = Enumerable.Range(1, 8).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();
        using var other = EntraConnector.Create(h.Options, Identities.PrivilegedPolicy.Default, h.Clock, new StaticTokenCredential(), workingDirectory: h.Directory.Path);

        // Two engines (each with its own lock handle, as two processes have) add users to the same policy concurrently.
        var results = await h.RunAsync(() => Task.WhenAll(
            Task.Run(async () => await AllAsync(h.EntraConnector, users.Where((_, i) => i % 2 == 0))),
            Task.Run(async () => await AllAsync(other, users.Where((_, i) => i % 2 == 1)))));

        results.Should().OnlyContain(done => done);
        h.Emulator.Tenant.ConditionalAccessPolicies.Values.Should().ContainSingle("the find-or-create runs under the state file's lock")
            .Which["conditions"]!["users"]!["includeUsers"]!.AsArray().Select(u => u!.GetValue<string>())
            .Should().BeEquivalentTo(users.Select(u => u.Id), "no read-modify-write lost another's addition");
        h.Emulator.Requests.Count(r => r.Method == "POST" && r.Path == "/identity/conditionalAccess/policies" && r.Status == 201).Should().Be(1);

        static async Task<bool> AllAsync(EntraConnector connector, IEnumerable<GraphUser> targets)
        {
            var all = true;
            foreach (var user in targets) all &= await ActAsync(connector, Request("enforce_mfa", user));
            return all;
        }
    }

    [Fact]
    public async Task EnforceMfa_Undo_RemovesOnlyThatUser_AndLeavesNoneWhenEmpty()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var first = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var second = h.Emulator.AddUser("u-2", "sam@corp.example.com");
        var one = Request("enforce_mfa", first);
        var two = Request("enforce_mfa", second);
        var priorOne = (await h.Connector.ReadAsync(one, Cancel)).PriorState;
        await h.Connector.ApplyAsync(one, Cancel);
        var priorTwo = (await h.Connector.ReadAsync(two, Cancel)).PriorState;
        await h.Connector.ApplyAsync(two, Cancel);

        await h.Connector.RestoreAsync(one, priorOne, Cancel);
        Users().Should().Equal("u-2");
        await h.Connector.RestoreAsync(two, priorTwo, Cancel);
        Users().Should().Equal("None");

        List<string> Users() => [.. h.Emulator.Tenant.ConditionalAccessPolicies.Values.Single()["conditions"]!["users"]!["includeUsers"]!.AsArray().Select(u => u!.GetValue<string>())];
    }

    [Fact]
    public async Task EnforceMfa_PolicyDeletedByAnAdmin_IsCreatedAgain_AndAPolicyFoundByNameIsAdopted()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var first = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var second = h.Emulator.AddUser("u-2", "sam@corp.example.com");
        await ActAsync(h.Connector, Request("enforce_mfa", first));
        h.Emulator.Tenant.ConditionalAccessPolicies.Clear();

        (await ActAsync(h.Connector, Request("enforce_mfa", second))).Should().BeTrue();

        h.Emulator.Tenant.ConditionalAccessPolicies.Values.Should().ContainSingle()
            .Which["conditions"]!["users"]!["includeUsers"]!.AsArray().Select(u => u!.GetValue<string>()).Should().Equal("u-2");
        File.Delete(h.EntraConnector.StateFile);
        (await ActAsync(h.Connector, Request("enforce_mfa", first))).Should().BeTrue();
        h.Emulator.Tenant.ConditionalAccessPolicies.Should().ContainSingle("the policy is found again by its name, not duplicated");
    }

    [Fact]
    public async Task EnforcePhishingResistantMfa_GlobalAdmin_GetsTheBuiltInStrength_NonAdminIsRefusedByTheConnectorToo()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var admin = h.Emulator.AddUser("u-admin", "ga@corp.example.com");
        h.Emulator.AssignRole(admin.Id, "Global Administrator");
        var plain = h.Emulator.AddUser("u-plain", "pat@corp.example.com");
        h.Emulator.AssignRole(plain.Id, "User Administrator");

        (await ActAsync(h.Connector, Request("enforce_phishing_resistant_mfa", admin))).Should().BeTrue();
        var refused = await h.Invoking(x => x.Connector.ApplyAsync(Request("enforce_phishing_resistant_mfa", plain), Cancel)).Should().ThrowAsync<ConnectorException>();

        var policy = h.Emulator.Tenant.ConditionalAccessPolicies.Values.Should().ContainSingle().Subject;
        policy["displayName"]!.GetValue<string>().Should().Be(EnforcePhishingResistantMfa.DefaultPolicyName);
        policy["grantControls"]!["authenticationStrength"]!["id"]!.GetValue<string>().Should().Be("00000000-0000-0000-0000-000000000004");
        policy["conditions"]!["users"]!["includeUsers"]!.AsArray().Select(u => u!.GetValue<string>()).Should().Equal("u-admin");
        refused.Which.Message.Should().Contain("holds no global-admin-level role");
    }

    [Fact]
    public async Task PolicyWrites_ManyUsersInARow_AreKeptToOnePerSecond_WithoutA429()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var users = Enumerable.Range(1, 6).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();

        foreach (var user in users)
        {
            (await ActAsync(h.Connector, Request("enforce_mfa", user))).Should().BeTrue();
            (await ActAsync(h.Connector, Request("mark_compromised", user))).Should().BeTrue();
        }

        var writes = h.Emulator.Requests.Where(r => r.IsWrite && (r.Path.StartsWith("/identity/", StringComparison.Ordinal) || r.Path.StartsWith("/identityProtection", StringComparison.Ordinal))).ToList();
        writes.Should().HaveCount(12);
        writes.Should().OnlyContain(r => r.Status < 400, "the connector paces itself below the 1 request/s limit");
        writes.Zip(writes.Skip(1)).Should().OnlyContain(pair => pair.Second.At - pair.First.At >= TimeSpan.FromSeconds(1));
        h.Emulator.Tenant.RiskyUsers.Values.Should().OnlyContain(r => r.RiskState == "confirmedCompromised").And.HaveCount(6);
    }

    [Fact]
    public async Task MarkCompromised_ConfirmsThenUndoDismisses()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.SetRisk(user.Id, "medium", "atRisk");
        var request = Request("mark_compromised", user);
        var prior = (await h.Connector.ReadAsync(request, Cancel)).PriorState;

        await h.Connector.ApplyAsync(request, Cancel);
        h.Emulator.Tenant.RiskyUsers[user.Id].RiskState.Should().Be("confirmedCompromised");
        await h.Connector.RestoreAsync(request, prior, Cancel);

        h.Emulator.Tenant.RiskyUsers[user.Id].RiskState.Should().Be("dismissed");
        JsonNode.Parse(prior)!["risk_state"]!.GetValue<string>().Should().Be("at_risk");
        h.Emulator.Requests.Should().Contain(r => r.Method == "POST" && r.Path == "/identityProtection/riskyUsers/dismiss");
    }

    [Fact]
    public async Task RemoveRoleAssignment_DeletesActiveAssignments_ReportsPimEligibility_UndoRecreates()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.AssignRole(user.Id, "Global Administrator");
        h.Emulator.AssignRole(user.Id, "Helpdesk Administrator");
        h.Emulator.MakeEligible(user.Id, "Privileged Role Administrator");
        var request = Request("remove_role_assignment", user, Roles("Global Administrator", "Privileged Role Administrator"));

        var before = await h.Connector.ReadAsync(request, Cancel);
        await h.Connector.ApplyAsync(request, Cancel);
        var after = await h.Connector.ReadAsync(request, Cancel);

        before.Description.Should().Contain("PIM-eligible for Privileged Role Administrator").And.Contain("not removed");
        after.AlreadyDone.Should().BeTrue();
        after.Description.Should().Contain("PIM-eligible for Privileged Role Administrator", "the eligibility is reported, not silently ignored");
        h.Emulator.Tenant.RoleAssignments.Select(a => a.RoleDefinitionId).Should().Equal(GraphRoles.HelpdeskAdministrator);
        h.Emulator.Tenant.RoleEligibilities.Should().ContainSingle("eligibilities are never removed by the engine");

        await h.Connector.RestoreAsync(request, before.PriorState, Cancel);
        h.Emulator.Tenant.RoleAssignments.Select(a => a.RoleDefinitionId).Should().BeEquivalentTo([GraphRoles.HelpdeskAdministrator, GraphRoles.GlobalAdministrator]);
    }

    [Fact]
    public async Task RevokeSessions_SetsTheValidFromTime_GuestIsRefused()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var member = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        member.LastSignInDateTime = EntraHarness.Start.AddHours(-2);
        var guest = h.Emulator.AddUser("u-guest", "ext_partner.example#EXT#@corp.example.com", userType: "Guest");

        (await ActAsync(h.Connector, Request("revoke_sessions", member))).Should().BeTrue();
        var refused = await h.Invoking(x => x.Connector.ApplyAsync(Request("revoke_sessions", guest), Cancel)).Should().ThrowAsync<ConnectorException>();

        member.SignInSessionsValidFromDateTime.Should().Be(h.Clock.GetUtcNow());
        refused.Which.Message.Should().Contain("guest");
        guest.SignInSessionsValidFromDateTime.Should().BeNull();
        h.Emulator.Requests.Count(r => r.Path.EndsWith("/revokeSignInSessions", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task RevokeSessions_WithoutAuditLogPermission_RevokesAndVerifiesOnTheRecentRevocation()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        user.SignInSessionsValidFromDateTime = EntraHarness.Start.AddDays(-3);
        h.Emulator.FailNext(3, GraphFault.Forbidden, r => r.DecodedQuery.Contains("signInActivity", StringComparison.Ordinal));
        var request = Request("revoke_sessions", user);

        var before = await h.Connector.ReadAsync(request, Cancel);
        (await ActAsync(h.Connector, request)).Should().BeTrue();

        before.AlreadyDone.Should().BeFalse("a revocation three days old proves nothing when the last sign-in is unknown");
        before.Description.Should().Contain("AuditLog.Read.All");
        user.SignInSessionsValidFromDateTime.Should().Be(h.Clock.GetUtcNow());
    }

    [Fact]
    public async Task DisableAndResetPassword_PatchTheUser()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");

        (await ActAsync(h.Connector, Request("disable_user", user))).Should().BeTrue();
        (await ActAsync(h.Connector, Request("reset_password", user))).Should().BeTrue();
        (await ActAsync(h.Connector, Request("disable_user", user))).Should().BeTrue();

        user.AccountEnabled.Should().BeFalse();
        user.ForceChangePasswordNextSignIn.Should().BeTrue();
        var patches = h.Emulator.Requests.Where(r => r.Method == "PATCH").Select(r => JsonNode.Parse(r.Body!)!.AsObject()).ToList();
        patches.Should().HaveCount(2, "the second disable is a no-op");
        patches[0]["accountEnabled"]!.GetValue<bool>().Should().BeFalse();
        patches[1]["passwordProfile"]!["forceChangePasswordNextSignIn"]!.GetValue<bool>().Should().BeTrue();
        patches.Should().OnlyContain(p => p.Count(kv => kv.Key != "@odata.type") == 1, "only the property the action changes is sent");
    }

    [Theory]
    [InlineData("disable_user", """{"enabled":false}""")]
    [InlineData("reset_password", """{"password_must_change":true}""")]
    public async Task Apply_ChangedByAnotherAdminSinceItWasRead_ReportsAlreadyDoneWithTheStateFoundAndSendsNothing(string action, string found)
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        var request = Request(action, user);
        (await h.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse();
        (await ActAsync(h.Connector, request)).Should().BeTrue(); // another run or administrator, between this run's read and apply

        var changed = await h.Invoking(x => x.Connector.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().BeTrue();
        changed.Which.Current.PriorState.Should().Be(found, "the state found when acting: undo must not restore the one read before");
        h.Emulator.Requests.Count(r => r.Method == "PATCH").Should().Be(1, "only the other actor's change was sent");
    }

    /// <summary>
    /// Every action, not only disable and reset: done by another run or an administrator between this run's read and its
    /// apply is a no-op with the state found then. Before, revoke_group and remove_role_assignment found nothing left to
    /// remove, sent nothing, and were recorded succeeded with the prior state read before, which undo would restore
    /// (a privileged membership or role someone else removed, handed back).
    /// </summary>
    [Theory]
    [InlineData("revoke_group")]
    [InlineData("remove_role_assignment")]
    [InlineData("mark_compromised")]
    [InlineData("enforce_mfa")]
    [InlineData("enforce_phishing_resistant_mfa")]
    [InlineData("revoke_sessions")]
    public async Task Apply_AnyActionDoneByAnotherSinceItWasRead_IsReportedWithTheStateFoundAndSendsNothing(string action)
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        user.LastSignInDateTime = EntraHarness.Start.AddHours(-2);
        h.Emulator.AddGroup("g-admins", "Tier0 Admins").Members.Add(user.Id);
        h.Emulator.AssignRole(user.Id, "Global Administrator");
        h.Emulator.SetRisk(user.Id, "medium", "atRisk");
        var request = Request(action, user, action switch
        {
            "revoke_group" => Groups("Tier0 Admins"),
            "remove_role_assignment" => Roles("Global Administrator"),
            _ => null,
        });
        (await h.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse();
        (await ActAsync(h.Connector, request)).Should().BeTrue(); // another run or administrator, between this run's read and apply
        static bool Write(GraphRequest r) => r.Method != "GET" && r.Path != "/$batch"; // a $batch POST carries reads
        var writes = h.Emulator.Requests.Count(Write);

        var changed = await h.Invoking(x => x.Connector.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().BeTrue();
        changed.Which.Current.PriorState.Should().Be((await h.Connector.ReadAsync(request, Cancel)).PriorState,
            "the state found when acting: undo must not restore the one read before");
        h.Emulator.Requests.Where(Write).Should().HaveCount(writes, "only the other actor's change was sent");
    }

    [Fact]
    public async Task Disable_SyncedUser_FailsWithGraphsMessage()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        user.OnPremisesSyncEnabled = true;

        var failure = await h.Invoking(x => x.Connector.ApplyAsync(Request("disable_user", user), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("Graph 400 Request_BadRequest").And.Contain("on-premises mastered");
        failure.Which.Transient.Should().BeFalse();
        user.AccountEnabled.Should().BeTrue();
    }
}
