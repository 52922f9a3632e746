// Webhook-to-action latency of `respond serve` at a fixed arrival rate (an open-loop load test: posts are sent on a
// schedule whether or not earlier ones are done, so queueing shows in the latency, which a closed loop would hide).
//
//   dotnet run -c Release --project bench/ResponseEngine.ServeBenchmark -- [--rate 50] [--seconds 60] [--warmup 5] [--batch 50] [--profile]
//
// In process: the service host (ServeHost.Build, the same as `respond serve`) on 127.0.0.1, a SQLite audit file and the
// local directory connector on a generated snapshot of 20,000 Okta users, one rule (account_takeover → disable_user).
// Each post is one signed finding for a distinct user. Latency = the `succeeded` outcome row's recorded_at (after the
// connector applied and verified the change) minus the moment the post was sent; also reported to the intent row.
// --profile wraps the executor's audit store and connectors in stopwatches (bench/ResponseEngine.Benchmarks/
// Executor/Timing.cs) and prints where the time went: calls, total and mean per operation.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using ResponseEngine.Audit;
using ResponseEngine.Benchmarks.Executor;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Service;
using ResponseEngine.Service.Webhook;

var rate = Arg("--rate", 50);
var seconds = Arg("--seconds", 60);
var warmup = Arg("--warmup", 5);
var batch = Arg("--batch", 50);
var timings = args.Contains("--profile") ? new Timings() : null;
const string Secret = "bench-secret";
var time = TimeProvider.System;

var dir = Path.Combine(Path.GetTempPath(), "respond-serve-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(Path.Combine(dir, "rules"));
var users = (rate * (seconds + warmup)) + 100;
var snapshot = new JsonObject
{
    ["version"] = 1,
    ["groups"] = new JsonArray(new JsonObject { ["provider"] = "okta", ["id"] = "00gEveryone", ["name"] = "Everyone", ["okta_type"] = "BUILT_IN" }),
    ["users"] = new JsonArray([.. Enumerable.Range(0, users).Select(i => (JsonNode)new JsonObject
    {
        ["provider"] = "okta", ["id"] = $"00u{i:D8}", ["name"] = $"user{i}@corp.example.com", ["upn"] = $"user{i}@corp.example.com",
        ["email"] = $"user{i}@corp.example.com", ["groups"] = new JsonArray("Everyone"),
    })]),
};
File.WriteAllText(Path.Combine(dir, "directory.json"), snapshot.ToJsonString());
File.WriteAllText(Path.Combine(dir, "rules", "takeover.yaml"), """
    id: okta-takeover-disable
    title: Disable an Okta account taken over
    owner: bench
    mode: enforce
    match: { types: [account_takeover], providers: [okta] }
    actions:
      - action: disable_user
    """);
Directory.SetCurrentDirectory(dir);

var options = new EngineOptions
{
    Rules = Path.Combine(dir, "rules"),
    Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 1_000_000 }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
    Serve = new ServeOptions { Listen = "http://127.0.0.1:0", BatchSize = batch, WatchRules = false, PollInterval = TimeSpan.FromSeconds(1) },
};
await using var store = new SqliteAuditStore(Path.Combine(dir, "respond.db"), time);
await store.InitializeAsync(CancellationToken.None);
var local = LocalDirectory.Open(Path.Combine(dir, "directory.json"), Path.Combine(dir, "state", "directory.json"), time);
var connectors = Providers.All.ToDictionary(p => p, p => (IConnector)local.Connector(p));
IReadOnlyDictionary<Provider, IConnector> runConnectors = timings is null ? connectors : TimedConnector.Wrap(connectors, timings);
IAuditStore runStore = timings is null ? store : new TimedAuditStore(store, timings);
var started = new TaskCompletionSource<string>();
var setup = new ServeSetup(options, store, store, connectors,
    () => new RunContext($"bench-{Guid.NewGuid():N}"[..16], options, runStore, runConnectors, time, false, "bench", Environment.MachineName, "bench"), time, "bench")
{
    HmacSecret = Secret,
    Started = started.SetResult,
};
var app = ServeHost.Build(setup);
await app.StartAsync();
var url = new Uri(new Uri(await started.Task), "/v1/findings");
Console.Error.WriteLine($"listening on {url}; {users} users; {rate}/s for {warmup}+{seconds} s; batch {batch}");

