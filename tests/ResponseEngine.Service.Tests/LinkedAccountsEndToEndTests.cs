using System.Net;
using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Identities;
using ResponseEngine.TestKit.Graph;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Issue #21, live: one person's accounts in a Samba AD DC, the Graph emulator and the Okta emulator. The Entra accounts
/// carry the DC's real objectSid (onPremisesSecurityIdentifier) and objectGUID (base64, onPremisesImmutableId), read back
/// over LDAP; the Okta accounts share the AD userPrincipalName as their login. `respond serve` receives findings about the
/// AD accounts only, and one rule acts on each person's accounts: every account its own intent and outcome, guarded in
/// its own provider (lockout counted live in Entra), and a conflicting link refused with its reason.
/// </summary>
public sealed class LinkedAccountsEndToEndTests(ServeSambaDc dc)
{
    private const string TenantId = "7d5c1a2e-0b4f-4c3a-9e8d-2f6b1c0a9e11";
    private const string ClientId = "5a0c9e3b-61d2-4f7a-8b3e-0c9d1e2f3a4b";
    private const string ClientSecret = "emulated-app-secret-Q7~x2";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Synced Entra accounts cannot be disabled through Graph (their accountEnabled is mastered on-premises; Graph answers
    /// 400, as the emulator does): the AD account is disabled, and in Entra the sessions are revoked and the admin roles removed.
    /// </summary>
    private const string Rule = """
        # yaml-language-server: $schema=../../schemas/rule.schema.json
        id: ad-compromised-contain-person
        title: A compromised AD account - contain the person in every directory
        owner: tests
        mode: enforce
        match:
          types: [compromised_account]
          providers: [ad]
        when: identity.enabled
        actions:
          - action: disable_user
          - action: revoke_sessions
            on: [entra, okta]
          - action: remove_role_assignment
            on: [entra]
            with: { roles: [Global Administrator] }
        tests:
          - name: every account of the person
            linked: [{ provider: entra, name: a@corp.example.com, roles: [Global Administrator] }, { provider: okta, name: a@corp.example.com }]
            expect: [disable_user, { revoke_sessions: { on: entra } }, { revoke_sessions: { on: okta } }, { remove_role_assignment: { on: entra } }]
          - name: an account alone
            expect: [disable_user]
          - name: a disabled account is left alone
            identity: { enabled: false }
            expect: []
        """;

    private static string Finding(string id, string name) =>
        $$"""{"id":"{{id}}","source":"itdr","kind":"detection","type":"compromised_account","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"{{name}}"},"title":"compromised"}""";

    [Fact]
    public async Task OneFindingAboutAnAdAccount_ActsOnThePersonInEachDirectory_GuardedThere()
    {
        using var ad = await SambaOu.CreateAsync(dc, Ct);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        string Name(string who) => $"{who}{suffix}";
        string Upn(string who) => $"{Name(who)}@corp.example.com";
        var alice = ad.AddUser(Name("alice"));
        var bob = ad.AddUser(Name("bob"));
        var carol = ad.AddUser(Name("carol"));
        (string Sid, string ImmutableId) Anchors(string dn) =>
            (Sids.ToText(ad.Bytes(dn, "objectSid"))!, Convert.ToBase64String(ad.Bytes(dn, "objectGUID")));

        var time = TimeProvider.System;
        await using var login = await EntraLoginEmulator.StartAsync(time, Ct);
        login.RegisterApp(TenantId, ClientId, ClientSecret);
        await using var graph = await GraphEmulator.StartAsync(time, Ct);
        graph.AcceptToken = login.Accepts;
        GraphUser Synced(string id, string who, string dn)
        {
            var user = graph.AddUser(id, Upn(who));
            user.OnPremisesSyncEnabled = true;
            (user.OnPremisesSecurityIdentifier, user.OnPremisesImmutableId) = Anchors(dn);
            return user;
        }

        var aliceEntra = Synced("1a1a1a1a-0000-4000-8000-000000000001", "alice", alice);
        var bobEntra = Synced("1a1a1a1a-0000-4000-8000-000000000002", "bob", bob);
        graph.AssignRole(bobEntra.Id, "Global Administrator");
        var otherAdmin = graph.AddUser("1a1a1a1a-0000-4000-8000-000000000003", $"admin{suffix}@corp.example.com");
        graph.AssignRole(otherAdmin.Id, "Global Administrator");

        // Carol's Entra account has her SID but an immutable id that is not her objectGUID: a conflict, refused, never a guess.
        var carolEntra = Synced("1a1a1a1a-0000-4000-8000-000000000004", "carol", carol);
        carolEntra.OnPremisesImmutableId = ImmutableIds.FromGuid(Guid.NewGuid());

        await using var okta = await OktaEmulatorServer.StartAsync(time, Ct);
        var aliceOkta = okta.Org.AddUser("00u1alice" + suffix, Upn("alice"));
        var carolOkta = okta.Org.AddUser("00u1carol" + suffix, Upn("carol"));

        using var secrets = new TestKit.TempDirectory();
        var passwordFile = secrets.Write("ad-password", TestKit.ActiveDirectory.SambaDc.AdminPassword + "\n");
        using var workspace = new ServeWorkspace($$"""
            connectors:
              entra: { kind: entra, tenant_id: {{TenantId}}, client_id: {{ClientId}}, auth: client_secret, base_url: "{{graph.BaseUrl}}", authority_host: "{{login.AuthorityHost}}", state_file: state/entra-policies.json }
              okta: { kind: okta, base_url: "{{okta.BaseUrl}}", auth: api_token }
              ad: { kind: ldap, server: "{{ad.Dc.Host}}", port: {{ad.Dc.Port}}, base_dn: "{{ad.Dn}}", bind_dn: "{{TestKit.ActiveDirectory.SambaDc.AdminUpn}}", password_file: "{{passwordFile}}", ca_bundle: "{{ad.Dc.CaFile}}", retry_attempts: 1 }
            linking: { okta_match: [login] }
            """);
        workspace.Write("rules/ad/ad-compromised-contain-person.yaml", Rule);
        var environment = new Dictionary<string, string>
        {
            ["RESPOND_ENTRA_CLIENT_SECRET"] = ClientSecret,
            ["RESPOND_OKTA_API_TOKEN"] = okta.Org.ApiToken,
            ["SSL_CERT_FILE"] = login.CaFile,
            ["RESPOND__EXECUTION__RECONCILE_AFTER"] = "3m",
        };
        await using var serve = await ServeProcess.StartAsync(workspace.Path, environment);

        using (var http = new HttpClient())
        {
            var body = "[" + string.Join(",", Finding("lnk-alice", Name("alice")), Finding("lnk-bob", Name("bob")), Finding("lnk-carol", Name("carol"))) + "]";
            using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, time.GetUtcNow()), Ct);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        }

