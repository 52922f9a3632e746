using System.Collections;
using ResponseEngine.Configuration;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The `console` section of respond.yaml: OIDC, role mapping and API tokens read; every mistake positioned; no secret ever in the file or echoed.</summary>
public class ConsoleConfigTests
{
    private static readonly IDictionary NoEnvironment = new Hashtable();

    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void Load_ConsoleSection_ReadsOidcRolesAndTokens()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", $"""
            console:
              session_idle: 2h
              oidc:
                authority: https://login.microsoftonline.com/contoso/v2.0
                client_id: 11111111-2222-3333-4444-555555555555
                client_secret_env: RESPOND_CONSOLE_SECRET
                name_claim: email
                role_claims: [groups]
              roles:
                viewer: [sg-soc-readers, sg-soc-analysts]
                approver: [sg-soc-analysts]
                operator: [sg-soc-leads, alice@corp.example]
              tokens:
                soar: {"{"} role: approver, sha256: {Hash.ToUpperInvariant()} {"}"}
                nightly: {"{"} role: viewer, env: RESPOND_CONSOLE_TOKEN_NIGHTLY {"}"}
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().BeEmpty();
        var c = load.Options!.Console;
        c.Enabled.Should().BeTrue("writing the section turns the console on");
        c.SessionIdle.Should().Be(TimeSpan.FromHours(2));
        (c.Oidc!.Authority, c.Oidc.ClientId, c.Oidc.ClientSecretEnv, c.Oidc.NameClaim).Should().Be(("https://login.microsoftonline.com/contoso/v2.0", "11111111-2222-3333-4444-555555555555", "RESPOND_CONSOLE_SECRET", "email"));
        c.Oidc.RoleClaims.Should().Equal("groups");
        c.Roles["sg-soc-readers"].Should().Be(ConsoleRole.Viewer);
        c.Roles["sg-soc-analysts"].Should().Be(ConsoleRole.Approver, "a value listed under two roles grants the higher");
        c.Roles["alice@corp.example"].Should().Be(ConsoleRole.Operator);
        c.Tokens.Should().Equal(new ConsoleTokenOptions("soar", ConsoleRole.Approver, Hash, null), new ConsoleTokenOptions("nightly", ConsoleRole.Viewer, null, "RESPOND_CONSOLE_TOKEN_NIGHTLY"));
    }

    [Fact]
    public void Load_PlanReports_IsRead_AndIsNoneByDefault()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            console:
              plan_reports: reports/plans
              tokens:
                soar: { role: viewer, env: T_SOAR }
            """);

        var c = ConfigLoader.Load(file, NoEnvironment).Options!.Console;

        c.PlanReports.Should().Be("reports/plans");
        ConsoleOptions.PlanReportsFor(new EngineOptions { Console = c }).Should().Be(Path.GetFullPath("reports/plans"), "relative to the working directory, like the other paths");
        ConsoleOptions.PlanReportsFor(new EngineOptions()).Should().BeNull();
    }

    [Fact]
    public void Load_KeyDirectoryAndForwardedHeaders_AreRead_AndABadProxyIsPositioned()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            console:
              key_directory: /srv/respond/console-keys
              forwarded_headers: [10.0.0.5, 10.1.0.0/16, "::1"]
              tokens:
                soar: { role: viewer, env: T_SOAR }
            """);

        var c = ConfigLoader.Load(file, NoEnvironment).Options!.Console;

        c.KeyDirectory.Should().Be("/srv/respond/console-keys");
        c.ForwardedHeaders.Should().Equal("10.0.0.5", "10.1.0.0/16", "::1");
        ConsoleOptions.KeyDirectoryFor(new EngineOptions { Console = c }).Should().Be("/srv/respond/console-keys");
        ConsoleOptions.KeyDirectoryFor(new EngineOptions()).Should().Be(Path.GetFullPath("respond.state/console-keys"), "by default the keys sit beside the working copy");

        var bad = temp.Write("bad.yaml", """
            console:
              forwarded_headers: [proxy.corp.example, 10.0.0.0/99]
              tokens:
                soar: { role: viewer, env: T_SOAR }
            """);
        var text = string.Join('\n', ConfigLoader.Load(bad, NoEnvironment).Diagnostics.Select(d => $"{d.Location.Line}: {d.Message}"));
        text.Should().Contain("2: 'console.forwarded_headers' has 'proxy.corp.example', not an IP address or a network")
            .And.Contain("2: 'console.forwarded_headers' has '10.0.0.0/99'");
    }

    [Fact]
    public void Load_NoConsoleSection_TheConsoleIsOff()
    {
        ConfigLoader.Load(null, NoEnvironment).Options!.Console.Enabled.Should().BeFalse();
    }

    [Fact]
    public void Load_EnabledFalse_TurnsItOff()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "console: { enabled: false }\n");

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().BeEmpty();
        load.Options!.Console.Enabled.Should().BeFalse();
    }

    [Fact]
    public void Load_BadConsole_GetsEveryProblemWithItsLineAndNeverEchoesASecret()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            console:
              oidc:
                authority: http://idp.corp.example
                client_secret_env: "pasted-secret-value!"
              roles:
                admin: [sg-everyone]
              tokens:
                pasted: { role: operator, sha256: the-raw-token-pasted-here }
                nothing: { role: viewer }
                both: { role: viewer, env: T_BOTH, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }
                wrongrole: { role: root, env: T_ROOT }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull();
        var text = string.Join('\n', load.Diagnostics.Select(d => $"{d.Location.Line}: {d.Message}"));
        text.Should().Contain("3: 'console.oidc.authority' is 'http://idp.corp.example', not an https URL");
        text.Should().Contain("missing required field 'client_id'");
        text.Should().Contain("4: 'console.oidc': 'client_secret_env' must name an environment variable");
        text.Should().Contain("6: ").And.Contain("admin");
        text.Should().Contain("8: 'console.tokens.pasted': 'sha256' must be the token's SHA-256");
        text.Should().Contain("9: missing required field 'sha256' or 'env' in 'console.tokens.nothing'");
        text.Should().Contain("10: 'console.tokens.both' gives both 'sha256' and 'env'");
        text.Should().Contain("11: ").And.Contain("root");
        text.Should().NotContain("pasted-secret-value").And.NotContain("the-raw-token-pasted-here", "a value that may be a secret is never echoed");
    }

    [Fact]
    public void Load_EnabledWithNoWayToSignIn_IsAnError()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "console:\n  roles: { viewer: [x] }\n");

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().ContainSingle(d => d.IsError).Which.Message.Should().Contain("nobody can sign in");
    }
}
