using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Service.Console;
using ResponseEngine.TestKit;
using Xunit;

namespace ResponseEngine.Service.Tests;

/// <summary>One `respond serve` process with the console on and an API token per role, shared by the tests of <see cref="ConsoleApiTests"/>.</summary>
public sealed class ConsoleServeFixture : IAsyncLifetime
{
    public const string ViewerToken = "viewer-token-0123456789abcdef";
    public const string ApproverToken = "approver-token-0123456789abcdef";
    public const string OperatorToken = "operator-token-0123456789abcdef";

    public ServeWorkspace Workspace { get; } = new($"""
        console:
          tokens:
            viewer-bot: {"{"} role: viewer, env: T_CONSOLE_VIEWER {"}"}
            approver-bot: {"{"} role: approver, env: T_CONSOLE_APPROVER {"}"}
            soar: {"{"} role: operator, sha256: {Convert.ToHexStringLower(ConsoleCredentials.Hash(OperatorToken))} {"}"}
        """);

    public ServeProcess Serve { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Workspace.Write("rules/okta/okta-approve-deactivate.yaml", ServeApprovalTests.ApprovalRule);
        Serve = await ServeProcess.StartAsync(Workspace.Path, new Dictionary<string, string> { ["T_CONSOLE_VIEWER"] = ViewerToken, ["T_CONSOLE_APPROVER"] = ApproverToken });
    }

    public async ValueTask DisposeAsync()
    {
        await Serve.DisposeAsync();
        Workspace.Dispose();
    }
}

