namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>respond.yaml connectors.entra: every problem at once, secrets from the environment or a file, never from the file itself.</summary>
public sealed class EntraSettingsTests
{
    private const string Tenant = "11111111-2222-3333-4444-555555555555";
    private const string Client = "66666666-7777-8888-9999-000000000000";

    [Fact]
    public void Read_ClientSecretFromTheDefaultVariable_IsUsable()
    {
        var (options, problems) = EntraSettings.Read(
            new Dictionary<string, string> { ["kind"] = "entra", ["tenant_id"] = Tenant, ["client_id"] = Client, ["auth"] = "client_secret" },
            name => name == "RESPOND_ENTRA_CLIENT_SECRET" ? "s3cret" : null, _ => throw new IOException());

        problems.Should().BeEmpty();
        options!.ClientSecret.Should().Be("s3cret");
        options.BaseUrl.Should().Be(EntraOptions.DefaultBaseUrl);
        options.StateFile.Should().Be("respond.state/entra-policies.json");
        options.ToString().Should().NotContain("s3cret", "the options never print their secrets").And.Contain("ClientSecret = ***");
    }

    [Fact]
    public void Read_Certificate_NeedsTheFile_AndAPasswordVariableThatIsSet()
    {
        var (options, problems) = EntraSettings.Read(
            new Dictionary<string, string> { ["tenant_id"] = Tenant, ["client_id"] = Client, ["certificate_password_env"] = "PFX_PASSWORD" },
            _ => null, _ => "");

        options.Should().BeNull();
        problems.Should().Contain(p => p.Contains("certificate_file", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("PFX_PASSWORD", StringComparison.Ordinal) && p.Contains("not set", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_EveryProblemAtOnce()
    {
        var (options, problems) = EntraSettings.Read(new Dictionary<string, string>
        {
            ["tenant_id"] = "contoso.onmicrosoft.com",
            ["client_id"] = "x",
            ["auth"] = "password",
            ["base_url"] = "http://graph.example.com/v1.0",
            ["policy_state"] = "on",
            ["max_retries"] = "many",
            ["client_secret"] = "written in the file",
        }, _ => null, _ => "");

        options.Should().BeNull();
        problems.Should().Contain(p => p.StartsWith("connectors.entra.client_secret is not a setting", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("tenant_id must be the directory (tenant) id", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("client_id must be the application (client) id", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("auth is 'password'", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("base_url must be an absolute https URL", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("policy_state", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("max_retries must be a whole number", StringComparison.Ordinal));
        problems.Should().NotContain(p => p.Contains("written in the file", StringComparison.Ordinal), "a secret put in the file is never echoed");
    }

    [Fact]
    public void Read_SecretFile_IsReadAndTrimmed()
    {
        var (options, problems) = EntraSettings.Read(new Dictionary<string, string>
        {
            ["tenant_id"] = Tenant, ["client_id"] = Client, ["auth"] = "client_secret", ["client_secret_file"] = "/run/secrets/entra",
        }, _ => null, path => path == "/run/secrets/entra" ? "from-file\n" : throw new FileNotFoundException(path));

        problems.Should().BeEmpty();
        options!.ClientSecret.Should().Be("from-file");
    }

    [Fact]
    public void Read_WritePacing_DefaultsToGraphsLimitAndIsCheckedWhenSet()
    {
        var settings = new Dictionary<string, string> { ["tenant_id"] = Tenant, ["client_id"] = Client, ["auth"] = "client_secret" };
        string? Secret(string name) => name == "RESPOND_ENTRA_CLIENT_SECRET" ? "s3cret" : null;

        var (defaults, _) = EntraSettings.Read(settings, Secret, _ => "");
        var (set, setProblems) = EntraSettings.Read(new Dictionary<string, string>(settings) { ["writes_per_second"] = "7.5", ["write_burst"] = "3" }, Secret, _ => "");
        var (off, _) = EntraSettings.Read(new Dictionary<string, string>(settings) { ["writes_per_second"] = "0" }, Secret, _ => "");
        var (bad, problems) = EntraSettings.Read(new Dictionary<string, string>(settings) { ["writes_per_second"] = "fast", ["write_burst"] = "0" }, Secret, _ => "");
        var (negative, negativeProblems) = EntraSettings.Read(new Dictionary<string, string>(settings) { ["writes_per_second"] = "-1" }, Secret, _ => "");

        defaults!.WritesPerSecond.Should().Be(20, "Graph documents about 3,000 writes per 150 s per app and tenant");
        defaults.WriteBurst.Should().Be(20);
        setProblems.Should().BeEmpty();
        set!.WritesPerSecond.Should().Be(7.5);
        set.WriteBurst.Should().Be(3);
        off!.WritesPerSecond.Should().Be(0);
        bad.Should().BeNull();
        problems.Should().Contain(p => p.Contains("writes_per_second must be a number", StringComparison.Ordinal) && p.Contains("'fast'", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("write_burst must be 1 or more", StringComparison.Ordinal));
        negative.Should().BeNull();
        negativeProblems.Should().Contain(p => p.Contains("writes_per_second must be between 0 (no pacing) and 10000", StringComparison.Ordinal));
    }
}
