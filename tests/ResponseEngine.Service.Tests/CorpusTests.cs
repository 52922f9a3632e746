using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Configuration;
using ResponseEngine.Service.Pollers;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Each vendor body of Corpus/ (copied from the vendors' documentation, see Corpus/SOURCES.md) read by the poller's
/// strict reader and mapped as docs/sources.md says.
/// </summary>
public sealed class CorpusTests
{
    private static readonly PollerOptions Options = new("corpus", "graph_alerts", TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string File(string name) => Path.Combine(RepoPaths.Root, "tests", "ResponseEngine.Service.Tests", "Corpus", name);

    private static async Task<JsonDocument> ReadAsync(string name)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(await System.IO.File.ReadAllBytesAsync(File(name), Ct)) };
        return await VendorRecords.ReadAsync(response, "vendor", name, new FakeTimeProvider(), Ct);
    }

    [Fact]
    public async Task GraphAlertsV2ListExample_OnlyTheSystemAccount_NoFindingAndNothingRejected()
    {
        using var page = await ReadAsync("graph-alerts_v2-list-v1.0.json");
        var (entries, rejected) = VendorRecords.MapAll(page.RootElement.GetProperty("value"), "graph_alerts:corpus", _ => null,
            alert => GraphAlerts.Map(alert, Options).Select(r => GraphAlertsPoller.Check(r, "graph_alerts:corpus")));

        entries.Should().BeEmpty("the only account in the evidence is NT AUTHORITY\\SYSTEM (S-1-5-18), which is no one to act on");
        rejected.Should().BeEmpty("the U+FFFD characters in recommendedActions are valid text");
        var alert = JsonNode.Parse(page.RootElement.GetProperty("value")[0].GetRawText())!.AsObject();
        GraphAlerts.Type((string?)alert["detectorId"], (string?)alert["title"], (string?)alert["category"]).Should().Be("defense_evasion", "no table entry matches: the category is the fallback");
        GraphAlerts.Severity((string?)alert["severity"]).Should().Be("low");
    }

    [Fact]
    public async Task GraphAlertsV2ListExample_TheSameAlertWithItsAccountAsAnOnPremisesUser_IsAnAdSubject()
    {
        using var page = await ReadAsync("graph-alerts_v2-list-v1.0.json");
        var alert = JsonNode.Parse(page.RootElement.GetProperty("value")[0].GetRawText())!.AsObject();

        // The documented alert, its process evidence's account being a domain user instead of SYSTEM (the fields and their
        // shape are the documented userAccount's): the mapping names it by its SID and DOMAIN\account.
        var account = alert["evidence"]![2]!["userAccount"]!.AsObject();
        account["accountName"] = "ann";
        account["domainName"] = "CORP";
        account["userSid"] = "S-1-5-21-1004336348-1177238915-682003330-1104";
        account["displayName"] = "Ann";
        var finding = GraphAlerts.Map(alert, Options).Single();

        finding["subject"]!.ToJsonString().Should().Be("""{"provider":"ad","id":"S-1-5-21-1004336348-1177238915-682003330-1104","name":"CORP\\ann"}""");
        finding["id"]!.GetValue<string>().Should().Be("da637551227677560813_-961444813:CORP\\ann", "one finding per alert and account, whatever its updates");
        finding["attributes"]!["user_sid"]!.GetValue<string>().Should().Be("S-1-5-21-1004336348-1177238915-682003330-1104");
        finding["attributes"]!["service_source"]!.GetValue<string>().Should().Be("microsoftDefenderForEndpoint");
        finding["attributes"]!["detector_id"]!.GetValue<string>().Should().Be("e0da400f-affd-43ef-b1d5-afc2eb6f2756");
        GraphAlertsPoller.Check(finding, "graph_alerts:corpus").Entry.Should().NotBeNull();

        alert["status"] = "resolved";
        GraphAlerts.Map(alert, Options).Should().BeEmpty("resolved alerts are skipped by default");
        GraphAlerts.Map(alert, Options with { Settings = Options.Settings.Add("skip_resolved", "false") }).Should().ContainSingle();
        alert["status"] = "new";
        alert["classification"] = "falsePositive";
        GraphAlerts.Map(alert, Options).Should().BeEmpty("false positives are skipped by default");
    }

    [Fact]
    public async Task GraphRiskyUsersBetaExample1_DeletedUser_IsSkipped()
    {
        using var page = await ReadAsync("graph-riskyusers-list-beta-example1.json");
        var user = JsonNode.Parse(page.RootElement.GetProperty("value")[0].GetRawText())!.AsObject();

        GraphRiskyUsers.Map(user, Options).Should().BeNull("isDeleted: true — no action is planned for a deleted user");
        user["isDeleted"] = false;
        var finding = GraphRiskyUsers.Map(user, Options)!;
        finding["severity"]!.GetValue<string>().Should().Be("high");
        finding["attributes"]!["risk_detail"]!.GetValue<string>().Should().Be("adminConfirmedSigninCompromised");
        finding["subject"]!.ToJsonString().Should().Be("""{"provider":"entra","id":"c2b6c2b9-dddc-acd0-2b39-d519d803dbc3","name":"alexw@contoso.com"}""");
    }

    [Fact]
    public async Task GraphRiskyUsersBetaExample2_TrailingComma_IsASourceFaultNotACrash()
    {
        var read = () => ReadAsync("graph-riskyusers-list-beta-example2.json");

        (await read.Should().ThrowAsync<PollerException>()).Which.Message.Should().Contain("not JSON");
    }

    [Fact]
    public async Task OktaLogEventExample_SignInWithoutRisk_IsNoFinding()
    {
        var evt = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File("okta-logevent-example.json"), Ct))!.AsObject();

        OktaLogPoller.Map(evt, Options).Should().BeNull("user.session.start is a finding only when Okta rates the risk medium or high or suspects a threat");
        evt["debugContext"]!["debugData"]!["risk"] = "{level=HIGH, reasons=Anomalous Location}";
        var finding = OktaLogPoller.Map(evt, Options)!;
        finding["attributes"]!["actor_login"]!.GetValue<string>().Should().Be("admin@example.com");
        finding["attributes"]!["outcome"]!.GetValue<string>().Should().Be("SUCCESS");
        GraphAlertsPoller.Check(finding, "okta_logs:corpus").Problem.Should().Contain("observed_at", "2017-09-31 is not a date: the event is quarantined, not dropped silently");
    }

    [Fact]
    public async Task OktaEventHookSample_SignInWithoutRisk_IsNoFindingAndItsActorIsKept()
    {
        var delivery = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File("okta-event-hook-sample.json"), Ct))!;
        var evt = delivery["data"]!["events"]![0]!.AsObject();

        OktaLogPoller.Map(evt, Options).Should().BeNull("user.session.start is a finding only when Okta rates the risk medium or high or suspects a threat");
        evt["debugContext"] = new JsonObject { ["debugData"] = new JsonObject { ["risk"] = "{level=HIGH, reasons=Anomalous Location}" } };
        var finding = OktaLogPoller.Map(evt, Options)!;
        finding["subject"]!.ToJsonString().Should().Be("""{"provider":"okta","id":"00u1qw6mqitPHM8AJ0g7","name":"admin@example.com"}""", "no target: the actor is the user");
        (finding["type"]!.GetValue<string>(), finding["severity"]!.GetValue<string>()).Should().Be(("suspicious_sign_in", "high"));
        finding["attributes"]!["outcome"]!.GetValue<string>().Should().Be("SUCCESS");
        GraphAlertsPoller.Check(finding, "okta_logs:corpus").Entry.Should().NotBeNull("2018-03-28T22:23:07.777Z is a date");
    }

    /// <summary>The providers each source's findings name.</summary>
    private static readonly (string Source, Findings.Provider[] Providers, string[] Types)[] MappingTables =
    [
        ("graph_alerts", [Findings.Provider.Entra, Findings.Provider.Ad], [.. GraphAlerts.Types.Select(t => t.Type).Distinct()]),
        ("graph_risky_users", [Findings.Provider.Entra], ["risky_user"]),
        ("okta_logs", [Findings.Provider.Okta], [.. OktaLogPoller.Mapped.Values.Select(m => m.Type).Distinct()]),
    ];

    /// <summary>
    /// No body the vendors publish triggers a shipped rule as published (the alerts_v2 examples name only SYSTEM, the
    /// riskyUser examples are deleted users, the Okta examples are sign-ins without risk; see Corpus/SOURCES.md), so
    /// the vocabulary is checked instead: every type a mapping table produces (the Graph detector/title table, the
    /// Okta event types, risky_user) is answered by a shipped rule for a provider that source names, and the types the
    /// corpus bodies themselves map to are among them. The rules' own tests use findings shaped as the pollers map them.
    /// </summary>
    [Fact]
    [Trait("Reads", RepoPaths.ReadsShippedRules)]
    public async Task MappingTablesAndCorpusTypes_MeetTheShippedRules()
    {
        var rules = Policy.Rules.RuleLoader.Default(new FakeTimeProvider()).LoadDirectory(RepoPaths.Rules).RuleSet!;
        var unmet = MappingTables.SelectMany(t => t.Types.Where(type => !rules.Rules.Any(r => r.Match.Types.Contains(type) && r.Match.Providers.Any(t.Providers.Contains)))
            .Select(type => $"{t.Source}: {type}")).ToList();
        unmet.Should().BeEmpty("every type a poller maps to is one a shipped rule answers");

        using var alerts = await ReadAsync("graph-alerts_v2-list-v1.0.json");
        var alert = alerts.RootElement.GetProperty("value")[0];
        var corpusTypes = new[]
        {
            GraphAlerts.Type(alert.GetProperty("detectorId").GetString(), alert.GetProperty("title").GetString(), alert.GetProperty("category").GetString()),
            "risky_user",
            OktaLogPoller.Mapped[JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File("okta-logevent-example.json"), Ct))!["eventType"]!.GetValue<string>()].Type,
            OktaLogPoller.Mapped[JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File("okta-event-hook-sample.json"), Ct))!["data"]!["events"]![0]!["eventType"]!.GetValue<string>()].Type,
        };
        corpusTypes.Should().Equal("defense_evasion", "risky_user", "suspicious_sign_in", "suspicious_sign_in");
        corpusTypes.Skip(1).Should().OnlyContain(type => MappingTables.Any(t => t.Types.Contains(type)),
            "the corpus's identity types come from the tables; defense_evasion is the category fallback of an endpoint alert (a hidden file run by SYSTEM), which no identity rule answers");
    }
}
