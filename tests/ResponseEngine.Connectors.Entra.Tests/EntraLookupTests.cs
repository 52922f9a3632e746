using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.Graph;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>Lookups: OData escaping, the facts guards need, paging, lockout counts; and the emulator's list endpoints the pollers use.</summary>
public sealed class EntraLookupTests
{
    [Fact]
    public async Task Resolve_UpnWithAQuote_IsEscapedByDoublingIt()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.AddUser("u-ob", "o'brien@corp.example.com");

        var lookup = await h.ResolveAsync("o'brien@corp.example.com");

        lookup.Identity!.Id.Should().Be("u-ob");
        var search = h.Emulator.Requests.First(r => r.Path == "/users" && r.Method == "GET");
        search.DecodedQuery.Should().Contain("userPrincipalName eq 'o''brien@corp.example.com'");
        search.Status.Should().Be(200);
    }

    [Theory]
    [InlineData("x' or userType eq 'Member")]
    [InlineData("' or '1' eq '1")]
    [InlineData("pat@corp.example.com' or mail ne 'x")]
    public async Task Resolve_FilterInjection_MatchesNobody(string name)
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.AddUser("u-2", "sam@corp.example.com");

        var lookup = await h.ResolveAsync(name);

        lookup.Identity.Should().BeNull();
        lookup.Problem.Should().Contain("no Entra account matches");
    }

    [Fact]
    public async Task Resolve_ReadsGuestSyncedDynamicRolesAndTransitiveGroups()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com", userType: "Guest");
        var outer = h.Emulator.AddGroup("g-outer", "Outer");
        var dyn = h.Emulator.AddGroup("g-dyn", "Sales Dynamic", dynamic: true);
        dyn.Members.Add(user.Id);
        outer.Members.Add(dyn.Id);
        h.Emulator.AssignRole(user.Id, "Privileged Role Administrator");

        var identity = (await h.ResolveAsync("pat")).Identity!;

        identity.Guest.Should().BeTrue();
        identity.Groups.Should().ContainSingle().Which.Dynamic.Should().BeTrue();
        identity.TransitiveGroups.Should().BeEquivalentTo(["Sales Dynamic", "Outer"]);
        identity.Roles.Should().Equal("Privileged Role Administrator");
        identity.Privileged.Should().BeTrue();
        identity.GlobalAdmin.Should().BeTrue("Privileged Role Administrator is global-admin level");
        h.Emulator.Requests.Count(r => r.Path == "/$batch").Should().Be(1, "groups, roles and risk are read in one batch");
    }

    [Fact]
    public async Task CountCritical_PagesThroughNextLinks_AndCountsEnabledHoldersOnly()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.PageSize = 3;
        var admins = Enumerable.Range(1, 10).Select(i => h.Emulator.AddUser($"u-{i:D2}", $"admin{i}@corp.example.com", enabled: i % 4 != 0)).ToList();
        foreach (var admin in admins) h.Emulator.AssignRole(admin.Id, "Global Administrator");
        var group = h.Emulator.AddGroup("g-t0", "Tier0");
        foreach (var admin in admins) group.Members.Add(admin.Id);

        var role = await h.Connector.CountCriticalAsync("Global Administrator", Cancel);
        var members = await h.Connector.CountCriticalAsync("Tier0", Cancel);

        role.EnabledMemberIds.Should().HaveCount(8, "u-04 and u-08 are disabled");
        members.EnabledMemberIds.Should().BeEquivalentTo(role.EnabledMemberIds);
        h.Emulator.Requests.Should().Contain(r => r.Query.Contains("skiptoken", StringComparison.Ordinal), "pages were followed");
    }

    [Fact]
    public async Task Emulator_AlertsAndRiskyUsers_FilterAndPageAsGraphDoes()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.PageSize = 2;
        var users = Enumerable.Range(1, 5).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();
        var old = h.Emulator.AddAlert("old", "low", users[0]);
        old.LastUpdateDateTime = EntraHarness.Start.AddDays(-2);
        foreach (var user in users) h.Emulator.AddAlert($"Suspicious sign-in for {user.UserPrincipalName}", "high", user);
        h.Emulator.SetRisk(users[0].Id, "high");
        h.Emulator.SetRisk(users[1].Id, "high");
        h.Emulator.SetRisk(users[2].Id, "high");
        h.Emulator.SetRisk(users[3].Id, "low");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GraphEmulator.Token);

        var since = Uri.EscapeDataString(EntraHarness.Start.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        var alerts = await AllAsync(http, $"{h.Emulator.BaseUrl}/security/alerts_v2?$filter=lastUpdateDateTime%20gt%20{since}");
        var risky = await AllAsync(http, $"{h.Emulator.BaseUrl}/identityProtection/riskyUsers?$filter=riskLevel%20eq%20'high'");

        alerts.Should().HaveCount(5, "the old alert is filtered out");
        var evidence = alerts[0]["evidence"]![0]!;
        evidence["@odata.type"]!.GetValue<string>().Should().Be("#microsoft.graph.security.userEvidence");
        evidence["userAccount"]!["azureAdUserId"]!.GetValue<string>().Should().Be("u-1");
        evidence["userAccount"]!["userPrincipalName"]!.GetValue<string>().Should().Be("user1@corp.example.com");
        risky.Select(r => r["id"]!.GetValue<string>()).Should().Equal("u-1", "u-2", "u-3");
        risky.Should().OnlyContain(r => r["riskState"]!.GetValue<string>() == "atRisk");
    }

    private static async Task<List<JsonNode>> AllAsync(HttpClient http, string url)
    {
        var items = new List<JsonNode>();
        string? next = url;
        var pages = 0;
        while (next is not null)
        {
            var page = JsonNode.Parse(await http.GetStringAsync(new Uri(next), Cancel))!;
            items.AddRange(page["value"]!.AsArray().Select(v => v!));
            next = page["@odata.nextLink"]?.GetValue<string>();
            (++pages).Should().BeLessThan(20);
        }

        return items;
    }
}
