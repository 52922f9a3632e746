using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// The webhook of a real `respond serve` process, with a real HTTP client: hostile bodies (lone surrogates, invalid
/// UTF-8, wrong types in every field, 10k records, bodies four times the limit, non-JSON content types) are answered
/// 400/413/415 naming the field, never a 500 or a reset connection, and the service goes on; a busy port ends `serve`
/// with one message and exit 1 before the database is touched.
/// </summary>
public sealed class WebhookHostileInputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Post(Uri url, byte[] body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServeWorkspace.Token);
        return request;
    }

    private static byte[] With(string field, byte[] value)
    {
        var text = ServeWorkspace.Finding("h-1", ServeWorkspace.OktaUsers[0]);
        var key = $"\"{field}\":";
        var start = text.IndexOf(key, StringComparison.Ordinal) + key.Length;
        var end = text[start] == '"' ? text.IndexOf('"', start + 1) + 1 : text.IndexOfAny([',', '}'], start);
        return [.. Encoding.UTF8.GetBytes(text[..start]), .. value, .. Encoding.UTF8.GetBytes(text[end..])];
    }

    [Fact]
    public async Task Webhook_HostileBodies_AnsweredNamingTheFieldAndTheServiceGoesOn()
    {
        using var workspace = new ServeWorkspace("  max_body: 4194304");
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        var url = new Uri(serve.Url, "/v1/findings");
        byte[][] values = ["\"\\ud800\""u8.ToArray(), [(byte)'"', 0xFF, 0xFE, (byte)'"'], "1"u8.ToArray(), "true"u8.ToArray(), "null"u8.ToArray(), "[1]"u8.ToArray(), "{}"u8.ToArray(), "\"\""u8.ToArray()];
        string[] fields = ["id", "source", "kind", "type", "severity", "observed_at", "title", "provider", "name"];
        var answers = new List<(string Field, int Value, HttpStatusCode Status, string Body)>();
        foreach (var field in fields)
        {
            for (var v = 0; v < values.Length; v++)
            {
                using var response = await http.SendAsync(Post(url, With(field, values[v])), Ct);
                answers.Add((field, v, response.StatusCode, await response.Content.ReadAsStringAsync(Ct)));
            }
        }

        answers.Should().OnlyContain(a => a.Status == HttpStatusCode.BadRequest || a.Status == HttpStatusCode.Accepted, "a bad record is a 400, never a 500");
        var surrogate = answers.Single(a => a.Field == "name" && a.Value == 0);
        var field0 = JsonNode.Parse(surrogate.Body)!["records"]![0]!["fields"]![0]!;
        ((string?)field0["pointer"], (string?)field0["code"]).Should().Be(("/subject/name", "RE0104"));
        answers.Single(a => a.Field == "title" && a.Value == 1).Body.Should().Contain("\"pointer\":\"/title\"").And.Contain("RE0104");
        answers.Single(a => a.Field == "severity" && a.Value == 5).Body.Should().Contain("\"pointer\":\"/severity\"");

        var tenThousand = "[" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => i == 7_777
            ? "{\"id\":\"bad\",\"source\":\"itdr\",\"type\":\"x\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"\\udfff\"}}"
            : ServeWorkspace.Finding($"big-{i}", ServeWorkspace.OktaUsers[i % ServeWorkspace.OktaUsers.Length]))) + "]";
        using (var big = await http.SendAsync(Post(url, Encoding.UTF8.GetBytes(tenThousand)), Ct))
        {
            big.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await big.Content.ReadAsStringAsync(Ct)).Should().Contain("\"pointer\":\"/7777/subject/name\"");
        }

        using (var plain = await http.SendAsync(Post(url, Encoding.UTF8.GetBytes(ServeWorkspace.Finding("p-1", ServeWorkspace.OktaUsers[1])), "text/plain"), Ct))
        {
            plain.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        }

        using (var form = await http.SendAsync(Post(url, "id=1&source=x"u8.ToArray(), "application/x-www-form-urlencoded"), Ct))
        {
            form.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        }

        foreach (var times in new[] { 2, 5 })
        {
            using var huge = await http.SendAsync(Post(url, Encoding.UTF8.GetBytes("[" + new string(' ', 4 * 1024 * 1024 * times) + "]")), Ct);
            huge.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, $"{times}x the limit is a 413, not a reset connection");
        }

        using (var good = await http.SendAsync(Post(url, Encoding.UTF8.GetBytes(ServeWorkspace.Finding("g-1", ServeWorkspace.OktaUsers[2]))), Ct))
        {
            good.StatusCode.Should().Be(HttpStatusCode.Accepted, "the service goes on");
        }

        serve.Errors.Should().NotContainEquivalentOf("unhandled").And.NotContain("\"LogLevel\":\"Error\"");
    }

    [Fact]
    public async Task Serve_PortInUse_OneMessageAndExit1BeforeTheDatabaseIsTouched()
    {
        using var workspace = new ServeWorkspace();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;

        var result = await CliProcess.RunAsync(workspace.Path, new Dictionary<string, string> { ["RESPOND_WEBHOOK_TOKEN"] = ServeWorkspace.Token }, "serve", "--listen", $"http://127.0.0.1:{port}");

        result.ExitCode.Should().Be(1, result.Output + result.Error);
        result.Error.Should().Contain($"cannot listen on http://127.0.0.1:{port}").And.Contain("already in use");
        result.Error.Should().NotContainEquivalentOf("exception");
        File.Exists(workspace.Database).Should().BeFalse("nothing is opened or migrated before the port is known to be free");
    }

    [Fact]
    public async Task Serve_ConsoleKeyDirectoryNotWritable_OneMessageAndExit2BeforeTheDatabaseIsTouched()
    {
        // A regular file where the key directory's parent should be: not creatable, even for root.
        using var workspace = new ServeWorkspace("""
            console:
              enabled: true
              key_directory: blocker/keys
              tokens:
                soar: { role: viewer, env: T_CONSOLE_TOKEN_SOAR }
            """);
        workspace.Write("blocker", "a file, not a directory");

        var result = await CliProcess.RunAsync(workspace.Path,
            new Dictionary<string, string> { ["RESPOND_WEBHOOK_TOKEN"] = ServeWorkspace.Token, ["T_CONSOLE_TOKEN_SOAR"] = "console-token-for-the-test" }, "serve", "--listen", "http://127.0.0.1:0");

        result.ExitCode.Should().Be(2, result.Output + result.Error);
        result.Error.Should().Contain("nothing started").And.Contain("console key directory").And.Contain("key_directory");
        result.Error.Should().NotContainEquivalentOf("exception");
        File.Exists(workspace.Database).Should().BeFalse("nothing is opened or migrated when the console cannot keep its keys");
    }

    [Theory]
    [InlineData("no-such-folder", "does not exist")]
    [InlineData("a-file.json", "is a file, not a folder")]
    public async Task Serve_PlanReportFolderMissing_OneMessageAndExit2BeforeTheDatabaseIsTouched(string folder, string says)
    {
        using var workspace = new ServeWorkspace($$"""
            console:
              plan_reports: {{folder}}
              tokens:
                soar: { role: viewer, env: T_CONSOLE_TOKEN_SOAR }
            """);
        workspace.Write("a-file.json", "{}");

        var result = await CliProcess.RunAsync(workspace.Path,
            new Dictionary<string, string> { ["RESPOND_WEBHOOK_TOKEN"] = ServeWorkspace.Token, ["T_CONSOLE_TOKEN_SOAR"] = "console-token-for-the-test" }, "serve", "--listen", "http://127.0.0.1:0");

        result.ExitCode.Should().Be(2, result.Output + result.Error);
        result.Error.Should().Contain("nothing started").And.Contain("plan report folder").And.Contain(says).And.Contain("console.plan_reports");
        result.Error.Should().NotContainEquivalentOf("exception");
        File.Exists(workspace.Database).Should().BeFalse("nothing is opened or migrated when the plan report folder is missing");
    }
}