using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
var sent = new Dictionary<string, DateTimeOffset>();
var posts = new List<Task<int>>();
var total = rate * (seconds + warmup);
var clock = Stopwatch.StartNew();
var interval = TimeSpan.FromSeconds(1.0 / rate);
for (var i = 0; i < total; i++)
{
    var due = interval * i;
    var wait = due - clock.Elapsed;
    if (wait > TimeSpan.Zero) await Task.Delay(wait);
    var id = $"bench-{i:D6}";
    var body = $$"""{"id":"{{id}}","source":"bench","kind":"detection","type":"account_takeover","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"okta","name":"user{{i}}@corp.example.com"},"title":"bench"}""";
    var at = time.GetUtcNow();
    var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
    var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    request.Headers.Add(WebhookAuthenticator.TimestampHeader, timestamp);
    request.Headers.Add(WebhookAuthenticator.SignatureHeader, WebhookAuthenticator.Sign(Secret, timestamp, Encoding.UTF8.GetBytes(body)));
    sent[id] = at;
    posts.Add(Send(request));
}

var statuses = await Task.WhenAll(posts);
var sendSeconds = clock.Elapsed.TotalSeconds;
var deadline = Stopwatch.StartNew();
IReadOnlyList<AuditRecord> done;
while (true)
{
    done = await store.ReadAsync(new AuditQuery { Statuses = [AuditStatus.Succeeded] }, CancellationToken.None);
    if (done.Count >= total || deadline.Elapsed > TimeSpan.FromMinutes(5)) break;
    await Task.Delay(200);
}

var intents = (await store.ReadAsync(new AuditQuery { Statuses = [AuditStatus.Intended] }, CancellationToken.None)).ToDictionary(r => r.Entry.FindingId!, r => r.RecordedAt);
await app.StopAsync();

var measured = done.Where(r => r.Entry.FindingId is { } f && int.Parse(f[6..], CultureInfo.InvariantCulture) >= rate * warmup).ToList();
var toAction = measured.Select(r => (r.RecordedAt - sent[r.Entry.FindingId!]).TotalMilliseconds).Order().ToList();
var toIntent = measured.Select(r => (intents[r.Entry.FindingId!] - sent[r.Entry.FindingId!]).TotalMilliseconds).Order().ToList();
Console.WriteLine($"rate {rate}/s for {seconds} s after {warmup} s warm-up (sent in {sendSeconds:0.0} s); batch {batch}; {users} users; SQLite audit; local directory connector");
Console.WriteLine($"posts: {statuses.Count(s => s == 202)} accepted (202) of {total}; actions succeeded: {done.Count}; measured: {measured.Count}");
Console.WriteLine($"webhook → action (outcome row): p50 {P(toAction, 50):0.0} ms  p90 {P(toAction, 90):0.0} ms  p99 {P(toAction, 99):0.0} ms  max {toAction.LastOrDefault():0.0} ms");
Console.WriteLine($"webhook → intent row:           p50 {P(toIntent, 50):0.0} ms  p90 {P(toIntent, 90):0.0} ms  p99 {P(toIntent, 99):0.0} ms  max {toIntent.LastOrDefault():0.0} ms");
if (timings is not null)
{
    Console.WriteLine($"{"operation",-28} {"calls",8} {"total ms",10} {"mean ms",9}");
    foreach (var (name, calls, totalMs, meanMs) in timings.Rows()) Console.WriteLine($"{name,-28} {calls,8} {totalMs,10:0} {meanMs,9:0.00}");
}

Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.SetCurrentDirectory(Path.GetTempPath());
Directory.Delete(dir, recursive: true);
return done.Count >= total ? 0 : 1;

async Task<int> Send(HttpRequestMessage request)
{
    using (request)
    using (var response = await http.SendAsync(request))
    {
        return (int)response.StatusCode;
    }
}

static double P(List<double> sorted, int percentile) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
