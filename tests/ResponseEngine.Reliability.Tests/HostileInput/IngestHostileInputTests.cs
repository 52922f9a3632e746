using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Cli;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Service;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Pollers;
using ResponseEngine.Service.Processing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.HostileInput;

/// <summary>
/// Every input path of findings is total: lone surrogate escapes, invalid UTF-8, a wrong JSON type in every field and
/// 10k-record files give diagnostics naming the field (or a quarantined record with its reason), never an exception,
/// never a stuck poller — through the finding reader, `respond plan` and `respond run`, the folder poller and the HTTP
/// pollers. The webhook's share is in ResponseEngine.Service.Tests (WebhookHostileInputTests), against the real process.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class IngestHostileInputTests : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>The fields of a finding, as the path to their key in <see cref="Template"/>.</summary>
    internal static readonly string[] Fields = ["id", "source", "kind", "type", "severity", "observed_at", "title", "attributes", "subject", "subject/provider", "subject/id", "subject/name", "attributes/note"];

    /// <summary>Values no reader may crash on, as raw bytes: escapes of lone surrogates, invalid UTF-8, and every JSON type.</summary>
    internal static readonly byte[][] HostileValues =
    [
        "\"\\ud800\""u8.ToArray(), "\"\\udfff\""u8.ToArray(), "\"a\\ud800b\""u8.ToArray(), "\"\\udc00\\ud800\""u8.ToArray(),
        [(byte)'"', 0xFF, 0xFE, (byte)'"'], [(byte)'"', (byte)'a', 0xC3, (byte)'"'], [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], [(byte)'"', 0xF4, 0x90, 0x80, 0x80, (byte)'"'],
        "1"u8.ToArray(), "-1.5e309"u8.ToArray(), "true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray(), "[]"u8.ToArray(), "[1,\"x\",null]"u8.ToArray(),
        "{}"u8.ToArray(), "{\"a\":\"\\ud800\"}"u8.ToArray(), "\"\""u8.ToArray(), "\"   \""u8.ToArray(), "\"\\u0000\""u8.ToArray(), "\"\\u001b[31m\""u8.ToArray(),
        Encoding.UTF8.GetBytes("\"" + new string('x', 100_000) + "\""),
    ];

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
        await Task.CompletedTask;
    }

    internal static string Template(string id) =>
        $$$"""{"id":"{{{id}}}","source":"itdr","kind":"detection","type":"account_takeover","severity":"high","observed_at":"2026-11-20T08:00:00Z","title":"t","attributes":{"note":"n"},"subject":{"provider":"okta","id":"00u1","name":"aaron.ford@corp.example.com"}}""";

    /// <summary>The template with one field's value replaced by raw bytes, and the 1-based column of that field's key.</summary>
    internal static (byte[] Line, int KeyColumn) Replace(string id, string field, byte[] value)
    {
        var text = Template(id);
        var path = field.Split('/');
        var from = 0;
        var keyAt = 0;
        foreach (var segment in path)
        {
            keyAt = text.IndexOf($"\"{segment}\":", from, StringComparison.Ordinal);
            from = keyAt + segment.Length + 3;
        }

        var valueStart = from;
        var valueEnd = ValueEnd(text, valueStart);
        var bytes = Encoding.UTF8.GetBytes(text[..valueStart]).Concat(value).Concat(Encoding.UTF8.GetBytes(text[valueEnd..])).ToArray();
        return (bytes, keyAt + 1);
    }

    private static int ValueEnd(string text, int start)
    {
        if (text[start] == '"') return text.IndexOf('"', start + 1) + 1;
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] is '{' or '[') depth++;
            else if (text[i] is '}' or ']') depth--;
            if (depth == 0) return i + 1;
        }

        return text.Length;
    }

    [Fact]
    public async Task FindingReader_HostileValueInEveryField_DiagnosticAtTheFieldNeverAnException()
    {
        var gen = Gen.Select(Gen.Int[0, Fields.Length - 1], Gen.Int[0, HostileValues.Length - 1], Gen.Bool, (f, v, ndjson) => (Field: Fields[f], Value: v, Ndjson: ndjson));
        int rejected = 0, accepted = 0;
        var watchdog = await Watchdog.RunAsync(w => gen.Sample(input =>
        {
            var (line, keyColumn) = Replace("f-1", input.Field, HostileValues[input.Value]);
            var file = input.Ndjson ? "hostile.ndjson" : "hostile.json";
            byte[] bytes = input.Ndjson ? [.. Encoding.UTF8.GetBytes(Template("f-0") + "\n"), .. line, (byte)'\n'] : [.. "[\n"u8, .. Encoding.UTF8.GetBytes(Template("f-0") + ",\n"), .. line, .. "\n]"u8];
            w.Begin($"{input.Field} = {Encoding.UTF8.GetString(HostileValues[input.Value])[..Math.Min(40, HostileValues[input.Value].Length)]} ({file})");
            var load = FindingReader.ReadBytes(bytes, file);
            load.Findings.Should().Contain(f => f.Id == "f-0", "a good record beside a bad one still loads");
            var errors = load.Diagnostics.Where(d => d.IsError).ToList();
            if (errors.Count == 0)
            {
                accepted++;
            }
            else
            {
                rejected++;
                load.Findings.Should().NotContain(f => f.Id == "f-1");
                var recordLine = input.Ndjson ? 2 : 3;
                load.Rejected.Should().ContainSingle().Which.Location.Line.Should().Be(recordLine);
                errors.Should().OnlyContain(d => d.Location.File == file && d.Location.Line == recordLine && d.Code.StartsWith("RE01", StringComparison.Ordinal));
                errors.Should().Contain(d => d.Location.Column >= keyColumn || (input.Field.Contains('/') && d.Location.Column > 1),
                    $"the diagnostic points at the field '{input.Field}' (column {keyColumn}), not at the record: {string.Join(" | ", errors)}");
                if (input.Value < 8) errors.Should().Contain(d => d.Code == DiagnosticCodes.FindingNotText);
            }

            w.End();
        }, iter: Reliability.Inputs(3000), threads: 1), Limit);

        rejected.Should().BeGreaterThan(0);
        Reliability.Record("hostile-input", $"finding fields hostile={watchdog.Inputs} rejected-at-the-field={rejected} accepted={accepted} crashes=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    /// <summary>10,000 records, every 97th with a hostile value in a field that must be text.</summary>
    internal static byte[] TenThousand(bool ndjson, out int bad)
    {
        using var buffer = new MemoryStream();
        bad = 0;
        buffer.Write(ndjson ? ""u8 : "[\n"u8);
        for (var i = 0; i < 10_000; i++)
        {
            var line = i % 97 == 5 ? Replace($"r-{i}", Fields[i % 6], HostileValues[i % 8]).Line : Encoding.UTF8.GetBytes(Template($"r-{i}"));
            if (i % 97 == 5) bad++;
            buffer.Write(line);
            buffer.Write(ndjson ? "\n"u8 : i < 9_999 ? ",\n"u8 : "\n]"u8);
        }

        return buffer.ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FindingReader_TenThousandRecordsWithHostileOnes_EveryBadRecordAtItsLine(bool ndjson)
    {
        var bytes = TenThousand(ndjson, out var bad);
        FindingLoad? load = null;
        var watchdog = await Watchdog.RunAsync(w =>
        {
            w.Begin("10k records");
            load = FindingReader.ReadBytes(bytes, ndjson ? "big.ndjson" : "big.json");
            w.End();
        }, Limit);

        load!.Findings.Should().HaveCount(10_000 - bad);
        load.Rejected.Should().HaveCount(bad);
        load.Rejected.Select(r => r.Location.Line).Should().Equal(Enumerable.Range(0, 10_000).Where(i => i % 97 == 5).Select(i => i + (ndjson ? 1 : 2)));
        Reliability.Record("hostile-input", $"10k-record {(ndjson ? "NDJSON" : "JSON")} file with {bad} hostile records read in {watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    [Fact]
    public void Cli_PlanAndRunWithHostileFindings_Exit2NamingTheFieldUnlessSkipInvalid()
    {
        var findings = Path.Combine(_dir.Path, "hostile.ndjson");
        var (surrogate, column) = Replace("h-1", "subject/name", "\"\\ud800\""u8.ToArray());
        var (wrongType, _) = Replace("h-2", "severity", "[1]"u8.ToArray());
        var (notUtf8, _) = Replace("h-3", "title", [(byte)'"', 0xFF, (byte)'"']);
        File.WriteAllBytes(findings, [.. Encoding.UTF8.GetBytes(Template("h-0") + "\n"), .. surrogate, (byte)'\n', .. wrongType, (byte)'\n', .. notUtf8, (byte)'\n']);
        var config = Path.Combine(_dir.Path, "respond.yaml");
        var db = Path.Combine(_dir.Path, "respond.db");
        File.WriteAllText(config, $"""
            rules: {RepoPaths.Rules}
            audit: {"{"} connection: {db} {"}"}
            local: {"{"} snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_dir.Path, "state", "directory.json")} {"}"}
            """);

        var plan = Cli("plan", "--findings", findings, "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory);
        plan.Exit.Should().Be(2, plan.Err);
        plan.Err.Should().Contain($"{findings}:2:{column}: error RE0104").And.Contain($"{findings}:3:").And.Contain($"{findings}:4:");
        Cli("plan", "--findings", findings, "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory, "--skip-invalid").Exit.Should().Be(0);

        var run = Cli("run", "--once", "--config", config, "--findings", findings);
        run.Exit.Should().Be(2, run.Err);
        run.Err.Should().Contain("nothing done").And.Contain("RE0104");
        File.Exists(db).Should().BeFalse("invalid input: nothing is done, not even the audit file");

        var skipping = Cli("run", "--once", "--config", config, "--findings", findings, "--skip-invalid");
        skipping.Exit.Should().Be(0, skipping.Err);
        skipping.Out.Should().Contain("1 findings");
    }

    private (int Exit, string Out, string Err) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, _time);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<(PollerRegistry Registry, SqliteAuditStore Store, List<(string Result, long Count)> Received)> RegistryAsync(PollerOptions poller, HttpMessageHandler? handler = null)
    {
        var store = new SqliteAuditStore(Path.Combine(_dir.Path, $"{poller.Name}.db"), _time);
        await store.InitializeAsync(Ct);
        var options = new EngineOptions { Serve = new ServeOptions { Pollers = [poller] } };
        var setup = new ServeSetup(options, store, store, new Dictionary<Provider, IConnector>(), () => throw new InvalidOperationException("pollers never run anything"), _time, "test")
        {
            PollerHttp = _ => new HttpClient(handler ?? throw new InvalidOperationException("no http")) { BaseAddress = new Uri("https://vendor.example/") },
        };
        var metrics = new ServiceMetrics();
        var received = new List<(string, long)>();
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == null || instrument.Name != "respond.findings.received") return;
            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "result") lock (received) received.Add(((string)tag.Value!, value));
            }
        });
        listener.Start();
        return (new PollerRegistry(setup, new InboxSignal(), metrics, NullLogger<PollerRegistry>.Instance), store, received);
    }

    [Fact]
    public async Task FolderPoller_HostileFiles_QuarantinedOnceAndAValidFileDroppedAfterIsIngested()
    {
        var drop = Path.Combine(_dir.Path, "drop");
        Directory.CreateDirectory(drop);
        File.WriteAllBytes(Path.Combine(drop, "a-surrogate.ndjson"), [.. Encoding.UTF8.GetBytes(Template("s-0") + "\n"), .. Replace("s-1", "subject/name", "\"\\ud800\""u8.ToArray()).Line, (byte)'\n']);
        File.WriteAllBytes(Path.Combine(drop, "b-not-utf8.json"), Replace("u-1", "title", [(byte)'"', 0xFF, 0xFE, (byte)'"']).Line);
        File.WriteAllBytes(Path.Combine(drop, "c-not-utf8.csv"), [.. "id,type,severity,time,user\nc-1,password_spray,high,2026-11-20T08:00:00Z,"u8, 0xFF, (byte)'\n']);
        File.WriteAllBytes(Path.Combine(drop, "d-big.ndjson"), TenThousand(ndjson: true, out var bad));
        File.WriteAllText(Path.Combine(drop, "e-broken.json"), "{\"id\": ");
        var poller = new PollerOptions("drop", "folder", TimeSpan.FromSeconds(30), ImmutableDictionary<string, string>.Empty.Add("path", drop));
        var (registry, store, received) = await RegistryAsync(poller);
        await using var _ = store;

        await registry.RunAsync("drop", Ct);

        registry.States["drop"].Failures.Should().Be(0, registry.States["drop"].Error);
        var quarantined = await store.ListRejectedAsync(false, Ct);
        quarantined.Should().HaveCount(bad + 4);
        quarantined.Should().Contain(r => r.Key.StartsWith("a-surrogate.ndjson:2:", StringComparison.Ordinal) && r.Reason.Contains("RE0104"));
        quarantined.Should().Contain(r => r.Key == "c-not-utf8.csv" && r.Reason.Contains("not UTF-8"));
        quarantined.Should().OnlyContain(r => r.Origin == "folder:drop" && r.Reason.Length > 0);
        (await store.CountAsync(Ct)).Pending.Should().Be(1 + 10_000 - bad);
        received.Where(r => r.Result == "rejected").Sum(r => r.Count).Should().Be(bad + 4, "the metric counts records");

        File.AppendAllText(Path.Combine(drop, "a-surrogate.ndjson"), Template("s-2") + "\n");
        File.WriteAllText(Path.Combine(drop, "f-good.json"), Template("g-1"));
        await registry.RunAsync("drop", Ct);

        var ids = (await store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).ToList();
        ids.Should().Contain(["s-2", "g-1"], "the poller goes on after hostile files");
        (await store.ListRejectedAsync(false, Ct)).Should().HaveCount(bad + 4, "a record met again is quarantined once");
        received.Where(r => r.Result == "rejected").Sum(r => r.Count).Should().Be(bad + 4, "nor counted again");
    }

    /// <summary>Serves raw byte pages: the Okta System Log with a next link, or Graph lists.</summary>
    private sealed class RawPages(Func<HttpRequestMessage, int, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests) Requests.Add(request.RequestUri!.PathAndQuery);
            return Task.FromResult(answer(request, Requests.Count));
        }
    }

    private static HttpResponseMessage Raw(byte[] body, string? next = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        if (next is not null) response.Headers.TryAddWithoutValidation("Link", $"<{next}>; rel=\"next\"");
        return response;
    }

    private static byte[] OktaEvent(string uuid, string eventType = "\"security.threat.detected\"", string login = "\"ann@corp.example.com\"", string published = "\"2026-11-26T08:59:00.000Z\"") =>
        Encoding.UTF8.GetBytes("{\"uuid\":\"" + uuid + "\",\"published\":" + published + ",\"eventType\":" + eventType
            + ",\"displayMessage\":\"x\",\"severity\":\"WARN\",\"actor\":{\"id\":\"00u9\",\"type\":\"User\",\"alternateId\":\"admin@corp.example.com\"},\"target\":[{\"id\":\"00u1\",\"type\":\"User\",\"alternateId\":" + login
            + "}],\"outcome\":{\"result\":\"SUCCESS\"},\"debugContext\":{\"debugData\":{\"risk\":\"{level=HIGH}\"}}}");

    [Fact]
    public async Task OktaPoller_HostileEvents_QuarantinedAndTheCursorMovesOn()
    {
        byte[][] hostile =
        [
            OktaEvent("e-1", eventType: "42"), OktaEvent("e-2", eventType: "{\"a\":1}"), OktaEvent("e-3", login: "\"\\ud800\""),
            OktaEvent("e-4", login: "[1]"), OktaEvent("e-5", published: "\"yesterday\""), OktaEvent("e-6", published: "7"),
            [.. "{\"uuid\":\"e-7\",\"eventType\":\"security.threat.detected\",\"displayMessage\":\""u8, 0xFF, .. "\"}"u8], "17"u8.ToArray(), OktaEvent("e-8"),
        ];
        var first = Encoding.UTF8.GetBytes("[").Concat(hostile.SelectMany((e, i) => i == 0 ? e : [(byte)',', .. e])).Concat("]"u8.ToArray()).ToArray();
        var handler = new RawPages((request, n) => n == 1 ? Raw(first, "/api/v1/logs?after=9") : Raw("[]"u8.ToArray(), "/api/v1/logs?after=9"));
        var poller = new PollerOptions("okta", "okta_logs", TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        var (registry, store, received) = await RegistryAsync(poller, handler);
        await using var _ = store;

        await registry.RunAsync("okta", Ct);
        await registry.RunAsync("okta", Ct);

        registry.States["okta"].Failures.Should().Be(0, registry.States["okta"].Error);
        handler.Requests.Should().HaveCount(2).And.Subject.Last().Should().Contain("after=9", "the cursor moved past the hostile page: it is not fetched again");
        (await store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).Should().Equal(["e-4", "e-8"], "a login of the wrong type is left out; the user id names the subject");
        var quarantined = await store.ListRejectedAsync(false, Ct);
        quarantined.Select(r => r.Key).Should().BeEquivalentTo(["e-1", "e-2", "#2", "e-5", "e-6", "#6", "#7"]);
        quarantined.Single(r => r.Key == "e-1").Reason.Should().Contain("/eventType");
        received.Where(r => r.Result == "rejected").Sum(r => r.Count).Should().Be(7);
    }

    [Fact]
    public async Task GraphPollers_HostileAlertsAndRiskyUsers_QuarantinedAndThePollerGoesOn()
    {
        var good = """{"id":"a-9","title":"Password spray","category":"CredentialAccess","severity":"high","status":"new","createdDateTime":"2026-11-26T08:00:00Z","lastUpdateDateTime":"2026-11-26T08:10:00Z","evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"azureAdUserId":"11111111-1111-1111-1111-111111111111","userPrincipalName":"ann@corp.example.com"}}]}""";
        string[] alerts =
        [
            """{"id":"a-1","title":"\ud800","severity":"high","createdDateTime":"2026-11-26T08:00:00Z","evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"userPrincipalName":"bob@corp.example.com"}}]}""",
            """{"id":"a-2","title":"x","severity":"high","createdDateTime":7,"evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"userPrincipalName":"bob@corp.example.com"}}]}""",
            """{"id":"a-3","title":"x","severity":"high","createdDateTime":"2026-11-26T08:00:00Z","evidence":{"not":"an array"}}""",
            """{"id":["a-4"],"title":"x","severity":"high","createdDateTime":"2026-11-26T08:00:00Z","evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"userPrincipalName":"bob@corp.example.com"}}]}""",
            "null", good,
        ];
        var alertPage = Encoding.UTF8.GetBytes("{\"value\":[" + string.Join(",", alerts) + "]}");
        var riskyPage = Encoding.UTF8.GetBytes("""{"value":[{"id":"u-1","riskLevel":"high","riskState":"atRisk","riskLastUpdatedDateTime":{"x":1},"userPrincipalName":"bob@corp.example.com"},{"id":"u-2","riskLevel":"high","riskState":"atRisk","riskLastUpdatedDateTime":"2026-11-26T08:00:00Z","userPrincipalName":"\udc00"},{"id":"u-3","riskLevel":"high","riskState":"atRisk","riskLastUpdatedDateTime":"2026-11-26T08:00:00Z","userPrincipalName":"cid@corp.example.com"}]}""");
        var handler = new RawPages((request, _) => Raw(request.RequestUri!.AbsolutePath.Contains("alerts_v2", StringComparison.Ordinal) ? alertPage : riskyPage));
        var settings = ImmutableDictionary<string, string>.Empty;
        var alertsPoller = new PollerOptions("alerts", "graph_alerts", TimeSpan.FromMinutes(1), settings);
        var (alertsRegistry, alertsStore, _) = await RegistryAsync(alertsPoller, handler);
        await using var a = alertsStore;
        var riskyPoller = new PollerOptions("risky", "graph_risky_users", TimeSpan.FromMinutes(1), settings);
        var (riskyRegistry, riskyStore, _) = await RegistryAsync(riskyPoller, handler);
        await using var r = riskyStore;

        await alertsRegistry.RunAsync("alerts", Ct);
        await riskyRegistry.RunAsync("risky", Ct);

        alertsRegistry.States["alerts"].Failures.Should().Be(0, alertsRegistry.States["alerts"].Error);
        riskyRegistry.States["risky"].Failures.Should().Be(0, riskyRegistry.States["risky"].Error);
        (await alertsStore.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).Should().Equal("a-9:11111111-1111-1111-1111-111111111111");
        (await alertsStore.ListRejectedAsync(false, Ct)).Should().HaveCount(4, "the lone surrogate, the numeric date and the array id are rejected, null is not a record; the alert without an evidence array names no user");
        (await riskyStore.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).Should().Equal("u-3:2026-11-26T08:00:00Z");
        (await riskyStore.ListRejectedAsync(false, Ct)).Select(q => q.Key).Should().BeEquivalentTo(["u-1", "#1"]);
    }

    /// <summary>The path of every value in a JSON template: each object member and array item, at any depth.</summary>
    private static IEnumerable<string[]> ValuePaths(JsonNode? node, string[] at)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    string[] path = [.. at, name];
                    yield return path;
                    foreach (var inner in ValuePaths(value, path)) yield return inner;
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    string[] path = [.. at, i.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                    yield return path;
                    foreach (var inner in ValuePaths(array[i], path)) yield return inner;
                }

                break;
        }
    }

    /// <summary>
    /// A vendor record (from <paramref name="template"/>, given its id) with the value at every path replaced in turn by
    /// every hostile value — as raw bytes, so lone surrogate escapes and invalid UTF-8 reach the reader as sent.
    /// </summary>
    private static List<(string Field, byte[] Record)> EveryFieldHostile(Func<string, string> template)
    {
        const string Value = "\u0001hostile\u0001", Marker = "\\u0001hostile\\u0001"; // the value, and how JSON writes it
        var records = new List<(string, byte[])>();
        var n = 0;
        foreach (var path in ValuePaths(JsonNode.Parse(template("x")), []))
        {
            foreach (var value in HostileValues[..^1])
            {
                var copy = JsonNode.Parse(template($"h-{n++}"))!;
                var parent = path[..^1].Aggregate(copy, (node, segment) => node is JsonArray array ? array[int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture)]! : node[segment]!);
                if (parent is JsonArray items) items[int.Parse(path[^1], System.Globalization.CultureInfo.InvariantCulture)] = Value;
                else parent[path[^1]] = Value;
                var text = copy.ToJsonString();
                var at = text.IndexOf("\"" + Marker + "\"", StringComparison.Ordinal);
                records.Add((string.Join('/', path), [.. Encoding.UTF8.GetBytes(text[..at]), .. value, .. Encoding.UTF8.GetBytes(text[(at + Marker.Length + 2)..])]));
            }
        }

        return records;
    }

    private static byte[] JsonArrayOf(IEnumerable<byte[]> records) => [(byte)'[', .. records.SelectMany((r, i) => i == 0 ? r : [(byte)',', .. r]), (byte)']'];

    private static string GoodAlert(string id) =>
        "{\"id\":\"" + id + "\",\"title\":\"Password spray\",\"category\":\"CredentialAccess\",\"severity\":\"high\",\"status\":\"new\",\"createdDateTime\":\"2026-11-26T08:00:00Z\",\"lastUpdateDateTime\":\"2026-11-26T08:10:00Z\",\"evidence\":[{\"@odata.type\":\"#microsoft.graph.security.userEvidence\",\"roles\":[\"compromised\"],\"userAccount\":{\"accountName\":\"ann\",\"domainName\":\"CORP\",\"userSid\":\"S-1-5-21-1004336348-1177238915-682003330-1104\",\"azureAdUserId\":\"11111111-1111-1111-1111-111111111111\",\"userPrincipalName\":\"ann@corp.example.com\"}}],\"mitreTechniques\":[\"T1110\"]}";

    private static string GoodRiskyUser(string id) =>
        "{\"id\":\"" + id + "\",\"isDeleted\":false,\"isProcessing\":false,\"riskLevel\":\"high\",\"riskState\":\"atRisk\",\"riskDetail\":\"none\",\"riskLastUpdatedDateTime\":\"2026-11-26T08:00:00Z\",\"userDisplayName\":\"Cid\",\"userPrincipalName\":\"cid@corp.example.com\"}";

    public static TheoryData<string> VendorKinds => new() { "okta_logs", "graph_alerts", "graph_risky_users" };

    /// <summary>
    /// One page with a hostile value in every field of a vendor record (every path, every hostile value), then a good
    /// record; then a 10k-record page with every 97th record hostile: the poller never fails, the good records after
    /// the bad ones are ingested, the bad ones are quarantined or (when the field is optional) mapped without it.
    /// </summary>
    [Theory]
    [MemberData(nameof(VendorKinds))]
    public async Task HttpPoller_HostileValueInEveryFieldThenTenThousandRecords_NeverStuckAndTheGoodRecordsIngested(string kind)
    {
        Func<string, string> template = kind switch
        {
            "okta_logs" => id => Encoding.UTF8.GetString(OktaEvent(id)),
            "graph_alerts" => GoodAlert,
            _ => GoodRiskyUser,
        };
        string FindingId(string id) => kind switch
        {
            "okta_logs" => id,
            "graph_alerts" => id + ":11111111-1111-1111-1111-111111111111",
            _ => id + ":2026-11-26T08:00:00Z",
        };
        var hostile = EveryFieldHostile(template);
        var first = JsonArrayOf([.. hostile.Select(h => h.Record), Encoding.UTF8.GetBytes(template("good-1"))]);
        var tenThousand = JsonArrayOf(Enumerable.Range(0, 10_000).Select(i => i % 97 == 5 ? hostile[i % hostile.Count].Record : Encoding.UTF8.GetBytes(template($"big-{i}"))));
        var bad = Enumerable.Range(0, 10_000).Count(i => i % 97 == 5);
        byte[] Page(byte[] records) => kind == "okta_logs" ? records : [.. "{\"value\":"u8, .. records, (byte)'}'];
        var handler = new RawPages((request, n) => n switch
        {
            1 => Raw(Page(first), kind == "okta_logs" ? "/api/v1/logs?after=1" : null),
            2 => Raw(Page(tenThousand), kind == "okta_logs" ? "/api/v1/logs?after=2" : null),
            _ => Raw(Page("[]"u8.ToArray()), kind == "okta_logs" ? "/api/v1/logs?after=2" : null),
        });
        var poller = new PollerOptions("vendor", kind, TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        var (registry, store, _) = await RegistryAsync(poller, handler);
        await using var _ = store;

        var watchdog = await Watchdog.RunAsync(w =>
        {
            w.Begin($"{kind}: {hostile.Count} hostile records, then 10k");
            registry.RunAsync("vendor", Ct).GetAwaiter().GetResult();
            registry.States["vendor"].Failures.Should().Be(0, registry.States["vendor"].Error);
            registry.RunAsync("vendor", Ct).GetAwaiter().GetResult();
            registry.States["vendor"].Failures.Should().Be(0, registry.States["vendor"].Error);
            w.End();
        }, Limit);

        var ids = (await store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).ToHashSet(StringComparer.Ordinal);
        ids.Should().Contain(FindingId("good-1"), "the good record after every hostile one is ingested");
        Enumerable.Range(0, 10_000).Where(i => i % 97 != 5).Select(i => FindingId($"big-{i}")).Should().OnlyContain(id => ids.Contains(id), "every good record of the 10k page is ingested");
        var quarantined = await store.ListRejectedAsync(false, Ct);
        quarantined.Should().NotBeEmpty().And.OnlyContain(r => r.Origin == $"{kind}:vendor" && r.Reason.Length > 0);
        quarantined.Should().Contain(r => r.Reason.Contains("not valid Unicode text", StringComparison.Ordinal));
        Reliability.Record("hostile-input", $"{kind} poller: {hostile.Count} records (every field x {HostileValues.Length - 1} hostile values) and a 10k-record page with {bad} hostile: "
            + $"ingested={ids.Count} quarantined={quarantined.Count} failures=0 stuck=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    [Fact]
    public async Task FolderPoller_HostileValueInEveryFieldOfOneFile_QuarantinedAtTheirLinesAndTheGoodRecordsIngested()
    {
        var drop = Path.Combine(_dir.Path, "drop");
        Directory.CreateDirectory(drop);
        var lines = new List<byte[]>();
        foreach (var field in Fields)
        {
            for (var v = 0; v < HostileValues.Length; v++) lines.Add(Replace($"h-{lines.Count}", field, HostileValues[v]).Line);
        }

        lines.Add(Encoding.UTF8.GetBytes(Template("good-1")));
        File.WriteAllBytes(Path.Combine(drop, "every-field.ndjson"), [.. lines.SelectMany(l => l.Append((byte)'\n'))]);
        var poller = new PollerOptions("drop", "folder", TimeSpan.FromSeconds(30), ImmutableDictionary<string, string>.Empty.Add("path", drop));
        var (registry, store, _) = await RegistryAsync(poller);
        await using var _ = store;

        await registry.RunAsync("drop", Ct);
        File.WriteAllText(Path.Combine(drop, "later.json"), Template("good-2"));
        await registry.RunAsync("drop", Ct);

        registry.States["drop"].Failures.Should().Be(0, registry.States["drop"].Error);
        var ids = (await store.ReceivedSinceAsync(DateTimeOffset.MinValue, Ct)).Select(i => i.FindingId).ToList();
        ids.Should().Contain(["good-1", "good-2"]);
        var quarantined = await store.ListRejectedAsync(false, Ct);
        (ids.Count + quarantined.Count).Should().Be(lines.Count + 1, "every record is ingested or quarantined, none dropped silently");
        quarantined.Should().OnlyContain(r => r.Key.StartsWith("every-field.ndjson:", StringComparison.Ordinal));
        Reliability.Record("hostile-input", $"folder poller: {lines.Count - 1} hostile records (every field x {HostileValues.Length} values) in one file: ingested={ids.Count} quarantined={quarantined.Count} failures=0");
    }
}
