using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Service.Webhook;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Notifications from the real commands (`respond run --once` and `respond serve` as processes) to real receivers on
/// loopback: the breaker opening, an approval needed and a connector that does not answer reach Teams, Slack and the
/// signed webhook, and a receiver that never answers does not hold up the run.
/// </summary>
public sealed class NotificationEndToEndTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private const string Key = "notification-test-key-0123456789abcdef";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Targets(params string[] targets) => "notifications:\n  drain: 60s\n  retry_delay: 50ms\n  targets:\n" + string.Join("", targets.Select(t => $"    {t}\n"));

    private static string Findings(ServeWorkspace workspace, int count, string type = "account_takeover") =>
        workspace.Write("findings.ndjson", string.Join('\n', Enumerable.Range(0, count).Select(i => ServeWorkspace.Finding($"f-{i}", ServeWorkspace.OktaUsers[i], type))));

    private static Dictionary<string, string> Environment(NotificationReceiver? teams = null, NotificationReceiver? slack = null, Dictionary<string, string>? more = null)
    {
        var environment = new Dictionary<string, string> { ["RESPOND_NOTIFY_KEY"] = Key };
        if (teams is not null) environment["RESPOND_TEAMS_URL"] = teams.Url;
        if (slack is not null) environment["RESPOND_SLACK_URL"] = slack.Url;
        foreach (var (k, v) in more ?? []) environment[k] = v;
        return environment;
    }

    private static bool Verifies(NotificationReceiver.Received post) =>
        new WebhookAuthenticator(Key, null, TimeSpan.FromMinutes(5), TimeProvider.System).Check(null, post.Signature, post.Timestamp, Encoding.UTF8.GetBytes(post.Body)) is null;

    [Fact]
    public async Task Run_BreakerOpens_TeamsSlackAndTheSignedWebhookAreEachTold()
    {
        await using var teams = await NotificationReceiver.StartAsync();
        await using var slack = await NotificationReceiver.StartAsync();
        await using var webhook = await NotificationReceiver.StartAsync();
        using var workspace = new ServeWorkspace(Targets(
            "soc: { kind: teams, url_env: RESPOND_TEAMS_URL }",
            "ops: { kind: slack, url_env: RESPOND_SLACK_URL, events: [breaker_opened] }",
            $"siem: {{ kind: webhook, url: \"{webhook.Url}\", secret_env: RESPOND_NOTIFY_KEY }}"));
        Findings(workspace, 4);

        var run = await CliProcess.RunAsync(workspace.Path, Environment(teams, slack, new() { ["RESPOND__GUARDS__BREAKER__THRESHOLD"] = "2" }),
            "run", "--once", "--findings", "findings.ndjson");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().MatchRegex(@"(?m)^held\s+\d+$", "the breaker held the rest");
        run.Error.Should().NotContain("notification", "every notification was delivered");
        var siem = webhook.Requests.Where(p => p.Event == "breaker_opened").Should().ContainSingle("the run drains its queue before it exits").Subject;
        Verifies(siem).Should().BeTrue();
        var document = JsonDocument.Parse(siem.Body).RootElement;
        document.GetProperty("facts").GetProperty("status").GetString().Should().Be("breaker_opened");
        var opened = (await workspace.TrailAsync(Ct)).Single(r => r.Entry.Status == AuditStatus.BreakerOpened);
        document.GetProperty("audit_sequence").GetInt64().Should().Be(opened.Sequence, "the notification names the audit row");
        teams.Requests.Should().ContainSingle(p => p.Body.Contains("Breaker opened", StringComparison.Ordinal));
        slack.Requests.Should().ContainSingle().Which.Body.Should().Contain("Breaker opened");
    }

    [Fact]
    public async Task Run_ReceiverNeverAnswers_TheRunFinishesAndExitsWithoutItsAnswer()
    {
        await using var hanging = await NotificationReceiver.StartAsync(NotificationReceiver.Hang);
        using var workspace = new ServeWorkspace(
            "notifications:\n  drain: 1s\n  timeout: 10m\n  targets:\n" +
            $"    siem: {{ kind: webhook, url: \"{hanging.Url}\", secret_env: RESPOND_NOTIFY_KEY }}\n");
        Findings(workspace, 4);

        var run = await CliProcess.RunAsync(workspace.Path, Environment(more: new() { ["RESPOND__GUARDS__BREAKER__THRESHOLD"] = "2" }),
            "run", "--once", "--findings", "findings.ndjson");

        hanging.Holding.Should().BeTrue("the receiver has answered nothing, and the run is over");
        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().MatchRegex(@"(?m)^succeeded\s+\d+$").And.MatchRegex(@"(?m)^held\s+\d+$");
        run.Error.Should().Contain("not delivered").And.Contain("siem");
        var trail = await workspace.TrailAsync(Ct);
        trail.Should().Contain(r => r.Entry.Status == AuditStatus.BreakerOpened);
        trail.Where(r => r.Entry.Status == AuditStatus.Intended).Should().OnlyContain(i => trail.Any(o => o.Entry.IntentSequence == i.Sequence), "every action finished and was audited");
    }

    [Fact]
    public async Task Run_ConnectorUnreachable_TheWebhookIsToldAndTheRunExitsOne()
    {
        await using var webhook = await NotificationReceiver.StartAsync();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }

        using var workspace = new ServeWorkspace(
            $"connectors:\n  okta: {{ kind: okta, base_url: \"http://127.0.0.1:{port}\", auth: api_token }}\n" +
            Targets($"siem: {{ kind: webhook, url: \"{webhook.Url}\", secret_env: RESPOND_NOTIFY_KEY, events: [connector_unreachable] }}"));
        Findings(workspace, 1);

        var run = await CliProcess.RunAsync(workspace.Path, Environment(more: new() { ["RESPOND_OKTA_API_TOKEN"] = "00test-token-not-a-secret" }),
            "run", "--once", "--findings", "findings.ndjson");

        run.ExitCode.Should().Be(1, run.Error);
        var post = webhook.Requests.Should().ContainSingle().Subject;
        post.Event.Should().Be("connector_unreachable");
        Verifies(post).Should().BeTrue();
        var facts = JsonDocument.Parse(post.Body).RootElement.GetProperty("facts");
        facts.GetProperty("connector").GetString().Should().Be("okta");
        facts.GetProperty("signs in as").GetString().Should().Contain($"127.0.0.1:{port}");
        facts.GetProperty("problem").GetString().Should().NotBeNullOrWhiteSpace();
        post.Body.Should().NotContain("00test-token-not-a-secret");
    }

    [Fact]
    public async Task Run_OktaRefusesTheAction_ActionFailedIsNotifiedWithTheError()
    {
        await using var webhook = await NotificationReceiver.StartAsync();
        await using var okta = await OktaEmulatorServer.StartAsync(TimeProvider.System, Ct);
        okta.Org.AddUser("00u1failokta000001", "fail.okta@corp.example.com");
        okta.Org.FailNext(1000, OktaFault.ServerError, r => r.RawPath.Contains("/lifecycle/", StringComparison.Ordinal));
        using var workspace = new ServeWorkspace(
            $"connectors:\n  okta: {{ kind: okta, base_url: \"{okta.BaseUrl}\", auth: api_token, max_retries: 0 }}\n" +
            Targets($"siem: {{ kind: webhook, url: \"{webhook.Url}\", secret_env: RESPOND_NOTIFY_KEY, events: [action_failed] }}"));
        workspace.Write("findings.ndjson", ServeWorkspace.Finding("f-fail", "fail.okta@corp.example.com"));

        var run = await CliProcess.RunAsync(workspace.Path, Environment(more: new() { ["RESPOND_OKTA_API_TOKEN"] = okta.Org.ApiToken }),
            "run", "--once", "--findings", "findings.ndjson");

        run.ExitCode.Should().Be(1, run.Output + run.Error);
        var failed = (await workspace.TrailAsync(Ct)).Single(r => r.Entry.Status is AuditStatus.Failed or AuditStatus.TimedOut);
        var post = webhook.Requests.Should().ContainSingle().Subject;
        post.Event.Should().Be("action_failed");
        Verifies(post).Should().BeTrue();
        var document = JsonDocument.Parse(post.Body).RootElement;
        document.GetProperty("audit_sequence").GetInt64().Should().Be(failed.Sequence);
        document.GetProperty("facts").GetProperty("error").GetString().Should().Be(failed.Entry.Error);
        document.GetProperty("title").GetString().Should().Contain(failed.Entry.Action!).And.Contain("fail.okta@corp.example.com");
        post.Body.Should().NotContain(okta.Org.ApiToken);
    }

    [Fact]
    public async Task Run_NotificationVariableUnset_DoesNothingAndExitsTwo()
    {
        using var workspace = new ServeWorkspace(Targets("soc: { kind: teams, url_env: RESPOND_TEAMS_URL }"));
        Findings(workspace, 1);

        var run = await CliProcess.RunAsync(workspace.Path, new Dictionary<string, string>(), "run", "--once", "--findings", "findings.ndjson");

        run.ExitCode.Should().Be(2, run.Error);
        run.Error.Should().Contain("notifications.targets.soc: url_env names RESPOND_TEAMS_URL, which is not set");
        File.Exists(workspace.Database).Should().BeFalse("nothing was opened or done");
    }

    [Fact]
    public async Task Serve_ApprovalNeeded_TheSignedWebhookIsTold()
    {
        await using var webhook = await NotificationReceiver.StartAsync();
        using var workspace = new ServeWorkspace(Targets($"siem: {{ kind: webhook, url: \"{webhook.Url}\", secret_env: RESPOND_NOTIFY_KEY }}"));
        workspace.Write("rules/okta/okta-approve-deactivate.yaml", ServeApprovalTests.ApprovalRule);
        await using var serve = await ServeProcess.StartAsync(workspace.Path, Environment());
        using var http = new HttpClient();
        var body = "[" + ServeWorkspace.Finding("approval-0", ServeWorkspace.OktaUsers[5], type: "insider_exfiltration") + "]";
        using (var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, TimeProvider.System.GetUtcNow()), Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        }

        var posts = await webhook.WaitForAsync(1, Deadline);

        var post = posts.Should().ContainSingle().Subject;
        post.Event.Should().Be("approval_needed");
        Verifies(post).Should().BeTrue();
        var document = JsonDocument.Parse(post.Body).RootElement;
        document.GetProperty("title").GetString().Should().Contain("deactivate_user").And.Contain(ServeWorkspace.OktaUsers[5]);
        var held = (await workspace.TrailAsync(Ct)).Single(r => r.Entry.Status == AuditStatus.Held && r.Entry.Guard == "approval");
        document.GetProperty("audit_sequence").GetInt64().Should().Be(held.Sequence, "`respond approve` takes this number");
    }

    [Fact]
    public async Task Serve_ReceiverKeepsFailing_TheServiceLogSaysSoAndTheDecisionStands()
    {
        await using var webhook = await NotificationReceiver.StartAsync((_, context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        using var workspace = new ServeWorkspace("notifications:\n  attempts: 2\n  retry_delay: 50ms\n  targets:\n" +
            $"    siem: {{ kind: webhook, url: \"{webhook.Url}\", secret_env: RESPOND_NOTIFY_KEY }}\n");
        workspace.Write("rules/okta/okta-approve-deactivate.yaml", ServeApprovalTests.ApprovalRule);
        await using var serve = await ServeProcess.StartAsync(workspace.Path, Environment());
        using var http = new HttpClient();
        var body = "[" + ServeWorkspace.Finding("approval-1", ServeWorkspace.OktaUsers[6], type: "insider_exfiltration") + "]";
        using (var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, TimeProvider.System.GetUtcNow()), Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        }

        await webhook.WaitForAsync(2, Deadline);
        await ServeWorkspace.Eventually(() => Task.FromResult(serve.Log.Contains("ResponseEngine.Notifications", StringComparison.Ordinal) && serve.Log.Contains("HTTP 503", StringComparison.Ordinal)),
            Deadline, "the service log names the failed delivery", () => serve.Log);
        (await workspace.TrailAsync(Ct)).Should().Contain(r => r.Entry.Status == AuditStatus.Held && r.Entry.Guard == "approval", "a failing receiver changes nothing in the trail");
    }
}
