using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>
/// authority_host: the Azure clouds are validated by Microsoft's instance discovery; any other host is used as configured
/// (discovery off), and it must be https, as Azure.Identity requires. The sign-in itself against such a host is shown by
/// ServeDirectoriesEndToEndTests (a `respond serve` process signing in at the identity platform emulator).
/// </summary>
public sealed class EntraAuthorityTests
{
    [Theory]
    [InlineData("https://login.microsoftonline.com/", true)]
    [InlineData("https://LOGIN.MICROSOFTONLINE.COM", true)]
    [InlineData("https://login.microsoftonline.us/", true)]
    [InlineData("https://login.chinacloudapi.cn/", true)]
    [InlineData("https://adfs.contoso.local/adfs/", false)]
    [InlineData("https://127.0.0.1:44321/", false)]
    [InlineData("https://login.microsoftonline.com.attacker.example/", false)]
    public void IsAzureCloud_KnownCloudsOnly(string authority, bool azure) =>
        GraphTransport.IsAzureCloud(new Uri(authority)).Should().Be(azure);

    [Fact]
    public void Create_PlainHttpAuthorityHost_IsRefusedAtStart()
    {
        var options = new EntraOptions
        {
            TenantId = "11111111-2222-3333-4444-555555555555",
            ClientId = "66666666-7777-8888-9999-000000000000",
            Auth = EntraAuthMode.ClientSecret,
            ClientSecret = "secret",
            AuthorityHost = new Uri("http://127.0.0.1:8080/"),
        };

        var create = () => EntraConnector.Create(options, PrivilegedPolicy.Default, TimeProvider.System);

        create.Should().Throw<ArgumentException>().Which.Message.Should().ContainEquivalentOf("https");
    }
}
