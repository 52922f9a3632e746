using System.Collections.Concurrent;
using System.Net;
using FluentAssertions;
using Microsoft.AspNetCore.Http;
using ResponseEngine.TestKit;
using Xunit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Telemetry by convention, from `respond serve` as a real process: /metrics names the service and labels actions by
/// rule, provider, action and status with a duration histogram; an OTLP/HTTP receiver on loopback gets metrics and traces.
/// </summary>
public sealed class TelemetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    private static async Task<ServeProcess> ServeWithOneActionAsync(ServeWorkspace workspace, IDictionary<string, string>? environment = null)
    {
        var serve = await ServeProcess.StartAsync(workspace.Path, environment);
        using var http = new HttpClient();
        var body = "[" + ServeWorkspace.Finding("telemetry-0", ServeWorkspace.OktaUsers[0]) + "]";
        using var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, Now), Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        await ServeWorkspace.Eventually(async () => (await workspace.InboxAsync(Ct)).Completed == 1, Deadline, "the finding is processed", () => serve.Log);
        return serve;
    }

    [Fact]
    public async Task Metrics_AfterAnAction_NameTheServiceAndLabelActionsWithADurationHistogram()
    {
        using var workspace = new ServeWorkspace();
        await using var serve = await ServeWithOneActionAsync(workspace);
        using var http = new HttpClient();

        var text = "";
        await ServeWorkspace.Eventually(async () =>
        {
            text = await http.GetStringAsync(new Uri(serve.Url, "/metrics"), Ct);
            return text.Contains("respond_action_duration_seconds_bucket", StringComparison.Ordinal);
        }, Deadline, "the duration histogram is exported", () => text);

        var lines = text.Split('\n');
        lines.Should().Contain(l => l.StartsWith("target_info{", StringComparison.Ordinal) && l.Contains("service_name=\"respond\"", StringComparison.Ordinal),
            "the OpenTelemetry resource names the service");
        lines.Should().Contain(l => l.StartsWith("respond_actions_total{", StringComparison.Ordinal)
            && l.Contains("rule=\"okta-takeover-disable\"", StringComparison.Ordinal) && l.Contains("provider=\"okta\"", StringComparison.Ordinal)
            && l.Contains("action=\"disable_user\"", StringComparison.Ordinal) && l.Contains("status=\"succeeded\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("respond_action_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("action=\"disable_user\"", StringComparison.Ordinal) && l.Contains("status=\"succeeded\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal), "ASP.NET Core is instrumented");
        lines.Should().Contain(l => l.StartsWith("dotnet_", StringComparison.Ordinal) || l.StartsWith("process_runtime_dotnet", StringComparison.Ordinal),
            "the runtime is instrumented");
        serve.Errors.Should().Contain("\"EventId\":100", "one structured event per decision outcome").And.Contain("\"Rule\":\"okta-takeover-disable\"").And.Contain("\"AuditSequence\":");
    }

    [Fact]
    public async Task Otlp_EndpointSet_ReceiverGetsMetricsAndTraces()
    {
        var received = new ConcurrentDictionary<string, ConcurrentBag<byte[]>>(StringComparer.Ordinal);
        var (receiver, address) = await LoopbackServer.StartAsync(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.GetOrAdd(context.Request.Path.Value!.Split('/').Last(), _ => []).Add(body.ToArray());
            context.Response.StatusCode = StatusCodes.Status200OK;
        }, cancellationToken: Ct);
        await using var _ = receiver;

        using var workspace = new ServeWorkspace();
        await using var serve = await ServeWithOneActionAsync(workspace, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        });

        static bool Has(ConcurrentDictionary<string, ConcurrentBag<byte[]>> bags, string signal, string text) =>
            bags.TryGetValue(signal, out var bag) && bag.Any(b => System.Text.Encoding.UTF8.GetString(b).Contains(text, StringComparison.Ordinal));

        await ServeWorkspace.Eventually(() => Task.FromResult(Has(received, "metrics", "respond.actions") && Has(received, "metrics", "respond")),
            Deadline, "OTLP metrics with the engine's instruments arrive", () => serve.Log);
        await ServeWorkspace.Eventually(() => Task.FromResult(Has(received, "traces", "respond.action") && Has(received, "traces", "respond.guard")),
            Deadline, "OTLP traces with the guard and action spans arrive", () => serve.Log);
        await receiver.StopAsync(Ct);
    }
}
