using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// `respond serve` as a real process on the local directory (the sample snapshot's working copy, which actions really
/// change) and a SQLite audit file: signed findings in, actions applied and audited, SIGKILL and restart, two
/// instances on one store, a broken rule written while it runs, and the audit database going away.
/// </summary>
public sealed class ServeEndToEndTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The real time: the child process checks the signature's timestamp against its own clock.</summary>
    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    private static string Batch(IEnumerable<string> findings) => "[" + string.Join(",", findings) + "]";

    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response) =>
        (JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject)!;

    /// <summary>
    /// Whether the account is disabled in the local directory now, read as another process reads it: the working copy and
    /// the journal of changes the service has not folded into it yet.
    /// </summary>
    private static bool Disabled(ServeWorkspace workspace, string upn)
    {
        var path = Path.Combine(workspace.Path, "state", "directory.json");
        if (!File.Exists(path)) return false;
        byte[] bytes;
        try
        {
            using var reader = LocalDirectory.Open(Path.Combine(workspace.Path, "directory.json"), path, TimeProvider.System);
            bytes = reader.ExportAsync(Ct).GetAwaiter().GetResult();
        }
        catch (ConnectorException)
        {
            return false;
        }

        var users = JsonNode.Parse(bytes)!["users"]!.AsArray();
        return users.Any(u => (string?)u!["provider"] == "okta" && (string?)u["upn"] == upn && ((string?)u["okta_status"] == "SUSPENDED" || (bool?)u["enabled"] == false));
    }

    private static async Task<List<AuditRecord>> SucceededAsync(ServeWorkspace workspace) =>
        [.. (await workspace.TrailAsync(Ct)).Where(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.Action == "disable_user")];

    [Fact]
    public async Task Serve_SignedFindings_AreAppliedAuditedAndDuplicatesAcceptedOnce()
    {
        using var workspace = new ServeWorkspace();
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        var users = ServeWorkspace.OktaUsers[..5];
        var body = Batch(users.Select((u, i) => ServeWorkspace.Finding($"e2e-{i}", u)));

        using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, Now), Ct);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        (await JsonAsync(response))["accepted"]!.GetValue<int>().Should().Be(5);
        await ServeWorkspace.Eventually(async () => (await SucceededAsync(workspace)).Count == 5, Deadline, "five disable_user actions succeed", () => serve.Log);
        await ServeWorkspace.Eventually(async () => (await workspace.InboxAsync(Ct)).Completed == 5, Deadline, "the five findings are marked done after their outcomes", () => serve.Log);
        users.Should().OnlyContain(u => Disabled(workspace, u), "the actions really changed the directory");
        var trail = await workspace.TrailAsync(Ct);
        trail.Where(r => r.Entry.Status == AuditStatus.Intended).Should().HaveCount(5, "every action has its intent first");
        foreach (var outcome in await SucceededAsync(workspace))
        {
            trail.Should().Contain(r => r.Sequence == outcome.Entry.IntentSequence && r.Sequence < outcome.Sequence && r.Entry.Status == AuditStatus.Intended);
        }

        using var again = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, Now.AddSeconds(1)), Ct);
        again.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await JsonAsync(again))["duplicates"]!.GetValue<int>().Should().Be(5);
        (await workspace.InboxAsync(Ct)).Completed.Should().Be(5, "a duplicate (source, id) is stored once");

        (await http.GetStringAsync(new Uri(serve.Url, "/healthz"), Ct)).Should().Be("ok\n");
        using var ready = await http.GetAsync(new Uri(serve.Url, "/readyz"), Ct);
        var report = await JsonAsync(ready);
        ready.StatusCode.Should().Be(HttpStatusCode.OK, report.ToJsonString());
        report["rules"]!["count"]!.GetValue<int>().Should().Be(1);
        report["audit"]!["reachable"]!.GetValue<bool>().Should().BeTrue();
        report["connectors"]!["okta"]!["reachable"]!.GetValue<bool>().Should().BeTrue();
        var metrics = "";
        await ServeWorkspace.Eventually(async () => (metrics = await http.GetStringAsync(new Uri(serve.Url, "/metrics"), Ct)).Contains("status=\"succeeded\"", StringComparison.Ordinal),
            Deadline, "the batch's outcomes are counted in /metrics", () => metrics);
        metrics.Should().Contain("respond_findings_received").And.Contain("result=\"duplicate\"").And.Contain("respond_actions").And.Contain("status=\"succeeded\"")
            .And.Contain("respond_breaker_open").And.Contain("respond_rate_limit_headroom");
    }

    [Fact]
    public async Task Serve_Sigkill_WithFindingsInTheInbox_LosesNoneAfterRestart()
    {
        using var workspace = new ServeWorkspace();
        var environment = new Dictionary<string, string> { ["RESPOND__SERVE__INBOX__BATCH_SIZE"] = "2" };
        var findings = ServeWorkspace.OktaUsers.SelectMany((u, i) => new[] { ServeWorkspace.Finding($"kill-{i}-a", u), ServeWorkspace.Finding($"kill-{i}-b", u) }).ToList();
        await using (var victim = await ServeProcess.StartAsync(workspace.Path, environment))
        {
            using var http = new HttpClient();
            using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(victim.Url, "/v1/findings"), Batch(findings), Now), Ct);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, victim.Log);
            await victim.KillAsync(); // SIGKILL right after 202: leases held, batches half done
        }

        var left = await workspace.InboxAsync(Ct);
        (left.Pending + left.Leased).Should().BePositive("the test needs findings still in the inbox when the process dies");

        await using var restarted = await ServeProcess.StartAsync(workspace.Path, environment);
        await ServeWorkspace.Eventually(async () => (await workspace.InboxAsync(Ct)).Completed == findings.Count, Deadline,
            "every finding is processed after the restart", () => restarted.Log);
        await ServeWorkspace.Eventually(async () => (await workspace.TrailAsync(Ct)).Count(r => r.Entry.Status == AuditStatus.Intended)
                == (await workspace.TrailAsync(Ct)).Count(r => r.Entry.Status.IsOutcome()), Deadline, "every intent has its outcome (the reconciler closes interrupted ones)", () => restarted.Log);
        ServeWorkspace.OktaUsers.Should().OnlyContain(u => Disabled(workspace, u));
        var applied = await SucceededAsync(workspace);
        applied.GroupBy(r => r.Entry.IdentityId).Should().HaveCount(ServeWorkspace.OktaUsers.Length).And.OnlyContain(g => g.Count() == 1, "no account is disabled twice");
    }

    [Fact]
    public async Task Serve_TwoInstancesOnOneStore_NeverExecuteTheSameActionTwice()
    {
        using var workspace = new ServeWorkspace();
        var environment = new Dictionary<string, string> { ["RESPOND__SERVE__INBOX__BATCH_SIZE"] = "3" };
        await using var a = await ServeProcess.StartAsync(workspace.Path, new Dictionary<string, string>(environment) { ["RESPOND__SERVE__INSTANCE"] = "node-a" });
        await using var b = await ServeProcess.StartAsync(workspace.Path, new Dictionary<string, string>(environment) { ["RESPOND__SERVE__INSTANCE"] = "node-b" });
        using var http = new HttpClient();

        // Every finding is posted to both instances, and each account has three findings: the same work is offered twice over.
        var findings = ServeWorkspace.OktaUsers.SelectMany((u, i) => new[] { ServeWorkspace.Finding($"two-{i}-a", u), ServeWorkspace.Finding($"two-{i}-b", u), ServeWorkspace.Finding($"two-{i}-c", u, source: "okta") }).ToList();
        var posts = findings.Chunk(6).SelectMany(chunk => new[] { a.Url, b.Url }.Select(async url =>
        {
            using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(url, "/v1/findings"), Batch(chunk), Now), Ct);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }));
        await Task.WhenAll(posts);

        await ServeWorkspace.Eventually(async () => (await workspace.InboxAsync(Ct)).Completed == findings.Count, Deadline, "both instances drain the inbox", () => a.Log + b.Log);
        var trail = await workspace.TrailAsync(Ct);
        trail.Where(r => r.Entry.Status == AuditStatus.Intended).GroupBy(r => r.Entry.IdempotencyKey).Should().OnlyContain(g => g.Count() == 1, "one intent per decision");
        var applied = trail.Where(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.Action == "disable_user").ToList();
        applied.GroupBy(r => r.Entry.IdentityId).Should().HaveCount(ServeWorkspace.OktaUsers.Length).And.OnlyContain(g => g.Count() == 1, "no account is disabled twice");
        ServeWorkspace.OktaUsers.Should().OnlyContain(u => Disabled(workspace, u));
        var owners = await OwnersAsync(workspace);
        owners.Should().BeEquivalentTo(["node-a", "node-b"], "both instances took work from the shared inbox");
    }

    private static async Task<List<string>> OwnersAsync(ServeWorkspace workspace)
    {
        await using var connection = new SqliteConnection($"Data Source={workspace.Database};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT lease_owner FROM inbox ORDER BY 1";
        var owners = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct)) owners.Add(reader.GetString(0));
        return owners;
    }

    [Fact]
    public async Task Serve_InvalidRuleWrittenWhileRunning_KeepsTheGoodSetAndReadyzSaysSo()
    {
        using var workspace = new ServeWorkspace();
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        async Task<JsonObject> Ready()
        {
            using var response = await http.GetAsync(new Uri(serve.Url, "/readyz"), Ct);
            return await JsonAsync(response);
        }

        workspace.Write("rules/okta/broken.yaml", ServeWorkspace.GoodRule.Replace("okta-takeover-disable", "okta-broken", StringComparison.Ordinal).Replace("disable_user\n", "disable_everyone\n", StringComparison.Ordinal));
        await ServeWorkspace.Eventually(async () => (await Ready())["rules"]!["last_reload_failed"]!.GetValue<bool>(), Deadline, "/readyz reports the refused reload", () => serve.Log);

        var report = await Ready();
        report["ready"]!.GetValue<bool>().Should().BeTrue("the last good set keeps running");
        report["rules"]!["count"]!.GetValue<int>().Should().Be(1);
        report["rules"]!["last_reload_failure"]!["problems"]!.AsArray().Select(p => (string)p!).Should().Contain(p => p.Contains("broken.yaml", StringComparison.Ordinal) && p.Contains("disable_everyone", StringComparison.Ordinal));
        using (var post = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), ServeWorkspace.Finding("after-broken", ServeWorkspace.OktaUsers[0]), Now), Ct))
        {
            post.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await ServeWorkspace.Eventually(async () => (await SucceededAsync(workspace)).Count == 1, Deadline, "the good set still acts", () => serve.Log);

        // A set that loads but whose inline test fails is refused as well.
        workspace.Write("rules/okta/broken.yaml", ServeWorkspace.GoodRule.Replace("okta-takeover-disable", "okta-second", StringComparison.Ordinal).Replace("actions:", "when: identity.privileged\nactions:", StringComparison.Ordinal));
        await ServeWorkspace.Eventually(async () => (await Ready())["rules"]!["last_reload_failure"]?["problems"]?.AsArray().Any(p => ((string)p!).Contains("test 'a takeover disables the account'", StringComparison.Ordinal)) == true,
            Deadline, "a failing inline test refuses the set", () => serve.Log);
        (await Ready())["rules"]!["count"]!.GetValue<int>().Should().Be(1);

        // A valid set replaces the running one, and the failure is cleared.
        File.Delete(Path.Combine(workspace.Path, "rules/okta/broken.yaml"));
        workspace.Write("rules/okta/second.yaml", ServeWorkspace.GoodRule.Replace("okta-takeover-disable", "okta-second", StringComparison.Ordinal));
        await ServeWorkspace.Eventually(async () => (await Ready())["rules"]!["count"]!.GetValue<int>() == 2, Deadline, "the valid set is loaded", () => serve.Log);
        (await Ready())["rules"]!["last_reload_failed"]!.GetValue<bool>().Should().BeFalse();
    }

    [Fact]
    public async Task Serve_BadPosts_AreRejectedWithNoSideEffect()
    {
        using var workspace = new ServeWorkspace();
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        var url = new Uri(serve.Url, "/v1/findings");
        var good = ServeWorkspace.Finding("bad-0", ServeWorkspace.OktaUsers[0]);
        var now = Now;

        async Task<(HttpStatusCode Status, string Body)> Send(HttpRequestMessage request)
        {
            using (request)
            using (var response = await http.SendAsync(request, Ct))
            {
                return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
            }
        }

        (await Send(new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(good, Encoding.UTF8, "application/json") })).Status.Should().Be(HttpStatusCode.Unauthorized, "unsigned");
        (await Send(ServeWorkspace.Signed(url, good, now, secret: "wrong-secret"))).Status.Should().Be(HttpStatusCode.Unauthorized, "signed with another secret");
        (await Send(ServeWorkspace.Signed(url, good, now.AddMinutes(-6)))).Should().Match<(HttpStatusCode Status, string Body)>(r => r.Status == HttpStatusCode.Unauthorized && r.Body.Contains("minutes"), "outside the replay window");
        (await Send(ServeWorkspace.Bearer(url, good, "not-the-token"))).Status.Should().Be(HttpStatusCode.Unauthorized, "a wrong bearer token");
        var tampered = ServeWorkspace.Signed(url, good, now);
        tampered.Content = new StringContent(good.Replace("high", "low", StringComparison.Ordinal), Encoding.UTF8, "application/json");
        (await Send(tampered)).Status.Should().Be(HttpStatusCode.Unauthorized, "the body changed after signing");
        var oversized = Batch(Enumerable.Range(0, 6000).Select(i => ServeWorkspace.Finding($"big-{i}", ServeWorkspace.OktaUsers[i % 20])));
        Encoding.UTF8.GetByteCount(oversized).Should().BeGreaterThan(1024 * 1024);
        (await Send(ServeWorkspace.Signed(url, oversized, now))).Status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await Send(ServeWorkspace.Signed(url, "{\"id\": ", now))).Status.Should().Be(HttpStatusCode.BadRequest, "not JSON");
        var mixed = Batch([good, good.Replace("\"okta\"", "\"ldap\"", StringComparison.Ordinal).Replace("bad-0", "bad-1", StringComparison.Ordinal), "{\"id\":\"bad-2\"}"]);
        var (status, body) = await Send(ServeWorkspace.Signed(url, mixed, now));
        status.Should().Be(HttpStatusCode.BadRequest);
        var records = JsonNode.Parse(body)!["records"]!.AsArray();
        records.Select(r => r!["index"]!.GetValue<int>()).Should().Equal(1, 2);
        records[0]!["errors"]!.AsArray().Select(e => (string)e!).Should().Contain(e => e.Contains("subject.provider", StringComparison.Ordinal));
        records[1]!["errors"]!.AsArray().Select(e => (string)e!).Should().Contain("missing field 'source'");

        (await workspace.InboxAsync(Ct)).Should().Be(new Inbox.InboxCounts(0, 0, 0), "nothing of a refused post is stored");
        (await workspace.TrailAsync(Ct)).Should().BeEmpty("nothing was decided");

        var signed = ServeWorkspace.Signed(url, good, now);
        var replay = ServeWorkspace.Signed(url, good, now);
        (await Send(signed)).Status.Should().Be(HttpStatusCode.Accepted);
        (await Send(replay)).Should().Match<(HttpStatusCode Status, string Body)>(r => r.Status == HttpStatusCode.Unauthorized && r.Body.Contains("replay"), "the same signed request again");
        (await Send(ServeWorkspace.Bearer(url, ServeWorkspace.Finding("bad-3", ServeWorkspace.OktaUsers[1])))).Status.Should().Be(HttpStatusCode.Accepted, "a bearer token is the other way in");
        var inbox = await workspace.InboxAsync(Ct);
        (inbox.Pending + inbox.Leased + inbox.Completed).Should().Be(2);
    }

    [Fact]
    public async Task Serve_AuditDatabaseGoesAway_StopsAndRecoversWhenItReturns()
    {
        using var workspace = new ServeWorkspace();
        File.WriteAllText(Path.Combine(workspace.Path, "respond.yaml"), File.ReadAllText(Path.Combine(workspace.Path, "respond.yaml"))
            .Replace("connection: respond.db", "connection: \"Data Source=db/respond.db;Pooling=False\"", StringComparison.Ordinal));
        Directory.CreateDirectory(Path.Combine(workspace.Path, "db"));
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        var url = new Uri(serve.Url, "/v1/findings");
        async Task<(HttpStatusCode, JsonObject)> Ready()
        {
            using var response = await http.GetAsync(new Uri(serve.Url, "/readyz"), Ct);
            return (response.StatusCode, await JsonAsync(response));
        }

        Directory.Move(Path.Combine(workspace.Path, "db"), Path.Combine(workspace.Path, "db.away"));
        using (var refused = await http.SendAsync(ServeWorkspace.Signed(url, ServeWorkspace.Finding("away-0", ServeWorkspace.OktaUsers[0]), Now), Ct))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a finding that cannot be stored is not accepted");
        }

        var (status, report) = await Ready();
        status.Should().Be(HttpStatusCode.ServiceUnavailable);
        report["audit"]!["reachable"]!.GetValue<bool>().Should().BeFalse();
        Disabled(workspace, ServeWorkspace.OktaUsers[0]).Should().BeFalse("nothing ran while the audit store was away");

        Directory.Move(Path.Combine(workspace.Path, "db.away"), Path.Combine(workspace.Path, "db"));
        await ServeWorkspace.Eventually(async () => (await Ready()).Item1 == HttpStatusCode.OK, Deadline, "ready again once the store is back", () => serve.Log);
        using (var accepted = await http.SendAsync(ServeWorkspace.Signed(url, ServeWorkspace.Finding("back-0", ServeWorkspace.OktaUsers[0]), Now), Ct))
        {
            accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await ServeWorkspace.Eventually(() => Task.FromResult(Disabled(workspace, ServeWorkspace.OktaUsers[0])), Deadline, "execution resumes", () => serve.Log);
    }

    [Fact]
    public async Task Serve_Sigterm_StopsCleanlyAndGivesBackItsLeases()
    {
        using var workspace = new ServeWorkspace();
        await using var serve = await ServeProcess.StartAsync(workspace.Path, new Dictionary<string, string> { ["RESPOND__SERVE__INBOX__BATCH_SIZE"] = "1" });
        using var http = new HttpClient();
        var findings = ServeWorkspace.OktaUsers.Select((u, i) => ServeWorkspace.Finding($"term-{i}", u)).ToList();
        using (var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), Batch(findings), Now), Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await serve.TerminateAsync(TimeSpan.FromSeconds(40));

        serve.ExitCode.Should().Be(0, serve.Log);
        serve.Log.Should().Contain("respond serve: stopped").And.Contain("leases given back");
        var inbox = await workspace.InboxAsync(Ct);
        inbox.Leased.Should().Be(0, "a stopped instance holds no lease");
        (inbox.Pending + inbox.Completed).Should().Be(findings.Count, "nothing is lost");
        var trail = await workspace.TrailAsync(Ct);
        trail.Count(r => r.Entry.Status == AuditStatus.Intended).Should().Be(trail.Count(r => r.Entry.Status.IsOutcome()), "the action in flight wrote its outcome before the process ended");
    }
}
