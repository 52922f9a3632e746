namespace ResponseEngine.Connectors.Okta.Tests;

public sealed class OktaSettingsTests
{
    [Fact]
    public void Read_ApiToken_TakesTheTokenFromTheNamedVariable()
    {
        var (options, problems) = OktaSettings.Read(
            new Dictionary<string, string> { ["base_url"] = "https://example.okta.com", ["token_env"] = "MY_TOKEN", ["max_retries"] = "3" },
            name => name == "MY_TOKEN" ? "00abc" : null, _ => throw new IOException("no files"));

        problems.Should().BeEmpty();
        options!.ApiToken.Should().Be("00abc");
        options.MaxRetries.Should().Be(3);
        options.Scopes.Should().Equal(OktaOptions.DefaultScopes);
    }

    [Fact]
    public void Read_ServiceApp_ReadsTheKeyFileAndScopes()
    {
        var (options, problems) = OktaSettings.Read(
            new Dictionary<string, string>
            {
                ["base_url"] = "https://example.okta.com", ["auth"] = "service_app", ["client_id"] = "0oa1", ["private_key_file"] = "/run/secrets/okta.pem",
                ["scopes"] = "okta.users.manage okta.groups.manage",
            },
            _ => null, path => path == "/run/secrets/okta.pem" ? "-----BEGIN PRIVATE KEY-----" : throw new IOException("missing"));

        problems.Should().BeEmpty();
        options!.Auth.Should().Be(OktaAuthMode.ServiceApp);
        options.PrivateKeyPem.Should().StartWith("-----BEGIN");
        options.Scopes.Should().Equal("okta.users.manage", "okta.groups.manage");
    }

    [Fact]
    public void Read_Bad_ReportsEveryProblem()
    {
        var (options, problems) = OktaSettings.Read(
            new Dictionary<string, string> { ["base_url"] = "https://example.okta.com", ["auth"] = "password", ["page_size"] = "lots", ["colour"] = "blue" },
            _ => null, _ => "");

        options.Should().BeNull();
        problems.Should().Contain(p => p.Contains("'colour'", StringComparison.Ordinal))
            .And.Contain(p => p.Contains("not api_token or service_app", StringComparison.Ordinal))
            .And.Contain(p => p.Contains("page_size", StringComparison.Ordinal))
            .And.Contain(p => p.Contains("RESPOND_OKTA_API_TOKEN", StringComparison.Ordinal));
    }
}
