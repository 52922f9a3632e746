using System.Net;
using ResponseEngine.Audit;
using ResponseEngine.TestKit.Graph;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// `respond serve` as a real process against real directory protocols: the Entra connector signs in with its client secret
/// at an identity platform emulator over HTTPS (Azure.Identity, trusted through SSL_CERT_FILE) and calls the Graph
/// emulator with the token it got; the Okta connector calls the Okta emulator over HTTP with its API token; the AD
/// connector binds over LDAPS to a Samba DC. Signed findings are posted to the webhook, and the test reads each
/// directory behind the service's back and the audit file: every action applied, each with its intent and outcome.
/// </summary>
public sealed class ServeDirectoriesEndToEndTests(ServeSambaDc dc)
{
    private const string TenantId = "7d5c1a2e-0b4f-4c3a-9e8d-2f6b1c0a9e11";
    private const string ClientId = "5a0c9e3b-61d2-4f7a-8b3e-0c9d1e2f3a4b";
    private const string ClientSecret = "emulated-app-secret-Q7~x2";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Rule(string id, string provider, string actions, string expect, string identity = "{ privileged: false }") => $"""
        id: {id}
        title: Contain a {provider} account taken over
        owner: tests
        mode: enforce
        match:
          types: [account_takeover]
          providers: [{provider}]
        actions:
        {actions}
        tests:
          - name: a takeover is contained
            finding: {"{"} type: account_takeover, severity: high, subject: {"{"} provider: {provider}, name: someone {"}"} {"}"}
            identity: {identity}
            expect: {expect}
        """;

    private static string Finding(string id, string provider, string name) =>
        $$"""{"id":"{{id}}","source":"itdr","kind":"detection","type":"account_takeover","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"{{provider}}","name":"{{name}}"},"title":"takeover"}""";

    /// <summary>The emulators, their seeded accounts, and the workspace whose respond.yaml points the connectors at them.</summary>
    private sealed class Directories : IAsyncDisposable
    {
        public required GraphEmulator Graph { get; init; }

        public required EntraLoginEmulator Login { get; init; }

        public required OktaEmulatorServer Okta { get; init; }

        public required ServeWorkspace Workspace { get; init; }

        public required GraphUser EntraUser { get; init; }

        public required GraphGroup EntraGroup { get; init; }

        public required string OktaUserId { get; init; }

        public required Dictionary<string, string> Environment { get; init; }

        public async ValueTask DisposeAsync()
        {
            Workspace.Dispose();
            await Graph.DisposeAsync();
            await Login.DisposeAsync();
            await Okta.DisposeAsync();
        }
    }

