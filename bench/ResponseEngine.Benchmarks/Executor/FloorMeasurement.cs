using System.Diagnostics;
using System.Globalization;
using System.Text;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Entra;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.TestKit.Graph;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// <c>--measure-floor</c>: the executor against Graph's write limit. The Graph emulator (tests/ResponseEngine.TestKit/Graph)
/// runs on a loopback port on the wall clock with its write bucket set to Graph's documented rate — about 3,000 writes per
/// 150 s per app and tenant, 20 writes/s — with the window scaled down for a quick run (default 100 per 5 s: the same
/// rate, a smaller burst). The real Entra connector (Microsoft Graph SDK) and a SQLite audit trail (WAL, synchronous=FULL)
/// execute <c>disable_user</c> on N distinct users, one Graph write each (PATCH accountEnabled), with the shipped guards
/// (rate limits off, breaker out of reach, as in <see cref="ExecutorBenchmarks"/>).
/// <para>
/// Reported: achieved actions/s, and as a fraction of (a) the limit's rate and (b) the most the token bucket could admit
/// in the elapsed time (its initial burst plus rate x elapsed), plus the steady state after the burst; the 429s Graph
/// answered (the connector waits them out) and any 429 that surfaced as a failed action (must be 0).
/// </para>
/// </summary>
public static class FloorMeasurement
{
    private const string RuleYaml =
        """
        id: bench-entra-disable
        title: Benchmark - disable the Entra subject of a compromise finding
        owner: bench
        mode: enforce
        match:
          types: [bench_compromise]
          providers: [entra]
          min_severity: low
        actions:
          - action: disable_user
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var actions = Int(args, "--actions", 400);
        var tokens = Int(args, "--tokens", 100);
        var window = TimeSpan.FromSeconds(Int(args, "--window-seconds", 5));
        var concurrency = Int(args, "--concurrency", new EngineOptions().ConcurrencyPerProvider);
        var writesPerSecond = Int(args, "--writes-per-second", (int)EntraOptions.DocumentedWritesPerSecond); // 0: no pacing (the connector before pacing)
        var limit = new GraphLimit(tokens, window);
        var rate = tokens / window.TotalSeconds;

        var folder = Directory.CreateTempSubdirectory("respond-bench-floor-").FullName;
        try
        {
            await using var emulator = await GraphEmulator.StartAsync(TimeProvider.System);
            emulator.WriteLimit = limit;
            var users = new List<UserEntry>(actions);
            for (var i = 0; i < actions; i++)
            {
                var id = new Guid(i + 1, 0x1234, 0x5678, 0, 0, 0, 0, 0, 0, 0, 0).ToString();
                var upn = string.Create(CultureInfo.InvariantCulture, $"user{i:D6}@contoso.example");
                emulator.AddUser(id, upn);
                users.Add(new UserEntry(Provider.Entra, id, upn[..upn.IndexOf('@', StringComparison.Ordinal)]) { Upn = upn, Enabled = true, Groups = [], Roles = [], Tags = [] });
            }

            var snapshot = DirectorySnapshot.Build(users, [], PrivilegedPolicy.Default, WorkloadGenerator.Now);
            var rules = Workload.LoadRules([("rules/bench/bench-entra-disable.yaml", Encoding.UTF8.GetBytes(RuleYaml))]);
            var findings = users.Select((u, i) => new Finding(
                string.Create(CultureInfo.InvariantCulture, $"floor-{i:D6}"), "bench", FindingKind.Detection, ExecutorWorkload.FindingType, Severity.High,
                WorkloadGenerator.Now - TimeSpan.FromMinutes(5), new Subject(Provider.Entra, u.Id, null), "bench compromise",
                System.Collections.Immutable.ImmutableDictionary<string, System.Text.Json.JsonElement>.Empty)).ToArray();
            var decisions = new Planner(rules, snapshot, TimeProvider.System).Plan(findings).Decisions;
            if (decisions.Length != actions || decisions.Any(d => d.Verdict != Verdict.Execute))
            {
                throw new InvalidOperationException($"expected {actions} disable_user decisions to execute, the plan has {decisions.Length}");
            }

            var options = new EntraOptions
            {
                TenantId = "11111111-2222-3333-4444-555555555555",
                ClientId = "66666666-7777-8888-9999-000000000000",
                BaseUrl = emulator.BaseUrl,
                Auth = EntraAuthMode.ClientSecret,
                ClientSecret = "unused: the credential double answers",
                WritesPerSecond = writesPerSecond,
            };
            using var connector = EntraConnector.Create(options, PrivilegedPolicy.Default, TimeProvider.System, new StaticTokenCredential(), workingDirectory: folder);
            await using var store = new SqliteAuditStore(Path.Combine(folder, "respond.db"), TimeProvider.System);
            await store.InitializeAsync(CancellationToken.None);
            var engineOptions = ExecutorWorkload.Options with { ConcurrencyPerProvider = concurrency };
            var run = new RunContext("bench-floor", engineOptions, store, new Dictionary<Provider, IConnector> { [Provider.Entra] = connector },
                TimeProvider.System, dryRun: false, "bench", "bench-host", "0.0.0-bench");

            var clock = Stopwatch.StartNew();
            RunSummary summary;
            using (var executor = new ResponseEngine.Execution.Executor(run))
            {
                summary = await executor.ExecuteAsync(decisions, null, CancellationToken.None);
            }

            var elapsed = clock.Elapsed;
            var succeeded = summary.Count(AuditStatus.Succeeded);
            var failures = summary.Results.Where(r => r.Status != AuditStatus.Succeeded).ToList();
            var surfaced429 = failures.Count(r => r.Detail?.Contains("429", StringComparison.Ordinal) == true
                                                  || r.Detail?.Contains("TooManyRequests", StringComparison.OrdinalIgnoreCase) == true
                                                  || r.Detail?.Contains("throttl", StringComparison.OrdinalIgnoreCase) == true);
            var requests = emulator.Requests;
            var writes = requests.Count(r => r.Method != "GET" && r.Status is >= 200 and < 300);
            var throttled = emulator.Throttled;
            var stillEnabled = users.Count(u => emulator.Tenant.Users.TryGetValue(u.Id, out var user) && user.AccountEnabled);

            var achieved = succeeded / elapsed.TotalSeconds;
            var bucketMax = (tokens + (rate * elapsed.TotalSeconds)) / elapsed.TotalSeconds;
            // Steady state, from the emulator's own log: once the bucket first ran dry (the first 429), it can admit at most
            // rate x time more writes; the writes it accepted from then to the last one, per second, against that rate.
            var firstThrottle = requests.Where(r => r.Status == 429).Select(r => (DateTimeOffset?)r.At).Min();
            var lastWrite = requests.Where(r => r.IsWrite && r.Status is >= 200 and < 300).Select(r => r.At).DefaultIfEmpty().Max();
            var steadyWrites = firstThrottle is { } from ? requests.Count(r => r.IsWrite && r.Status is >= 200 and < 300 && r.At > from) : 0;
            var steady = firstThrottle is { } start && lastWrite > start ? steadyWrites / (lastWrite - start).TotalSeconds : double.NaN;
            // The same without needing a 429 (a paced connector may never get one): accepted writes per second over the
            // second half of the run, from the middle accepted write to the last.
            var acceptedAt = requests.Where(r => r.IsWrite && r.Status is >= 200 and < 300).Select(r => r.At).Order().ToList();
            var half = acceptedAt.Count / 2;
            var secondHalf = acceptedAt.Count > 2 && acceptedAt[^1] > acceptedAt[half] ? (acceptedAt.Count - 1 - half) / (acceptedAt[^1] - acceptedAt[half]).TotalSeconds : double.NaN;

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Executor against the Graph write limit: emulator bucket {tokens} writes per {window.TotalSeconds:F0} s = {rate:F1} writes/s (Graph documents ~3,000 per 150 s = 20/s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Entra connector (Graph SDK) over loopback HTTP, SQLite audit (WAL, FULL), ConcurrencyPerProvider = {concurrency}, {actions} disable_user actions"));
            Console.WriteLine();
            Console.WriteLine("| Figure | Value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| actions succeeded / failed | {succeeded:N0} / {failures.Count:N0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| elapsed | {elapsed.TotalSeconds:F1} s |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| achieved | {achieved:F1} actions/s |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **fraction of the limit's rate** ({rate:F0}/s) | **{achieved / rate:P0}** |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| fraction of what the bucket could admit in that time (burst {tokens} + {rate:F0}/s) | {achieved / bucketMax:P0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| steady state: writes accepted from the first 429 to the last write | {(firstThrottle is null ? "no 429 at all" : $"{steadyWrites:N0} = {steady:F1} writes/s = **{steady / rate:P0}** of the rate")} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| steady state: writes accepted per second over the second half of the run | {secondHalf:F1} writes/s = **{secondHalf / rate:P0}** of the rate |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Graph writes accepted / 429s answered (waited out by the connector) | {writes:N0} / {throttled:N0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **429s surfaced as failed actions** | **{surfaced429}** |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| connector: time waiting on Retry-After, retries | {connector.ThrottleWaited.TotalSeconds:F1} s, {connector.Retries:N0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| connector: writes paced to writes_per_second = {options.WritesPerSecond:0.#} (burst {options.WriteBurst}), time waited | {connector.WritesPaced.TotalSeconds:F1} s |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| users still enabled in the emulator afterwards | {stillEnabled} |"));
            foreach (var failure in failures.Take(5)) Console.WriteLine($"  failed: {failure.Status.Name()} {failure.Detail}");
            return failures.Count == 0 && stillEnabled == 0 ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int Int(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
