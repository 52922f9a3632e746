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

    /// <summary>An Okta emulator on fake time, a client signed in to it, and a registry with one okta_logs poller named okta.</summary>
    private async Task<(OktaEmulator Okta, HttpClient Http, PollerOptions Poller, PollerRegistry Registry)> OktaAsync(ImmutableDictionary<string, string>? settings = null)
    {
        var okta = new OktaEmulator(_time);
        var http = okta.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", okta.ApiToken);
        var poller = new PollerOptions("okta", "okta_logs", TimeSpan.FromMinutes(1), settings ?? ImmutableDictionary<string, string>.Empty);
        return (okta, http, poller, await RegistryAsync(poller, http));
    }

    private async Task<List<Finding>> InboxFindingsAsync() =>
        [.. (await _store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => InboxProcessor.Parse(i).Finding!)];

    [Fact]
    public async Task OktaLogs_MapsThreatEventsFollowsNextAndResumesFromThePersistedLink()
    {
        var (okta, http, poller, registry) = await OktaAsync();
        using var _ = http;
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
        var (okta, http, poller, registry) = await OktaAsync();
        using var _ = http;
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

    private async Task<(GraphEmulator Graph, PollerRegistry Registry, PollerOptions Alerts)> GraphRegistryAsync(params PollerOptions[] more)
    {
        var graph = await GraphEmulator.StartAsync(_time, Ct);
        var settings = ImmutableDictionary<string, string>.Empty.Add("base_url", new Uri(graph.BaseUrl, "/").AbsoluteUri).Add("token_env", "GRAPH_TOKEN");
        var alerts = new PollerOptions("alerts", "graph_alerts", TimeSpan.FromMinutes(1), settings);
        await _store.InitializeAsync(Ct);
        var setup = new ServeSetup(new EngineOptions { Serve = new ServeOptions { Pollers = [alerts, .. more] } }, _store, _store, new Dictionary<Provider, IConnector>(),
            () => throw new InvalidOperationException("pollers never run anything"), _time, "test")
        {
            PollerHttp = p => PollerHttp.Graph(p, name => name == "GRAPH_TOKEN" ? GraphEmulator.Token : null, _time, "test"),
        };
        return (graph, new PollerRegistry(setup, new InboxSignal(), new ServiceMetrics(), NullLogger<PollerRegistry>.Instance), alerts);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        await ServeWorkspace.Eventually(() => Task.FromResult(condition()), TimeSpan.FromSeconds(30), what);
    }

    private static List<GraphRequest> AlertCalls(GraphEmulator graph) => [.. graph.Requests.Where(r => r.Path.Contains("alerts_v2", StringComparison.Ordinal))];

    [Theory]
    [InlineData("2.128", 2128)]
    [InlineData("30", 30_000)]
    public async Task GraphAlerts_429WithRetryAfter_WaitsExactlyThatLongOnFakeTime(string retryAfter, int milliseconds)
    {
        var (graph, registry, _) = await GraphRegistryAsync();
        await using var __ = graph;
        var ann = graph.AddUser("11111111-1111-1111-1111-111111111111", "ann@corp.example.com");
        _time.Advance(TimeSpan.FromMinutes(1));
        graph.AddAlert("Password spray", "high", ann);
        graph.FaultRetryAfterText = retryAfter;
        graph.FailNext(1, GraphFault.Throttled, r => r.Path.Contains("alerts_v2", StringComparison.Ordinal));
        var wait = TimeSpan.FromMilliseconds(milliseconds);

        var run = registry.RunAsync("alerts", Ct);
        await UntilAsync(() => registry.States["alerts"].BackoffUntil is not null, "the poller waits after the 429");
        var throttledAt = AlertCalls(graph).Single().At;
        (registry.States["alerts"].BackoffUntil!.Value - throttledAt).Should().BeCloseTo(wait, wait / 10, "Retry-After is honoured, fractions included");

        _time.Advance(wait * 0.9);
        AlertCalls(graph).Should().HaveCount(1, "not before the wait is over");
        run.IsCompleted.Should().BeFalse();
        _time.Advance(wait * 0.2);
        await run;

        AlertCalls(graph).Select(r => r.Status).Should().Equal(429, 200);
        (AlertCalls(graph)[1].At - throttledAt).Should().BeCloseTo(wait, wait / 10);
        (await InboxFindingsAsync()).Should().ContainSingle(f => f.Type == "password_spray");
        registry.States["alerts"].Should().Match<PollerState>(s => s.Failures == 0 && s.BackoffUntil == null && s.LastSuccess == _time.GetUtcNow());
    }

    [Fact]
    public async Task GraphAlerts_429OnPage3Of5_ResumesAtPage3WithoutRefetchingOrReingesting()
    {
        var (graph, registry, alerts) = await GraphRegistryAsync();
        await using var __ = graph;
        graph.PageSize = 2;
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 10; i++)
        {
            var user = graph.AddUser($"00000000-0000-0000-0000-00000000000{i}", $"u{i}@corp.example.com");
            graph.AddAlert("Password spray", "high", user);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        graph.FaultRetryAfterText = "120";
        graph.FailNext(1, GraphFault.Throttled, r => r.Path.Contains("alerts_v2", StringComparison.Ordinal) && r.Query.Contains("skiptoken=4", StringComparison.Ordinal));

        await registry.RunAsync("alerts", Ct);

        AlertCalls(graph).Select(r => r.Status).Should().Equal(200, 200, 429);
        (await InboxFindingsAsync()).Should().HaveCount(4, "pages 1 and 2 are committed");
        var cursor = await _store.ReadCursorAsync(PollerRegistry.CursorName(alerts), Ct);
        cursor.Should().Contain("skiptoken=4", "the cursor is the link of page 3");
        registry.States["alerts"].BackoffUntil.Should().Be(_time.GetUtcNow() + TimeSpan.FromSeconds(120), "a wait longer than a minute is kept by not polling until it ends");

        _time.Advance(TimeSpan.FromSeconds(119));
        await registry.RunAsync("alerts", Ct);
        AlertCalls(graph).Should().HaveCount(3, "still inside Retry-After");
        _time.Advance(TimeSpan.FromSeconds(1));
        await registry.RunAsync("alerts", Ct);

        var calls = AlertCalls(graph);
        calls.Skip(3).Select(r => r.Query.Contains("skiptoken=4", StringComparison.Ordinal)).First().Should().BeTrue("it resumes at page 3");
        calls.Skip(3).Should().HaveCount(3, "pages 3, 4 and 5; pages 1 and 2 are not fetched again").And.OnlyContain(r => r.Status == 200);
        var findings = await InboxFindingsAsync();
        findings.Should().HaveCount(10).And.OnlyHaveUniqueItems(f => f.Id);
    }

    [Fact]
    public async Task OktaLogs_429WithRateLimitReset_WaitsUntilTheReset()
    {
        var (okta, http, poller, registry) = await OktaAsync();
        using var _ = http;
        okta.LogEvent("security.threat.detected", "00u1", "ann@corp.example.com");
        okta.FailNext(1, OktaFault.RateLimited);

        var run = registry.RunAsync("okta", Ct);
        await UntilAsync(() => registry.States["okta"].BackoffUntil is not null, "the poller waits for the reset");
        var reset = registry.States["okta"].BackoffUntil!.Value;
        reset.Should().BeOnOrAfter(_time.GetUtcNow()).And.BeOnOrBefore(_time.GetUtcNow().AddMinutes(1));
        reset.Millisecond.Should().Be(0, "X-Rate-Limit-Reset is an epoch second");
        _time.Advance(reset - _time.GetUtcNow());
        await run;

        (await InboxFindingsAsync()).Should().ContainSingle();
        okta.Requests.Where(r => r.RawPath == "/api/v1/logs").Select(r => r.Status).Should().Equal(429, 200);
    }

    [Fact]
    public async Task OktaLogs_FirstPollFails_TheWindowDoesNotSlide()
    {
        var (okta, http, _, registry) = await OktaAsync(ImmutableDictionary<string, string>.Empty.Add("lookback", "1h"));
        using var __ = http;
        var early = okta.LogEvent("security.threat.detected", "00u1", "ann@corp.example.com");
        okta.FailNext(1, OktaFault.ServerError);

        await registry.RunAsync("okta", Ct);
        _time.Advance(TimeSpan.FromMinutes(90));
        await registry.RunAsync("okta", Ct);

        var calls = okta.Requests.Where(r => r.RawPath == "/api/v1/logs").ToList();
        calls.Select(r => r.Query).Distinct().Should().ContainSingle("the retry asks for the same window, not one that starts 90 minutes later");
        (await InboxFindingsAsync()).Select(f => f.Id).Should().Equal((string)early["uuid"]!);
    }

    [Fact]
    public async Task OktaLogs_EventWithANumericEventType_IsQuarantinedAndThePollerGoesOn()
    {
        var (okta, http, poller, registry) = await OktaAsync();
        using var _ = http;
        var odd = okta.LogEvent("security.threat.detected", "00u1", "ann@corp.example.com");
        odd["eventType"] = 42;
        var good = okta.LogEvent("security.threat.detected", "00u2", "bob@corp.example.com");

        await registry.RunAsync("okta", Ct);
        var calls = okta.Requests.Count;
        var later = okta.LogEvent("security.threat.detected", "00u3", "cid@corp.example.com");
        await registry.RunAsync("okta", Ct);

        registry.States["okta"].Failures.Should().Be(0);
        (await InboxFindingsAsync()).Select(f => f.Id).Should().Equal((string)good["uuid"]!, (string)later["uuid"]!);
        (await _store.ListRejectedAsync(false, Ct)).Should().ContainSingle(r => r.Key == (string)odd["uuid"]! && r.Reason.Contains("/eventType"));
        okta.Requests.Skip(calls).Should().OnlyContain(r => r.Query.Contains("after=2", StringComparison.Ordinal), "the page with the odd event is not fetched again");
    }

    [Fact]
    public async Task Pollers_OneFails_TheOtherGoesOn()
    {
        var folder = new PollerOptions("gone", "folder", TimeSpan.FromSeconds(30), ImmutableDictionary<string, string>.Empty.Add("path", Path.Combine(_dir.Path, "missing")));
        var (graph, registry, _) = await GraphRegistryAsync(folder);
        await using var __ = graph;
        var ann = graph.AddUser("11111111-1111-1111-1111-111111111111", "ann@corp.example.com");
        _time.Advance(TimeSpan.FromMinutes(1));
        graph.AddAlert("Password spray", "high", ann);

        await registry.RunAsync("gone", Ct);
        await registry.RunAsync("alerts", Ct);

        registry.States["gone"].Should().Match<PollerState>(s => s.Failures == 1 && s.Error!.Contains("does not exist") && s.BackoffUntil != null);
        registry.States["alerts"].Should().Match<PollerState>(s => s.Failures == 0 && s.LastSuccess != null);
        (await InboxFindingsAsync()).Should().ContainSingle();
    }
}