        await ServeWorkspace.Eventually(async () => (await workspace.InboxAsync(Ct)).Completed == 3, Deadline, "the three findings are done", () => serve.Log);
        var trail = await workspace.TrailAsync(Ct);
        string Diagnose() => serve.Log + "\n--- trail ---\n" + string.Join('\n', trail.Select(r =>
            $"#{r.Sequence} {r.Entry.Status} {r.Entry.Provider} {r.Entry.IdentityName} {r.Entry.Action} [{r.Entry.Guard}] {r.Entry.Reason} {r.Entry.Error}"));

        AuditRecord Outcome(string provider, string identityId, string action)
        {
            var intent = trail.Where(r => r.Entry.Status == AuditStatus.Intended && r.Entry.Provider == provider && r.Entry.IdentityId == identityId && r.Entry.Action == action)
                .Should().ContainSingle($"one intent for {provider} {action} on {identityId}: {Diagnose()}").Subject;
            var outcome = trail.Should().ContainSingle(r => r.Entry.Status.IsOutcome() && r.Entry.IntentSequence == intent.Sequence, Diagnose()).Subject;
            outcome.Entry.Status.Should().Be(AuditStatus.Succeeded, Diagnose());
            return intent;
        }

        // Alice: disabled in AD, sessions revoked in Entra and cleared in Okta; each its own intent and outcome.
        ad.Disabled(alice).Should().BeTrue(Diagnose());
        graph.Change(t => t.Users[aliceEntra.Id].SignInSessionsValidFromDateTime).Should().NotBeNull(Diagnose());
        okta.Org.Users[aliceOkta.Id].SessionsClearedAt.Should().NotBeNull(Diagnose());
        var aliceAdGuid = new Guid(ad.Bytes(alice, "objectGUID")).ToString("D");
        Outcome("ad", aliceAdGuid, "disable_user");
        var entraIntent = Outcome("entra", aliceEntra.Id, "revoke_sessions");
        trail.Should().ContainSingle(r => r.Entry.IdentityId == aliceEntra.Id && r.Entry.Action == "remove_role_assignment" && r.Entry.Guard == "precondition",
            "Alice holds no admin role in Entra: " + Diagnose());
        var oktaIntent = Outcome("okta", aliceOkta.Id, "revoke_sessions");
        using (var facts = JsonDocument.Parse(entraIntent.Entry.Facts!))
        {
            var evidence = facts.RootElement.GetProperty("linked_from").GetProperty("evidence").GetString();
            evidence.Should().Be($"objectSid {Anchors(alice).Sid} = onPremisesSecurityIdentifier, objectGUID {aliceAdGuid} = onPremisesImmutableId {Anchors(alice).ImmutableId}");
        }

        using (var facts = JsonDocument.Parse(oktaIntent.Entry.Facts!))
        {
            facts.RootElement.GetProperty("linked_from").GetProperty("evidence").GetString().Should().Be($"Okta login {Upn("alice")} = AD userPrincipalName");
        }

        // Bob: one of the last two Global Administrators — removing his Entra role is refused there; his AD account is disabled.
        ad.Disabled(bob).Should().BeTrue(Diagnose());
        graph.Change(t => t.RoleAssignments.Any(a => a.PrincipalId == bobEntra.Id)).Should().BeTrue("lockout protection kept the role: " + Diagnose());
        trail.Should().ContainSingle(r => r.Entry.Provider == "entra" && r.Entry.IdentityId == bobEntra.Id && r.Entry.Action == "remove_role_assignment"
            && r.Entry.Status == AuditStatus.Skipped && r.Entry.Guard == "lockout_protection", Diagnose());
        Outcome("entra", bobEntra.Id, "revoke_sessions");

        // Carol: the Entra link conflicts, so nothing is done in Entra and the refusal is on record; AD and Okta act.
        ad.Disabled(carol).Should().BeTrue(Diagnose());
        graph.Change(t => t.Users[carolEntra.Id].SignInSessionsValidFromDateTime).Should().BeNull(Diagnose());
        trail.Where(r => r.Entry.FindingId == "lnk-carol" && r.Entry.Guard == "link").Should().HaveCount(2, Diagnose())
            .And.OnlyContain(r => r.Entry.Status == AuditStatus.Skipped && r.Entry.Reason!.Contains("conflicting link", StringComparison.Ordinal));
        okta.Org.Users[carolOkta.Id].SessionsClearedAt.Should().NotBeNull(Diagnose());
        trail.Should().NotContain(r => r.Entry.Provider == "entra" && r.Entry.IdentityId == carolEntra.Id, "no row acts on an account the link refused");
    }
}
