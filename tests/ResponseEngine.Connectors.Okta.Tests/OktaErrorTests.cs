using System.Net;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.Okta;
using static ResponseEngine.Connectors.Okta.Tests.OktaTestData;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>Okta's errors (errorCode, errorSummary, errorCauses) become readable connector failures.</summary>
public sealed class OktaErrorTests
{
    [Fact]
    public async Task Read_UnknownUser_IsNotFoundAndPermanent()
    {
        await using var harness = new OktaHarness();

        var failure = await harness.Invoking(h => h.Connector.ReadAsync(Request("disable_user", "00unknown"), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Transient.Should().BeFalse();
        failure.Which.Message.Should().Contain("00unknown");
    }

    [Fact]
    public void ToException_NotFound_MapsE0000007WithTheErrorId()
    {
        var message = OktaErrors.ToException("remove user 00u1 from group 00g1", HttpStatusCode.NotFound,
            """{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: 00g1 (UserGroup)","errorId":"oae1","errorCauses":[]}""", "okta.groups.manage").Message;

        message.Should().Be("Okta refused to remove user 00u1 from group 00g1: E0000007 Not found: Resource not found: 00g1 (UserGroup) [errorId oae1]. " +
            "The user or group does not exist (or was deleted) in this Okta org.");
    }

    [Fact]
    public async Task Apply_TokenWithoutTheScope_NamesTheMissingScope()
    {
        await using var harness = new OktaHarness(configure: (emulator, options) => options with
        {
            Auth = OktaAuthMode.ServiceApp,
            ClientId = "0oa-engine",
            PrivateKeyPem = emulator.RegisterServiceApp("0oa-engine", "okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read"),
            Scopes = ["okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read"],
        });
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");

        (await harness.Connector.ReadAsync(Request("disable_user", "00u1"), Cancel)).AlreadyDone.Should().BeFalse("reading needs only read scopes");
        var failure = await harness.Invoking(h => h.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("E0000006").And.Contain("grant the service app the scope okta.users.manage");
        failure.Which.Transient.Should().BeFalse();
    }

    [Fact]
    public async Task Resolve_BadApiToken_SaysTheTokenIsInvalid()
    {
        await using var harness = new OktaHarness(configure: (_, options) => options with { ApiToken = "wrong" });

        var failure = await harness.Invoking(h => h.Connector.ResolveAsync(new Subject(Provider.Okta, "00u1", null), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("E0000011 Invalid token provided").And.Contain("API token");
    }

    [Fact]
    public void ToException_ValidationFailure_ListsTheCausesAndTheHint()
    {
        var exception = OktaErrors.ToException("suspend user 00u1", HttpStatusCode.BadRequest,
            """{"errorCode":"E0000001","errorSummary":"Api validation failed: suspend","errorCauses":[{"errorSummary":"Cannot suspend a user whose status is STAGED."}]}""",
            "okta.users.manage", "Okta suspends only ACTIVE users");

        exception.Message.Should().Be("Okta refused to suspend user 00u1: E0000001 Api validation failed: suspend (Cannot suspend a user whose status is STAGED.). " +
            "The user is not in a status this operation applies to: Okta suspends only ACTIVE users.");
        exception.Transient.Should().BeFalse();
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    public void ToException_Status_IsTransientOnlyForThrottlingAndOutages(int status, bool transient)
    {
        OktaErrors.ToException("read the user", (HttpStatusCode)status, "", null).Transient.Should().Be(transient);
    }

    [Fact]
    public async Task ServiceApp_SignsAnAssertionAndCachesTheToken()
    {
        await using var harness = new OktaHarness(configure: (emulator, options) => options with
        {
            Auth = OktaAuthMode.ServiceApp,
            ClientId = "0oa-engine",
            KeyId = "key-1",
            PrivateKeyPem = emulator.RegisterServiceApp("0oa-engine", [.. OktaOptions.DefaultScopes]),
        });
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");

        await harness.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel);
        await harness.Connector.ApplyAsync(Request("enable_user", "00u1"), Cancel);

        harness.Emulator.Requests.Count(r => r.RawPath == "/oauth2/v1/token").Should().Be(1);
        harness.Emulator.Requests.Where(r => r.RawPath.StartsWith("/api/", StringComparison.Ordinal)).Should().OnlyContain(r => r.AuthScheme == "Bearer");
        harness.Emulator.Users["00u1"].Status.Should().Be("ACTIVE");
    }

    [Fact]
    public async Task ServiceApp_UnknownClient_FailsWithTheOAuthReason()
    {
        await using var harness = new OktaHarness(configure: (emulator, options) => options with
        {
            Auth = OktaAuthMode.ServiceApp,
            ClientId = "0oa-other",
            PrivateKeyPem = emulator.RegisterServiceApp("0oa-engine", [.. OktaOptions.DefaultScopes]),
        });

        var failure = await harness.Invoking(h => h.Connector.ResolveAsync(new Subject(Provider.Okta, "00u1", null), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("invalid_client").And.Contain("client id");
    }

    [Fact]
    public void Options_Invalid_ReportEveryProblem()
    {
        var options = new OktaOptions { BaseUrl = new Uri("http://example.okta.com/admin"), Auth = OktaAuthMode.ServiceApp, PageSize = 500 };

        options.Validate().Should().HaveCount(4);
        new OktaOptions { BaseUrl = new Uri("https://example.okta.com"), ApiToken = "x" }.Validate().Should().BeEmpty();
    }
}
