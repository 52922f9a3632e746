using ResponseEngine.TestKit;
namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>
/// Configuration that would send credentials or the audit trail without verifying the server's certificate is refused
/// with a positioned error (exit 2), unless it is explicitly marked insecure: the SQL Server audit connection
/// (TrustServerCertificate=true, Encrypt=false/optional), and Okta over plain http to anything but loopback. The
/// AD connector has no plain-LDAP mode at all and its switch is named insecure_skip_certificate_validation.
/// </summary>
public sealed class TlsSettingsTests
{
    private const string Password = "S3cr3t-tls-test-pw-33aa";

    [Theory]
    [InlineData("TrustServerCertificate=true", "TrustServerCertificate=true")]
    [InlineData("Trust Server Certificate=yes", "TrustServerCertificate=true")]
    [InlineData("Encrypt=false", "Encrypt=false")]
    [InlineData("Encrypt=Optional", "Encrypt=optional")]
    public async Task SqlServerAudit_CertificateValidationOff_RefusedWithPosition(string setting, string named)
    {
        using var folder = new TempDirectory();
        folder.Write("respond.yaml", $"""
            audit:
              store: sqlserver
              connection: "Server=127.0.0.1,1;Database=respond;User Id=respond;Password={Password};{setting}"
            """);

        var result = await Respond.RunAsync(folder.Path, new Dictionary<string, string>(), "audit", "list");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().MatchRegex(@"respond\.yaml:3:\d+: error RE0005: audit\.connection turns off TLS certificate validation")
            .And.Contain(named).And.Contain("insecure_skip_certificate_validation: true");
        (result.Output + result.Error).Should().NotContain(Password, "the connection string is never echoed");
    }

    [Fact]
    public async Task SqlServerAudit_CertificateValidationOffByEnvironment_Refused()
    {
        using var folder = new TempDirectory();
        var environment = new Dictionary<string, string>
        {
            ["RESPOND__AUDIT__STORE"] = "sqlserver",
            ["RESPOND__AUDIT__CONNECTION"] = $"Server=127.0.0.1,1;Password={Password};TrustServerCertificate=True",
        };

        var result = await Respond.RunAsync(folder.Path, environment, "audit", "list");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("audit.connection turns off TLS certificate validation");
        (result.Output + result.Error).Should().NotContain(Password);
    }

    [Fact]
    public async Task SqlServerAudit_MarkedInsecure_IsAccepted()
    {
        using var folder = new TempDirectory();
        folder.Write("respond.yaml", """
            audit:
              store: sqlserver
              connection: "Server=127.0.0.1,1;Database=respond;User Id=respond;Password=x;TrustServerCertificate=true;Connect Timeout=2"
              insecure_skip_certificate_validation: true
            """);

        var result = await Respond.RunAsync(folder.Path, new Dictionary<string, string>(), "audit", "list");

        result.Error.Should().NotContain("turns off TLS", "the lab switch accepts it");
        result.ExitCode.Should().NotBe(2, result.ToString());
    }

    [Theory]
    [InlineData("okta", "kind: okta\n    base_url: http://example.okta.com\n    token_env: RESPOND_TEST_NO_SUCH_TOKEN", "https")]
    public async Task Connector_PlainHttpToARemoteHost_Refused(string provider, string settings, string expected)
    {
        using var folder = new TempDirectory();
        Respond.CopyDefaults(folder.Path);
        folder.Write("respond.yaml", $"connectors:\n  {provider}:\n    {settings}\n");

        var result = await Respond.RunAsync(folder.Path, new Dictionary<string, string>(), "run", "--once", "--dry-run");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain(expected).And.Contain("base_url");
    }
}