/// <summary>
/// The console's /v1 API against a real `respond serve` process: API tokens per role, the role matrix on every state
/// change, an approval through the API executed by the service and audited with the token's name, rearm, undo guarded
/// as `respond undo`, keyset paging of the activity, the OpenAPI document, and no token in the logs.
/// </summary>
public sealed class ConsoleApiTests(ConsoleServeFixture fixture) : IClassFixture<ConsoleServeFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    private ServeProcess Serve => fixture.Serve;

    private ServeWorkspace Workspace => fixture.Workspace;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, new Uri(Serve.Url, path));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await http.SendAsync(request, Ct);
    }

    private async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task PostFindingAsync(string id, string user, string type)
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(Serve.Url, "/v1/findings"), "[" + ServeWorkspace.Finding(id, user, type: type) + "]", Now), Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, Serve.Log);
    }

    public static TheoryData<string, string, string, int> StateChanges()
    {
        // (path, role, token, expected status): no such row answers 404 once the role allows the call; rearm with the breaker closed answers 200.
        var data = new TheoryData<string, string, string, int>();
        foreach (var (path, needed) in new[] { ("/v1/approvals/999999/approve", 2), ("/v1/approvals/999999/reject", 2), ("/v1/breaker/rearm", 3), ("/v1/audit/999999/undo", 3) })
        {
            foreach (var (role, token, level) in new[] { ("viewer", ConsoleServeFixture.ViewerToken, 1), ("approver", ConsoleServeFixture.ApproverToken, 2), ("operator", ConsoleServeFixture.OperatorToken, 3) })
            {
                data.Add(path, role, token, level < needed ? 403 : path.EndsWith("/rearm", StringComparison.Ordinal) ? 200 : 404);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(StateChanges))]
    public async Task StateChange_EachRole_IsAllowedOnlyFromItsLevel(string path, string role, string token, int expected)
    {
        using var response = await SendAsync(HttpMethod.Post, path, token, new { reason = "role matrix " + role });

        ((int)response.StatusCode).Should().Be(expected, await response.Content.ReadAsStringAsync(Ct));
        if (expected >= 400) response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-configured-token")]
    [InlineData("")]
    public async Task Api_WithoutAKnownToken_Is401AndWritesNothing(string? token)
    {
        var before = (await Workspace.TrailAsync(Ct)).Count;

        using var read = await SendAsync(HttpMethod.Get, "/v1/approvals", token);
        using var change = await SendAsync(HttpMethod.Post, "/v1/breaker/rearm", token, new { reason = "anonymous" });

        read.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        change.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        change.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        (await Workspace.TrailAsync(Ct)).Count.Should().Be(before);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task StateChange_WithABlankReason_Is400AndWritesNothing(string? reason)
    {
        await using (var store = new SqliteAuditStore(Workspace.Database, TimeProvider.System))
        {
            await store.InitializeAsync(Ct);
        }

        var before = (await Workspace.TrailAsync(Ct)).Count;

        using var response = await SendAsync(HttpMethod.Post, "/v1/breaker/rearm", ConsoleServeFixture.OperatorToken, new { reason });

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await JsonAsync(response)).GetProperty("detail").GetString().Should().Contain("blank");
        (await Workspace.TrailAsync(Ct)).Count.Should().Be(before);
    }

    [Fact]
    public async Task Approve_ThroughTheApi_TheServiceExecutesItAndTheAuditNamesTheToken()
    {
        var user = ServeWorkspace.OktaUsers[5];
        await PostFindingAsync("console-approval-1", user, "insider_exfiltration");
        long held = 0;
        await ServeWorkspace.Eventually(async () =>
        {
            using var list = await SendAsync(HttpMethod.Get, "/v1/approvals", ConsoleServeFixture.ViewerToken);
            var pending = (await JsonAsync(list)).EnumerateArray().FirstOrDefault(p => p.GetProperty("finding_id").GetString() == "console-approval-1");
            if (pending.ValueKind != JsonValueKind.Object) return false;
            pending.GetProperty("action").GetString().Should().Be("deactivate_user");
            pending.GetProperty("rule_id").GetString().Should().Be("okta-approve-deactivate");
            pending.GetProperty("identity_name").GetString().Should().Be(user);
            pending.GetProperty("expires_in_seconds").GetInt64().Should().BePositive();
            held = pending.GetProperty("sequence").GetInt64();
            return true;
        }, Deadline, "the held decision is listed as pending", () => Serve.Log);

        using var approve = await SendAsync(HttpMethod.Post, $"/v1/approvals/{Invariant(held)}/approve", ConsoleServeFixture.ApproverToken, new { reason = "confirmed by the data owner, SEC-77" });

        approve.StatusCode.Should().Be(HttpStatusCode.OK, await approve.Content.ReadAsStringAsync(Ct));
        await ServeWorkspace.Eventually(async () => (await Workspace.TrailAsync(Ct)).Any(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.FindingId == "console-approval-1"),
            Deadline, "the service executes the approved decision", () => Serve.Log);
        var approval = (await Workspace.TrailAsync(Ct)).Single(r => r.Entry.Status == AuditStatus.Approved && r.Entry.IntentSequence == held);
        approval.Entry.Actor.Should().Be("approver-bot");
        approval.Entry.Reason.Should().Be("confirmed by the data owner, SEC-77");
        approval.Entry.RunId.Should().StartWith("operator-api-");
        using var again = await SendAsync(HttpMethod.Get, "/v1/approvals", ConsoleServeFixture.ViewerToken);
        (await JsonAsync(again)).EnumerateArray().Should().NotContain(p => p.GetProperty("sequence").GetInt64() == held);
    }

    [Fact]
    public async Task Rearm_ThroughTheApi_ClosesTheBreakerAndNamesTheToken()
    {
        await using (var store = new SqliteAuditStore(Workspace.Database, TimeProvider.System))
        {
            await store.InitializeAsync(Ct);
            await store.AppendAsync(new AuditEntry { RunId = "r", Host = "h", EngineVersion = "t", Actor = "engine", Status = AuditStatus.BreakerOpened, Guard = "breaker", Reason = "51 destructive actions within 1h" }, Ct);
        }

        using (var state = await SendAsync(HttpMethod.Get, "/v1/breaker", ConsoleServeFixture.ViewerToken))
        {
            var breaker = await JsonAsync(state);
            breaker.GetProperty("open").GetBoolean().Should().BeTrue();
            breaker.GetProperty("last_event").GetProperty("reason").GetString().Should().Be("51 destructive actions within 1h");
        }

        using var rearm = await SendAsync(HttpMethod.Post, "/v1/breaker/rearm", ConsoleServeFixture.OperatorToken, new { reason = "reviewed the spray", requeue = true });

        rearm.StatusCode.Should().Be(HttpStatusCode.OK, await rearm.Content.ReadAsStringAsync(Ct));
        var row = (await Workspace.TrailAsync(Ct)).Last(r => r.Entry.Status == AuditStatus.BreakerRearmed);
        (row.Entry.Actor, row.Entry.Reason).Should().Be(("soar", "reviewed the spray"));
        using var after = await SendAsync(HttpMethod.Get, "/v1/breaker", ConsoleServeFixture.ViewerToken);
        (await JsonAsync(after)).GetProperty("open").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task Undo_ThroughTheApi_IsAuditedOnceAndAnUndoIsNotUndone()
    {
        var user = ServeWorkspace.OktaUsers[6];
        await PostFindingAsync("console-undo-1", user, "account_takeover");
        AuditRecord? done = null;
        await ServeWorkspace.Eventually(async () =>
        {
            done = (await Workspace.TrailAsync(Ct)).FirstOrDefault(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.FindingId == "console-undo-1");
            return done is not null;
        }, Deadline, "the takeover disables the account", () => Serve.Log);
        using (var detail = await SendAsync(HttpMethod.Get, $"/v1/audit/{Invariant(done!.Sequence)}", ConsoleServeFixture.ViewerToken))
        {
            var row = await JsonAsync(detail);
            row.GetProperty("undoable").GetBoolean().Should().BeTrue(row.ToString());
            row.GetProperty("hash").GetString().Should().Be(done.Hash);
        }

        using var undo = await SendAsync(HttpMethod.Post, $"/v1/audit/{Invariant(done.Sequence)}/undo", ConsoleServeFixture.OperatorToken, new { reason = "false positive, SEC-78" });
        using var twice = await SendAsync(HttpMethod.Post, $"/v1/audit/{Invariant(done.Sequence)}/undo", ConsoleServeFixture.OperatorToken, new { reason = "again" });

        undo.StatusCode.Should().Be(HttpStatusCode.OK, await undo.Content.ReadAsStringAsync(Ct));
        twice.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await JsonAsync(twice)).GetProperty("detail").GetString().Should().Contain("already been undone");
        var undoRows = (await Workspace.TrailAsync(Ct)).Where(r => r.Entry.Action == "undo:disable_user" && r.Entry.FindingId == "console-undo-1").ToList();
        undoRows.Select(r => r.Entry.Status).Should().Equal(AuditStatus.Intended, AuditStatus.Succeeded);
        undoRows.Should().OnlyContain(r => r.Entry.Actor == "soar" && r.Entry.RunId.StartsWith("operator-api-", StringComparison.Ordinal));
        using var undoTheUndo = await SendAsync(HttpMethod.Post, $"/v1/audit/{Invariant(undoRows[1].Sequence)}/undo", ConsoleServeFixture.OperatorToken, new { reason = "undo the undo" });
        undoTheUndo.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task AuditSearch_PagesNewestFirstByKeysetAndMatchesTheTrail()
    {
        await using (var store = new SqliteAuditStore(Workspace.Database, TimeProvider.System))
        {
            await store.InitializeAsync(Ct);
            for (var i = 0; i < 23; i++)
            {
                await store.AppendAsync(new AuditEntry
                {
                    RunId = "paging", Host = "h", EngineVersion = "t", Actor = "engine", Status = i % 2 == 0 ? AuditStatus.Skipped : AuditStatus.DryRun,
                    IdentityId = "00upaging", IdentityName = "paging@corp.example", Provider = "okta", RuleId = "paging-rule", Action = "disable_user", Guard = i % 2 == 0 ? "rate_limited" : null,
                }, Ct);
            }
        }

        var expected = (await Workspace.TrailAsync(Ct)).Where(r => r.Entry.IdentityName == "paging@corp.example" && r.Entry.Status == AuditStatus.Skipped)
            .Select(r => r.Sequence).Reverse().ToList();
        var seen = new List<long>();
        long? before = null;
        do
        {
            using var page = await SendAsync(HttpMethod.Get, "/v1/audit?identity=paging%40corp.example&status=skipped&limit=5" + (before is null ? "" : "&before=" + Invariant(before.Value)), ConsoleServeFixture.ViewerToken);
            page.StatusCode.Should().Be(HttpStatusCode.OK, await page.Content.ReadAsStringAsync(Ct));
            var json = await JsonAsync(page);
            var rows = json.GetProperty("rows").EnumerateArray().ToList();
            rows.Count.Should().BeLessThanOrEqualTo(5);
            seen.AddRange(rows.Select(r => r.GetProperty("sequence").GetInt64()));
            before = json.GetProperty("next").ValueKind == JsonValueKind.Null ? null : json.GetProperty("next").GetInt64();
        }
        while (before is not null);

        seen.Should().Equal(expected);
        using var bad = await SendAsync(HttpMethod.Get, "/v1/audit?status=bogus", ConsoleServeFixture.ViewerToken);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Person_ListsEveryLinkedAccountWithItsEvidence_AndTheirRowsNewestFirstAcrossThem()
    {
        var seeded = await PersonTrail.SeedAsync(Workspace.Database, "pat-api", Ct);

        foreach (var who in new[] { "pat-api", "e-pat-api", "00U-PAT-API" })
        {
            using var response = await SendAsync(HttpMethod.Get, "/v1/identities/" + Uri.EscapeDataString(who) + "/person?limit=2", ConsoleServeFixture.ViewerToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK, who);
            var person = await JsonAsync(response);
            var accounts = person.GetProperty("accounts").EnumerateArray().ToList();
            accounts.Select(a => (a.GetProperty("provider").GetString(), a.GetProperty("id").GetString())).Should().Equal(("ad", "ad-pat-api"), ("entra", "e-pat-api"), ("okta", "00u-pat-api"));
            accounts[0].GetProperty("evidence").ValueKind.Should().Be(JsonValueKind.Null, "the AD account is the one the finding named");
            accounts[1].GetProperty("evidence").GetString().Should().Be(PersonTrail.EntraEvidence);
            accounts[2].GetProperty("linked_from").GetString().Should().Be("ad:AD-PAT-API");

            // Newest first across the accounts, a page at a time; the other person's row is not among them.
            var first = person.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("row").GetProperty("sequence").GetInt64()).ToList();
            first.Should().Equal(seeded[2].Sequence, seeded[1].Sequence);
            using var older = await SendAsync(HttpMethod.Get, $"/v1/identities/{Uri.EscapeDataString(who)}/person?limit=2&before={Invariant(person.GetProperty("next").GetInt64())}", ConsoleServeFixture.ViewerToken);
            var rest = (await JsonAsync(older)).GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("row").GetProperty("sequence").GetInt64());
            rest.Should().Equal(seeded[0].Sequence);
        }

        using var nobody = await SendAsync(HttpMethod.Get, "/v1/identities/nobody-at-all/person", ConsoleServeFixture.ViewerToken);
        (await JsonAsync(nobody)).GetProperty("accounts").GetArrayLength().Should().Be(0);
        using var anonymous = await SendAsync(HttpMethod.Get, "/v1/identities/pat-api/person", null);
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Reads_LimitsRunsRulesHealthAndTheTimeline_AnswerForAViewer()
    {
        var user = ServeWorkspace.OktaUsers[7];
        await PostFindingAsync("console-timeline-1", user, "account_takeover");
        await ServeWorkspace.Eventually(async () => (await Workspace.TrailAsync(Ct)).Any(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.FindingId == "console-timeline-1"),
            Deadline, "the takeover disables the account", () => Serve.Log);

        using var limits = await SendAsync(HttpMethod.Get, "/v1/limits", ConsoleServeFixture.ViewerToken);
        var all = (await JsonAsync(limits)).EnumerateArray().Single(w => w.GetProperty("scope").GetString() == "all");
        all.GetProperty("limit").GetInt32().Should().Be(100000, "the workspace's guards.rate_limits.global_per_hour");
        all.GetProperty("used").GetInt64().Should().BePositive();

        using var timeline = await SendAsync(HttpMethod.Get, "/v1/identities/" + Uri.EscapeDataString(user) + "/timeline", ConsoleServeFixture.ViewerToken);
        var rows = (await JsonAsync(timeline)).GetProperty("rows").EnumerateArray().ToList();
        rows.Select(r => r.GetProperty("row").GetProperty("sequence").GetInt64()).Should().BeInDescendingOrder();
        rows.Should().Contain(r => r.GetProperty("row").GetProperty("status").GetString() == "succeeded" && r.GetProperty("undoable").GetBoolean());
        rows.Should().OnlyContain(r => r.GetProperty("row").GetProperty("identity_name").GetString() == user || r.GetProperty("row").GetProperty("identity_id").GetString() == user);

        using var runs = await SendAsync(HttpMethod.Get, "/v1/runs", ConsoleServeFixture.ViewerToken);
        var run = (await JsonAsync(runs)).EnumerateArray().First(r => r.GetProperty("statuses").TryGetProperty("succeeded", out _));
        run.GetProperty("run_id").GetString().Should().NotBeNullOrEmpty();

        using var ruleSet = await SendAsync(HttpMethod.Get, "/v1/rules", ConsoleServeFixture.ViewerToken);
        var rules = await JsonAsync(ruleSet);
        rules.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).Should().Contain(["okta-takeover-disable", "okta-approve-deactivate"]);
        rules.GetProperty("last_reload_failed").GetBoolean().Should().BeFalse();

        using var health = await SendAsync(HttpMethod.Get, "/v1/health", ConsoleServeFixture.ViewerToken);
        var report = await JsonAsync(health);
        report.GetProperty("report").GetProperty("inbox").GetProperty("completed").GetInt64().Should().BePositive(await health.Content.ReadAsStringAsync(Ct));
        report.GetProperty("report").GetProperty("readiness").GetProperty("audit").GetProperty("reachable").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Export_StreamsTheFilteredRowsAsCsvAndJsonLines()
    {
        await using (var store = new SqliteAuditStore(Workspace.Database, TimeProvider.System))
        {
            await store.InitializeAsync(Ct);
            for (var i = 0; i < 1203; i++)
            {
                await store.AppendAsync(new AuditEntry
                {
                    RunId = "export", Host = "h", EngineVersion = "t", Actor = "engine", Status = AuditStatus.Skipped, IdentityId = "00uexport", IdentityName = i == 0 ? "=HYPERLINK(\"x\")" : "export@corp.example",
                    Provider = "okta", RuleId = "export-rule", Action = "disable_user", Guard = "rate_limited", Reason = "line\nbreak",
                }, Ct);
            }
        }

        var expected = (await Workspace.TrailAsync(Ct)).Where(r => r.Entry.RuleId == "export-rule").Select(r => r.Sequence).ToList();

        using var csv = await SendAsync(HttpMethod.Get, "/v1/audit/export?format=csv&rule=export-rule", ConsoleServeFixture.ViewerToken);
        using var jsonl = await SendAsync(HttpMethod.Get, "/v1/audit/export?format=jsonl&rule=export-rule", ConsoleServeFixture.ViewerToken);
        using var bad = await SendAsync(HttpMethod.Get, "/v1/audit/export?format=xlsx", ConsoleServeFixture.ViewerToken);

        csv.Content.Headers.ContentType?.MediaType.Should().Be("text/csv");
        var text = await csv.Content.ReadAsStringAsync(Ct);
        text.Should().StartWith(ResponseEngine.Audit.AuditExport.CsvHeader + "\n").And.Contain("'=HYPERLINK");
        var documents = (await jsonl.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        documents.Select(d => d.GetProperty("event").GetProperty("sequence").GetInt64()).Should().Equal(expected, "every matching row, oldest first, across export pages");
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheConsoleApi()
    {
        using var response = await SendAsync(HttpMethod.Get, "/openapi/v1.json", null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var paths = (await JsonAsync(response)).GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/v1/limits", "/v1/identities/{identity}/timeline", "/v1/identities/{identity}/person", "/v1/runs", "/v1/rules", "/v1/health", "/v1/audit/export", "/v1/session", "/v1/approvals", "/v1/approvals/{sequence}/approve", "/v1/approvals/{sequence}/reject", "/v1/breaker", "/v1/breaker/rearm", "/v1/audit", "/v1/audit/{sequence}", "/v1/audit/{sequence}/undo"]);
        paths.Should().NotContain("/v1/findings", "the webhook is not the console's API");
    }

    [Fact]
    public async Task Logs_NeverHoldAToken()
    {
        using (await SendAsync(HttpMethod.Get, "/v1/approvals", ConsoleServeFixture.OperatorToken))
        using (await SendAsync(HttpMethod.Post, "/v1/breaker/rearm", ConsoleServeFixture.ApproverToken, new { reason = "forbidden" }))
        using (await SendAsync(HttpMethod.Get, "/v1/approvals", "wrong-" + ConsoleServeFixture.ViewerToken))
        {
        }

        Serve.Log.Should().NotContain(ConsoleServeFixture.ViewerToken).And.NotContain(ConsoleServeFixture.ApproverToken).And.NotContain(ConsoleServeFixture.OperatorToken);
        File.ReadAllText(Path.Combine(Workspace.Path, "respond.yaml")).Should().NotContain(ConsoleServeFixture.OperatorToken, "respond.yaml holds the token's hash, not the token");
    }
}

/// <summary>The console off: its API and OpenAPI document are not there (404), the webhook works as before.</summary>
public sealed class ConsoleDisabledTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("")]
    [InlineData("console: { enabled: false, tokens: { soar: { role: operator, env: T_CONSOLE_UNUSED } } }")]
    public async Task ConsoleOff_ApiIs404_WebhookStillAccepts(string config)
    {
        using var workspace = new ServeWorkspace(config);
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();

        foreach (var path in new[] { "/v1/approvals", "/v1/breaker", "/v1/audit", "/openapi/v1.json", "/console/signin" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(serve.Url, path));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "anything");
            using var response = await http.SendAsync(request, Ct);
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
        }

        using var rearm = await http.PostAsync(new Uri(serve.Url, "/v1/breaker/rearm"), new StringContent("{\"reason\":\"x\"}", Encoding.UTF8, "application/json"), Ct);
        rearm.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var finding = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), "[" + ServeWorkspace.Finding("off-1", ServeWorkspace.OktaUsers[0]) + "]", TimeProvider.System.GetUtcNow()), Ct);
        finding.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }
}
