namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>respond.yaml connectors.ad settings, as the configuration loader hands them over.</summary>
public sealed class AdSettingsTests
{
    [Fact]
    public void Read_FullSettings_BuildsTheOptions()
    {
        var (options, problems) = AdSettings.Read(new Dictionary<string, string>
        {
            ["kind"] = "ldap",
            ["server"] = "dc1.corp.example.com",
            ["port"] = "636",
            ["base_dn"] = "DC=corp,DC=example,DC=com",
            ["bind_dn"] = "svc-respond@corp.example.com",
            ["password_env"] = "RESPOND_AD_PASSWORD",
            ["timeout_seconds"] = "10",
            ["retry_attempts"] = "3",
        });

        problems.Should().BeEmpty();
        options!.Server.Should().Be("dc1.corp.example.com");
        options.Timeout.Should().Be(TimeSpan.FromSeconds(10));
        options.Retry.MaxAttempts.Should().Be(3);
        options.InsecureSkipCertificateValidation.Should().BeFalse();
    }

    [Fact]
    public void Read_BadSettings_ReportsEveryProblem()
    {
        var (options, problems) = AdSettings.Read(new Dictionary<string, string>
        {
            ["server"] = "dc1",
            ["port"] = "ldaps",
            ["password"] = "never here",
            ["auth"] = "digest",
            ["insecure_skip_certificate_validation"] = "maybe",
        });

        options.Should().BeNull();
        string.Join("\n", problems).Should().Contain("connectors.ad.password is not a setting").And.Contain("'ldaps' is not a whole number")
            .And.Contain("digest").And.Contain("maybe").And.Contain("base_dn");
    }
}