    private static async Task<Directories> StartAsync(SambaOu? ad, string? adPasswordFile)
    {
        var time = TimeProvider.System;
        var login = await EntraLoginEmulator.StartAsync(time, Ct);
        login.RegisterApp(TenantId, ClientId, ClientSecret);
        var graph = await GraphEmulator.StartAsync(time, Ct);
        graph.AcceptToken = login.Accepts;
        var erin = graph.AddUser("3f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1", "erin.entra@corp.example.com");
        var approvers = graph.AddGroup("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "Finance Approvers");
        approvers.Members.Add(erin.Id);

        var okta = await OktaEmulatorServer.StartAsync(time, Ct);
        var olga = okta.Org.AddUser("00u1olgaokta000001", "olga.okta@corp.example.com");

        var adConnector = ad is null ? "" : $$"""
              ad: { kind: ldap, server: "{{ad.Dc.Host}}", port: {{ad.Dc.Port}}, base_dn: "{{ad.Dn}}", bind_dn: "{{TestKit.ActiveDirectory.SambaDc.AdminUpn}}", password_file: "{{adPasswordFile}}", ca_bundle: "{{ad.Dc.CaFile}}", retry_attempts: 1 }
            """;
        var workspace = new ServeWorkspace($$"""
            connectors:
              entra: { kind: entra, tenant_id: {{TenantId}}, client_id: {{ClientId}}, auth: client_secret, base_url: "{{graph.BaseUrl}}", authority_host: "{{login.AuthorityHost}}", state_file: state/entra-policies.json }
              okta: { kind: okta, base_url: "{{okta.BaseUrl}}", auth: api_token }
            {{adConnector}}
            """);
        workspace.Write("rules/okta/okta-takeover-disable.yaml", Rule("okta-takeover-disable", "okta",
            "  - action: revoke_sessions\n  - action: disable_user", "[revoke_sessions, disable_user]"));
        workspace.Write("rules/entra/entra-takeover.yaml", Rule("entra-takeover", "entra",
            "  - action: revoke_group\n    with: { groups: [Finance Approvers] }\n  - action: disable_user",
            "[{ revoke_group: { groups: [Finance Approvers] } }, disable_user]", "{ privileged: false, groups: [Finance Approvers] }"));
        workspace.Write("rules/ad/ad-takeover.yaml", Rule("ad-takeover", "ad",
            "  - action: revoke_group\n    with: { groups: [Tier1 Operators] }\n  - action: disable_user",
            "[{ revoke_group: { groups: [Tier1 Operators] } }, disable_user]", "{ privileged: false, groups: [Tier1 Operators] }"));
        return new Directories
        {
            Graph = graph,
            Login = login,
            Okta = okta,
            Workspace = workspace,
            EntraUser = erin,
            EntraGroup = approvers,
            OktaUserId = olga.Id,
            Environment = new Dictionary<string, string>
            {
                ["RESPOND_ENTRA_CLIENT_SECRET"] = ClientSecret,
                ["RESPOND_OKTA_API_TOKEN"] = okta.Org.ApiToken,
                ["SSL_CERT_FILE"] = login.CaFile, // the child trusts the identity platform emulator's CA, as a host trusts a private CA

                // The workspace's 2 s suits the local directory; a real connector's action (a sign-in, an LDAP bind on a
                // loaded machine) can outlast it, and the reconciler would close an intent whose action is still in flight.
                ["RESPOND__EXECUTION__RECONCILE_AFTER"] = "3m",
            },
        };
    }

    /// <summary>Every (provider, action) has exactly one intent and one succeeded outcome pointing at it, written after it.</summary>
    private static async Task ShouldBeAuditedAsync(ServeWorkspace workspace, params (string Provider, string Action)[] expected)
    {
        var trail = await workspace.TrailAsync(Ct);
        foreach (var (provider, action) in expected)
        {
            var intents = trail.Where(r => r.Entry.Status == AuditStatus.Intended && r.Entry.Provider == provider && r.Entry.Action == action).ToList();
            intents.Should().ContainSingle($"one intent for {provider} {action}");
            var outcome = trail.Should().ContainSingle(r => r.Entry.Status.IsOutcome() && r.Entry.IntentSequence == intents[0].Sequence, $"the {provider} {action} intent has one outcome").Subject;
            outcome.Entry.Status.Should().Be(AuditStatus.Succeeded, $"{provider} {action}: {outcome.Entry.Error}");
            outcome.Sequence.Should().BeGreaterThan(intents[0].Sequence);
        }
    }

    private static async Task PostAsync(ServeProcess serve, params string[] findings)
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), "[" + string.Join(",", findings) + "]", TimeProvider.System.GetUtcNow()), Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
    }

    /// <summary>What a failure needs: the service's log, the outcomes that were not successes, and the calls each emulator answered.</summary>
    private static string Diagnose(Directories d, ServeProcess serve)
    {
        var trail = Task.Run(() => d.Workspace.TrailAsync(CancellationToken.None)).GetAwaiter().GetResult();
        var unsuccessful = trail.Where(r => r.Entry.Status.IsOutcome() && r.Entry.Status != AuditStatus.Succeeded)
            .Select(r => $"{r.Entry.Provider} {r.Entry.Action} {r.Entry.Status}: {r.Entry.Guard} {r.Entry.Reason} {r.Entry.Error}");
        return serve.Log + "\n--- not succeeded ---\n" + string.Join('\n', unsuccessful)
            + "\n--- login ---\n" + string.Join('\n', d.Login.Requests.Select(r => $"{r.Method} {r.Path} {r.Status}"))
            + "\n--- graph ---\n" + string.Join('\n', d.Graph.Requests.Select(r => $"{r.Method} {GraphEmulator.Decode(r.Path)}?{r.Query} {r.Status}"));
    }

    /// <summary>/readyz asks each configured connector for a lookup: with the real connectors, each must answer.</summary>
    private static async Task ShouldBeReadyAsync(ServeProcess serve, params string[] providers)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(serve.Url, "/readyz"), Ct);
        var report = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        response.StatusCode.Should().Be(HttpStatusCode.OK, report.ToJsonString());
        foreach (var provider in providers) report["connectors"]![provider]!["reachable"]!.GetValue<bool>().Should().BeTrue(report.ToJsonString());
    }

    private static bool EntraContained(Directories d) => d.Graph.Change(t => !t.Users[d.EntraUser.Id].AccountEnabled && !t.Groups[d.EntraGroup.Id].Members.Contains(d.EntraUser.Id));

    private static bool OktaContained(Directories d) => d.Okta.Org.Inspect(d.OktaUserId) is { OktaStatus: "SUSPENDED", SessionsRevokedAt: not null };

    private static void EntraSignedInForReal(Directories d)
    {
        d.Login.Requests.Should().Contain(r => r.Path == $"/{TenantId}/oauth2/v2.0/token" && r.Status == 200 && r.ClientId == ClientId,
            "the connector got its token from the identity platform with its client secret");
        d.Login.Requests.Should().NotContain(r => r.Status != 200, "no sign-in was refused");
        d.Graph.Requests.Should().NotBeEmpty().And.OnlyContain(r => r.Status != 401, "Graph took every call's token: each was issued by the identity platform for Graph");
    }

    [Fact]
    public async Task Serve_SignedFindingsForEntraAndOkta_AreAppliedThroughGraphAndOktaAndAudited()
    {
        await using var d = await StartAsync(ad: null, adPasswordFile: null);
        await using var serve = await ServeProcess.StartAsync(d.Workspace.Path, d.Environment);

        await PostAsync(serve, Finding("dir-entra-1", "entra", "erin.entra@corp.example.com"), Finding("dir-okta-1", "okta", "olga.okta@corp.example.com"));

        await ServeWorkspace.Eventually(() => Task.FromResult(EntraContained(d) && OktaContained(d)), Deadline,
            "Erin is disabled and out of Finance Approvers in Entra, Olga is suspended with her sessions cleared in Okta", () => Diagnose(d, serve));
        await ServeWorkspace.Eventually(async () => (await d.Workspace.InboxAsync(Ct)).Completed == 2, Deadline, "both findings are done", () => serve.Log);
        await ShouldBeAuditedAsync(d.Workspace, ("entra", "revoke_group"), ("entra", "disable_user"), ("okta", "revoke_sessions"), ("okta", "disable_user"));
        EntraSignedInForReal(d);
        await ShouldBeReadyAsync(serve, "entra", "okta");
        d.Graph.Requests.Should().Contain(r => r.Method == "DELETE" && GraphEmulator.Decode(r.Path).Contains($"/groups/{d.EntraGroup.Id}/members/{d.EntraUser.Id}/$ref", StringComparison.Ordinal));
        d.Okta.Org.Requests.Should().Contain(r => r.Method == "POST" && r.RawPath == $"/api/v1/users/{d.OktaUserId}/lifecycle/suspend" && r.AuthScheme == "SSWS");
    }

    [Fact]
    public async Task Serve_EntraClientSecretWrong_SignInRefusedAndNothingChangesInTheTenant()
    {
        await using var d = await StartAsync(ad: null, adPasswordFile: null);
        d.Environment["RESPOND_ENTRA_CLIENT_SECRET"] = "the-secret-id-not-its-value";
        await using var serve = await ServeProcess.StartAsync(d.Workspace.Path, d.Environment);

        await PostAsync(serve, Finding("wrong-entra-1", "entra", "erin.entra@corp.example.com"));

        await ServeWorkspace.Eventually(async () => (await d.Workspace.InboxAsync(Ct)).Completed == 1, Deadline, "the finding is decided", () => Diagnose(d, serve));
        d.Login.Requests.Should().Contain(r => r.Path == $"/{TenantId}/oauth2/v2.0/token" && r.Status == 401, "the identity platform refused the secret");
        d.Graph.Requests.Should().BeEmpty("without a token the connector sends Graph nothing");
        d.Graph.Change(t => t.Users[d.EntraUser.Id].AccountEnabled && t.Groups[d.EntraGroup.Id].Members.Contains(d.EntraUser.Id)).Should().BeTrue();
        var trail = await d.Workspace.TrailAsync(Ct);
        trail.Should().NotContain(r => r.Entry.Status == AuditStatus.Intended, "an identity that cannot be looked up is never acted on");
        trail.Should().Contain(r => r.Entry.Provider == "entra" && (r.Entry.Reason ?? "").Contains("AADSTS7000215", StringComparison.Ordinal),
            "the refusal is audited with Entra's reason: " + Diagnose(d, serve));
    }

    [Fact]
    public async Task Serve_SignedFindingsForEntraOktaAndSambaAd_AreAppliedInEachDirectoryAndAudited()
    {
        using var ad = await SambaOu.CreateAsync(dc, Ct);
        var adam = ad.AddUser("adam.ad");
        var operators = ad.AddGroup("Tier1 Operators", adam);
        using var secrets = new TestKit.TempDirectory();
        var passwordFile = secrets.Write("ad-password", TestKit.ActiveDirectory.SambaDc.AdminPassword + "\n");
        await using var d = await StartAsync(ad, passwordFile);
        await using var serve = await ServeProcess.StartAsync(d.Workspace.Path, d.Environment);

        await PostAsync(serve,
            Finding("all-entra-1", "entra", "erin.entra@corp.example.com"),
            Finding("all-okta-1", "okta", "olga.okta@corp.example.com"),
            Finding("all-ad-1", "ad", "adam.ad"));

        await ServeWorkspace.Eventually(() => Task.FromResult(EntraContained(d) && OktaContained(d) && ad.Disabled(adam) && !ad.Values(operators, "member").Contains(adam, StringComparer.OrdinalIgnoreCase)),
            Deadline, "each directory shows its account contained (AD read back over LDAP: disabled and out of Tier1 Operators)", () => Diagnose(d, serve));
        await ServeWorkspace.Eventually(async () => (await d.Workspace.InboxAsync(Ct)).Completed == 3, Deadline, "the three findings are done", () => serve.Log);
        await ShouldBeAuditedAsync(d.Workspace, ("entra", "revoke_group"), ("entra", "disable_user"), ("okta", "revoke_sessions"), ("okta", "disable_user"),
            ("ad", "revoke_group"), ("ad", "disable_user"));
        EntraSignedInForReal(d);
        await ShouldBeReadyAsync(serve, "entra", "okta", "ad");
    }
}
