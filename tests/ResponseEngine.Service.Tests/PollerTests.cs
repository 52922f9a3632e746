using System.Collections.Immutable;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Pollers;
using ResponseEngine.Service.Processing;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Graph;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Service.Tests;

/// <summary>Pollers on fake time against the Okta emulator and a real folder, with the inbox and cursors in a real SQLite store.</summary>
public sealed class PollerTests : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly SqliteAuditStore _store;

    public PollerTests()
    {
        _store = new SqliteAuditStore(Path.Combine(_dir.Path, "respond.db"), _time);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private async Task<PollerRegistry> RegistryAsync(PollerOptions poller, HttpClient? http = null)
    {
        await _store.InitializeAsync(Ct);
        var options = new EngineOptions { Serve = new ServeOptions { Pollers = [poller] } };
        var setup = new ServeSetup(options, _store, _store, new Dictionary<Provider, IConnector>(), () => throw new InvalidOperationException("pollers never run anything"), _time, "test")
        {
            PollerHttp = _ => http ?? throw new InvalidOperationException("no http"),
        };
        return new PollerRegistry(setup, new InboxSignal(), new ServiceMetrics(), NullLogger<PollerRegistry>.Instance);
    }

    private async Task<List<Finding>> InboxFindingsAsync() =>
        [.. (await _store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => InboxProcessor.Parse(i).Finding!)];

    [Fact]
    public async Task OktaLogs_MapsThreatEventsFollowsNextAndResumesFromThePersistedLink()
    {
        var okta = new OktaEmulator(_time);
        using var http = okta.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", okta.ApiToken);
        var poller = new PollerOptions("okta", "okta_logs", TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        var registry = await RegistryAsync(poller, http);
        var threat = okta.LogEvent("security.threat.detected", "00u1", "ann@corp.example.com");
        okta.LogEvent("user.session.start", "00u2", "bob@corp.example.com", risk: "{level=LOW, reasons=}");
        var risky = okta.LogEvent("user.session.start", "00u3", "cid@corp.example.com", risk: "{reasons=Anomalous Device, level=HIGH}");
        okta.LogEvent("user.lifecycle.suspend", "00u4", "dee@corp.example.com");
        okta.LogEvent("user.mfa.okta_verify.deny_push", "00u5", "eve@corp.example.com", outcome: "FAILURE");

        await registry.RunAsync("okta", Ct);

        var findings = await InboxFindingsAsync();
        findings.Select(f => (f.Id, f.Type, f.Severity, f.Subject.Id, f.Subject.Name)).Should().Equal(
            ((string)threat["uuid"]!, "suspicious_sign_in", Severity.High, "00u1", "ann@corp.example.com"),
            ((string)risky["uuid"]!, "suspicious_sign_in", Severity.High, "00u3", "cid@corp.example.com"),
            (findings[2].Id, "mfa_push_fatigue", Severity.Medium, "00u5", "eve@corp.example.com"));
        findings.Should().OnlyContain(f => f.Subject.Provider == Provider.Okta && f.Source == "okta");
        var cursor = await _store.ReadCursorAsync(PollerRegistry.CursorName(poller), Ct);
        cursor.Should().Contain("after=5");

        var later = okta.LogEvent("security.session.detect_client_roaming", "00u1", "ann@corp.example.com");
        await registry.RunAsync("okta", Ct);

        (await InboxFindingsAsync()).Select(f => f.Id).Should().Equal(findings.Select(f => f.Id).Append((string)later["uuid"]!));
        okta.Requests.Where(r => r.RawPath == "/api/v1/logs").Skip(1).Should().OnlyContain(r => r.Query.Contains("after=", StringComparison.Ordinal), "later polls follow the persisted next link");
    }

    [Fact]
    public async Task OktaLogs_SourceFails_KeepsTheCursorAndBacksOff()
    {
        var okta = new OktaEmulator(_time);
        using var http = okta.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", okta.ApiToken);
        var poller = new PollerOptions("okta", "okta_logs", TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        var registry = await RegistryAsync(poller, http);
        okta.LogEvent("security.threat.detected", "00u1", "ann@corp.example.com");
        await registry.RunAsync("okta", Ct);
        var cursor = await _store.ReadCursorAsync(PollerRegistry.CursorName(poller), Ct);
        okta.LogEvent("security.threat.detected", "00u2", "bob@corp.example.com");

        okta.FailNext(1, OktaFault.ServerError);
        await registry.RunAsync("okta", Ct);

        (await _store.ReadCursorAsync(PollerRegistry.CursorName(poller), Ct)).Should().Be(cursor);
        registry.Backoff.Should().ContainKey("okta").WhoseValue.Failures.Should().Be(1);
        var calls = okta.Requests.Count;
        await registry.RunAsync("okta", Ct);
        okta.Requests.Count.Should().Be(calls, "still backing off: the source is not called");

        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        await registry.RunAsync("okta", Ct);

        registry.Backoff.Should().BeEmpty();
        (await InboxFindingsAsync()).Select(f => f.Subject.Id).Should().Equal("00u1", "00u2");
    }

    [Fact]
    public async Task Folder_ReadsJsonNdjsonAndCsvExports_OnceUntilAFileChanges()
    {
        var drop = Path.Combine(_dir.Path, "drop");
        Directory.CreateDirectory(drop);
        File.WriteAllText(Path.Combine(drop, "itdr.ndjson"), ServeWorkspace.Finding("n-1", "ann@corp.example.com") + "\n" + "{\"id\":\"broken\"}\n");
        File.WriteAllText(Path.Combine(drop, "batch.json"), "[" + ServeWorkspace.Finding("j-1", "bob@corp.example.com") + "]");
        File.WriteAllText(Path.Combine(drop, "itdr-export.csv"),
            "Detection ID,Detection Type,Severity,Detected At,User,Provider,Confidence\n" +
            "D-100,Password Spray,High,2026-11-20T08:00:00Z,cid@corp.example.com,entra,0.9\n" +
            "D-101,WeakPassword,informational,2026-11-20 09:30:00,\"dee, the admin\",ad,\n" +
            "D-102,,High,2026-11-20T08:00:00Z,eve@corp.example.com,ad,\n");
        File.WriteAllText(Path.Combine(drop, "vision-one-workbench.csv"),
            "\uFEFFWorkbench ID,Model,Severity,Created,Impacted User,Description\n" +
            "WB-9001-20261120-00001,Account Takeover,critical,2026-11-20T07:55:00Z,frank@corp.example.com,\"Suspicious \"\"impossible travel\"\" sign-in\"\n");
        var poller = new PollerOptions("drop", "folder", TimeSpan.FromSeconds(30), ImmutableDictionary<string, string>.Empty.Add("path", drop).Add("provider", "okta").Add("source", "itdr"));
        var registry = await RegistryAsync(poller);

        await registry.RunAsync("drop", Ct);

        var findings = (await InboxFindingsAsync()).ToDictionary(f => f.Id);
        findings.Keys.Should().BeEquivalentTo(["n-1", "j-1", "D-100", "D-101", "WB-9001-20261120-00001"], "the record without a type and the broken NDJSON line are skipped");
        findings["D-100"].Should().Match<Finding>(f => f.Type == "password_spray" && f.Severity == Severity.High && f.Subject.Provider == Provider.Entra && f.Subject.Name == "cid@corp.example.com" && f.Source == "itdr");
        findings["D-100"].Attributes["confidence"].GetString().Should().Be("0.9");
        findings["D-101"].Should().Match<Finding>(f => f.Type == "weak_password" && f.Severity == Severity.Informational && f.Subject.Name == "dee, the admin" && f.ObservedAt == new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero));
        findings["WB-9001-20261120-00001"].Should().Match<Finding>(f => f.Type == "account_takeover" && f.Severity == Severity.Critical && f.Subject.Provider == Provider.Okta
            && f.Title == "Suspicious \"impossible travel\" sign-in");

        await registry.RunAsync("drop", Ct);
        (await _store.CountAsync(Ct)).Pending.Should().Be(5, "unchanged files are not read again");

        File.AppendAllText(Path.Combine(drop, "itdr.ndjson"), ServeWorkspace.Finding("n-2", "gus@corp.example.com") + "\n");
        await registry.RunAsync("drop", Ct);
        (await InboxFindingsAsync()).Select(f => f.Id).Should().Contain("n-2").And.HaveCount(6, "the changed file's old record is a duplicate, accepted once");
    }

    [Fact]
    public async Task GraphAlertsAndRiskyUsers_FromTheGraphEmulator_BecomeEntraFindingsOnce()
    {
        await using var graph = await GraphEmulator.StartAsync(_time, Ct);
        var ann = graph.AddUser("11111111-1111-1111-1111-111111111111", "ann@corp.example.com");
        var bob = graph.AddUser("22222222-2222-2222-2222-222222222222", "bob@corp.example.com");
        var settings = ImmutableDictionary<string, string>.Empty.Add("base_url", new Uri(graph.BaseUrl, "/").AbsoluteUri).Add("token_env", "GRAPH_TOKEN");
        var alerts = new PollerOptions("alerts", "graph_alerts", TimeSpan.FromMinutes(1), settings);
        var risky = new PollerOptions("risky", "graph_risky_users", TimeSpan.FromMinutes(5), settings);
        await _store.InitializeAsync(Ct);
        var setup = new ServeSetup(new EngineOptions { Serve = new ServeOptions { Pollers = [alerts, risky] } }, _store, _store, new Dictionary<Provider, IConnector>(),
            () => throw new InvalidOperationException("pollers never run anything"), _time, "test")
        {
            PollerHttp = p => PollerHttp.Graph(p, name => name == "GRAPH_TOKEN" ? GraphEmulator.Token : null, _time, "test"),
        };
        var registry = new PollerRegistry(setup, new InboxSignal(), new ServiceMetrics(), NullLogger<PollerRegistry>.Instance);
        _time.Advance(TimeSpan.FromMinutes(1));
        var first = graph.AddAlert("Password spray", "high", ann);
        graph.SetRisk(ann.Id, "high");
        graph.SetRisk(bob.Id, "low");

        await registry.RunAsync("alerts", Ct);
        await registry.RunAsync("risky", Ct);

        var findings = await InboxFindingsAsync();
        findings.Select(f => (f.Source, f.Type, f.Severity, f.Subject.Provider, f.Subject.Id, f.Subject.Name)).Should().BeEquivalentTo([
            ("microsoft-defender", "password_spray", Severity.High, Provider.Entra, ann.Id, "ann@corp.example.com"),
            ("entra-id-protection", "risky_user", Severity.High, Provider.Entra, ann.Id, "ann@corp.example.com")]);
        findings[0].Attributes["alert_id"].GetString().Should().Be(first.Id);

        _time.Advance(TimeSpan.FromMinutes(1));
        graph.AddAlert("Token theft", "medium", bob);
        await registry.RunAsync("alerts", Ct);
        await registry.RunAsync("risky", Ct);

        (await InboxFindingsAsync()).Should().HaveCount(3, "the first alert is behind the cursor and the unchanged risk is a duplicate");
        graph.Requests.Where(r => r.Path.Contains("alerts_v2", StringComparison.Ordinal)).Last().Query.Should().Contain("lastUpdateDateTime");
        registry.Backoff.Should().BeEmpty();
    }
}
