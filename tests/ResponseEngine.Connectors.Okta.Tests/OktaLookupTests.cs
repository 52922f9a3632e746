using ResponseEngine.Findings;
using ResponseEngine.TestKit.Okta;
using static ResponseEngine.Connectors.Okta.Tests.OktaTestData;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>Lookups by login with characters that must be escaped, paging through Link headers, and what an identity carries.</summary>
public sealed class OktaLookupTests
{
    [Theory]
    [InlineData("first+tag@corp.example.com", "/api/v1/users/first%2Btag%40corp.example.com")]
    [InlineData("a/b@corp.example.com", "/api/v1/users/a%2Fb%40corp.example.com")]
    [InlineData("with space@corp.example.com", "/api/v1/users/with%20space%40corp.example.com")]
    [InlineData("zoë.ångström@corp.example.com", "/api/v1/users/zo%C3%AB.%C3%A5ngstr%C3%B6m%40corp.example.com")]
    [InlineData("100%real?#@corp.example.com", "/api/v1/users/100%25real%3F%23%40corp.example.com")]
    public async Task Resolve_LoginNeedingEscapes_IsFoundByOneEscapedRequest(string login, string path)
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", login);

        var lookup = await harness.Connector.ResolveAsync(new Subject(Provider.Okta, null, login), Cancel);

        lookup.Identity!.Id.Should().Be("00u1");
        lookup.Identity.Name.Should().Be(login);
        harness.Emulator.Requests[0].RawPath.Should().Be(path);
    }

    [Fact]
    public async Task Resolve_ByEmailWithAPlus_SearchesWithTheValueEscaped()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat", email: "pat+sec@corp.example.com");

        var lookup = await harness.Connector.ResolveAsync(new Subject(Provider.Okta, null, "pat+sec@corp.example.com"), Cancel);

        lookup.Identity!.Id.Should().Be("00u1", "a '+' left unescaped in the query would reach Okta as a space");
    }

    [Fact]
    public async Task Resolve_Identity_CarriesStatusGroupTypesRolesAndPrivilege()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com", "PASSWORD_EXPIRED");
        user.Roles.Add("ORG_ADMIN");
        harness.Emulator.AddGroup("00g1", "Okta Admins").Members.Add("00u1");
        harness.Emulator.AddGroup("00g2", "Salesforce", "APP_GROUP").Members.Add("00u1");

        var identity = (await harness.Connector.ResolveAsync(new Subject(Provider.Okta, "00u1", null), Cancel)).Identity!;

        identity.OktaStatus.Should().Be("PASSWORD_EXPIRED");
        identity.Enabled.Should().BeTrue("a user whose password expired can still sign in to change it");
        identity.Groups.Select(g => (g.Name, g.OktaType)).Should().BeEquivalentTo([("Okta Admins", "OKTA_GROUP"), ("Salesforce", "APP_GROUP")]);
        identity.Roles.Should().Equal("ORG_ADMIN");
        identity.Privileged.Should().BeTrue("ORG_ADMIN is privileged by default");
        identity.LastSignInAt.Should().Be(user.LastLogin);
    }

    [Fact]
    public async Task Lists_LongerThanOnePage_AreFollowedThroughLinkHeaders()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.MaxPageSize = 2;
        var admins = harness.Emulator.AddGroup("00g1", "Okta Admins");
        for (var i = 0; i < 7; i++)
        {
            var user = harness.Emulator.AddUser($"00u{i}", $"user{i}@corp.example.com", i == 3 ? "SUSPENDED" : "ACTIVE");
            admins.Members.Add(user.Id);
            user.Roles.Add("SUPER_ADMIN");
            harness.Emulator.AddGroup($"00g-extra{i}", $"Extra {i}").Members.Add("00u0");
        }

        var members = await harness.Connector.CountCriticalAsync("Okta Admins", Cancel);
        var holders = await harness.Connector.CountCriticalAsync("SUPER_ADMIN", Cancel);
        var identity = (await harness.Connector.ResolveAsync(new Subject(Provider.Okta, "00u0", null), Cancel)).Identity!;

        members.EnabledMemberIds.Should().HaveCount(6).And.NotContain("00u3");
        holders.EnabledMemberIds.Should().HaveCount(6).And.NotContain("00u3");
        identity.Groups.Should().HaveCount(8);
        harness.Emulator.Requests.Count(r => r.RawPath == "/api/v1/groups/00g1/users").Should().Be(4);
        harness.Emulator.Requests.Count(r => r.RawPath == "/api/v1/iam/assignees/users").Should().Be(4, "assignees page through _links.next");
        harness.Emulator.Requests.Where(r => r.RawPath == "/api/v1/groups/00g1/users").Skip(1).Should().OnlyContain(r => r.Query.Contains("after=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CountCritical_GroupRuleMembers_AreCountedAndNotDirect()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.AddGroup("00g1", "Engineers").Members.Add("00u1");
        harness.Emulator.AddGroup("00g2", "Prod Access");
        harness.Emulator.Rules.Add(new EmulatedGroupRule("0pr1", "engineers get prod", ["00g1"], ["00g2"]));

        var set = await harness.Connector.CountCriticalAsync("Prod Access", Cancel);
        var identity = (await harness.Connector.ResolveAsync(new Subject(Provider.Okta, "00u1", null), Cancel)).Identity!;
        var read = await harness.Connector.ReadAsync(Request("revoke_group", "00u1", Groups("Prod Access")), Cancel);

        set.EnabledMemberIds.Should().Equal("00u1");
        identity.Groups.Select(g => g.Name).Should().Equal("Engineers");
        identity.IsMemberOf("Prod Access").Should().BeTrue();
        read.AlreadyDone.Should().BeTrue("a rule-managed membership is not removed: the rule would add it back");
    }
}
