using System.Text.Json;
using ResponseEngine.Execution;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Graph;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// `respond doctor` reads back what each connector's account was granted and names what the rules need that is missing
/// (issue #19): the Entra app's consented application permissions from its token's roles claim (identity platform and
/// Graph emulators), the Okta API token's admin roles (Okta emulator), AD said to be not readable. `respond` runs as a
/// child process, as an operator runs it.
/// </summary>
public sealed class DoctorPermissionsTests : IAsyncDisposable
{
    private const string TenantId = "7d5c1a2e-0b4f-4c3a-9e8d-2f6b1c0a9e11";
    private const string ClientId = "5a0c9e3b-61d2-4f7a-8b3e-0c9d1e2f3a4b";
    private const string ClientSecret = "emulated-app-secret-Q7~x2";

    private readonly TempDirectory _temp = new();
    private EntraLoginEmulator? _login;
    private GraphEmulator? _graph;
    private OktaEmulatorServer? _okta;

    public async ValueTask DisposeAsync()
    {
        if (_login is not null) await _login.DisposeAsync();
        if (_graph is not null) await _graph.DisposeAsync();
        if (_okta is not null) await _okta.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Doctor_EntraAppMissingAPermissionAndOktaTokenOfAnOrgAdmin_ShowsGrantedAndMissing()
    {
        var ct = TestContext.Current.CancellationToken;
        _login = await EntraLoginEmulator.StartAsync(TimeProvider.System, ct);
        _login.RegisterApp(TenantId, ClientId, ClientSecret, "User.ReadWrite.All", "AuditLog.Read.All", "Directory.Read.All", "Policy.Read.All", "RoleManagement.Read.Directory", "IdentityRiskyUser.Read.All");
        _graph = await GraphEmulator.StartAsync(TimeProvider.System, ct);
        _graph.AcceptToken = _login.Accepts;
        _okta = await OktaEmulatorServer.StartAsync(TimeProvider.System, ct);
        var admin = _okta.Org.AddUser("00uadminrespond0001", "respond.admin@corp.example.com");
        admin.Roles.Add("ORG_ADMIN");
        _okta.Org.ApiTokenOwner = admin.Id;

        _temp.Write("rules/entra/entra-revoke.yaml", Rule("entra-revoke", "entra", "revoke_sessions"));
        _temp.Write("rules/okta/okta-disable.yaml", Rule("okta-disable", "okta", "disable_user"));
        _temp.Write("respond.yaml", $$"""
            rules: rules
            audit: { connection: {{Path.Combine(_temp.Path, "respond.db")}} }
            connectors:
              entra: { kind: entra, tenant_id: {{TenantId}}, client_id: {{ClientId}}, auth: client_secret, base_url: "{{_graph.BaseUrl}}", authority_host: "{{_login.AuthorityHost}}", state_file: state/entra-policies.json }
              okta: { kind: okta, base_url: "{{_okta.BaseUrl}}", auth: api_token }
            """);
        var environment = new Dictionary<string, string>
        {
            ["RESPOND_ENTRA_CLIENT_SECRET"] = ClientSecret,
            ["RESPOND_OKTA_API_TOKEN"] = _okta.Org.ApiToken,
            ["SSL_CERT_FILE"] = _login.CaFile,
        };

        var json = await CliProcess.RunAsync(_temp.Path, environment, "doctor", "--format", "json");
        var text = await CliProcess.RunAsync(_temp.Path, environment, "doctor");

        json.ExitCode.Should().Be(0, json.Error);
        using var document = JsonDocument.Parse(json.Output);
        var rows = document.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("provider").GetString()!);
        var entra = rows["entra"];
        Strings(entra, "permissions_granted").Should().Contain(["User.ReadWrite.All", "AuditLog.Read.All"]);
        Strings(entra, "permissions_missing").Should().Equal("User.RevokeSessions.All");
        entra.GetProperty("permissions_granted_source").GetString().Should().Contain("roles claim");
        var okta = rows["okta"];
        Strings(okta, "permissions_granted").Should().Equal("ORG_ADMIN");
        okta.GetProperty("permissions_granted_source").GetString().Should().Contain("respond.admin@corp.example.com").And.Contain("API token");
        okta.GetProperty("permissions_missing").ValueKind.Should().Be(JsonValueKind.Array);
        Strings(okta, "permissions_missing").Should().BeEmpty("admin roles are not scopes: nothing is claimed missing that cannot be compared");

        text.ExitCode.Should().Be(0, text.Error);
        text.Output.Should().Contain("MISSING: User.RevokeSessions.All").And.Contain("granted (the roles claim of the app's access token): ")
            .And.Contain("ORG_ADMIN");
    }

    [Theory]
    [InlineData(new[] { "User.ReadWrite.All" }, new[] { "User.Read.All", "User.ReadWrite.All" }, new string[0])]
    [InlineData(new[] { "Directory.ReadWrite.All" }, new[] { "User.Read.All", "GroupMember.Read.All (identity lookup)", "GroupMember.ReadWrite.All" }, new[] { "GroupMember.ReadWrite.All" })]
    [InlineData(new[] { "okta.users.manage" }, new[] { "okta.users.read", "okta.groups.read and okta.roles.read (identity lookup)" }, new[] { "okta.groups.read" })]
    [InlineData(new string[0], new[] { "a privileged role for the app when the target is an admin", "Write property pwdLastSet" }, new string[0])]
    public void Missing_ReadWriteCoversReadAndSentencesAreLeftOut(string[] granted, string[] needed, string[] missing) =>
        new GrantedPermissions([.. granted], true, "test").Missing(needed).Should().Equal(missing);

    private static string[] Strings(JsonElement row, string name) =>
        [.. row.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    private static string Rule(string id, string provider, string action) => $$"""
        id: {{id}}
        title: {{action}} on a takeover
        owner: tests
        mode: enforce
        match: { types: [account_takeover], providers: [{{provider}}] }
        actions:
          - action: {{action}}
        tests:
          - name: a takeover acts
            finding: { type: account_takeover, severity: high, subject: { provider: {{provider}}, name: someone } }
            expect: [{{action}}]
          - name: other findings are left alone
            finding: { type: weak_password, severity: high, subject: { provider: {{provider}}, name: someone } }
            expect: []
        """;
}
