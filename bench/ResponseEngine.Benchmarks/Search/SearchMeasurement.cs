using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;

namespace ResponseEngine.Benchmarks.Search;

/// <summary>
/// <c>--measure-search [--rows N] [--keep FILE] [--no-baseline]</c>: the console's activity search over a big SQLite trail. Fills a fresh
/// file with N rows (default 1,000,000; 30 days, 20,000 identities, 200 rules, 8 actions, 3 providers, the status and
/// guard mix of a busy engine), then times the first page (50 rows, newest first, the exact query the console sends:
/// filter + ORDER BY sequence DESC LIMIT 51) and the page after it, for each filter alone and a few together; median of
/// 5 after one cold read. Then drops the V005 search indexes and times the same queries again, for the ratio.
/// </summary>
public static class SearchMeasurement
{
    private sealed class SteppingTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly string[] Actions = ["disable_user", "revoke_sessions", "reset_password", "remove_from_group", "require_mfa", "enable_user", "deactivate_user", "notify"];
    private static readonly string[] SearchColumns = ["identity_name", "guard", "rule_id", "action", "provider", "status"];
    private static readonly string[] Providers = ["ad", "entra", "okta"];
    private static readonly string[] Guards = ["breaker", "rate_limited", "dedupe", "approval", "lockout_protection", "protected_identity"];

    public static async Task<int> RunAsync(string[] args)
    {
        var rows = Option(args, "--rows") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 1_000_000;
        var keep = Option(args, "--keep");
        var folder = Directory.CreateTempSubdirectory("respond-bench-search-").FullName;
        var path = keep ?? Path.Combine(folder, "respond.db");
        try
        {
            var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
            var span = TimeSpan.FromDays(30);
            var fill = Stopwatch.StartNew();
            if (!File.Exists(path))
            {
                var time = new SteppingTime(start);
                await using var store = new SqliteAuditStore(path, time);
                await store.InitializeAsync(CancellationToken.None);
                const int Batch = 2000;
                var random = new Random(20261207);
                for (var done = 0; done < rows; done += Batch)
                {
                    time.Now = start + (span * ((double)done / rows));
                    var batch = Enumerable.Range(done, Math.Min(Batch, rows - done)).Select(i => Entry(i, random)).ToList();
                    await store.AppendManyAsync(batch, CancellationToken.None);
                }
            }

            fill.Stop();
            SqliteConnection.ClearAllPools();
            var size = new FileInfo(path).Length;
            Console.WriteLine($"SQLite trail: {rows:N0} rows over 30 days, {size / 1024.0 / 1024.0:N0} MB, filled in {fill.Elapsed.TotalSeconds:N0} s (AppendManyAsync, 2,000 rows a call)");
            var mid = start + TimeSpan.FromDays(15);
            var cases = new (string Name, AuditQuery Query)[]
            {
                ("no filter", new AuditQuery()),
                ("identity (one of 20,000: ~50 rows)", new AuditQuery { Identity = "user0001234@corp.example" }),
                ("identity by id", new AuditQuery { Identity = "00u0001234" }),
                ("rule (one of 200)", new AuditQuery { RuleId = "rule-042" }),
                ("action", new AuditQuery { Action = "reset_password" }),
                ("provider", new AuditQuery { Provider = "okta" }),
                ("status succeeded", new AuditQuery { Statuses = [AuditStatus.Succeeded] }),
                ("status failed + timed_out", new AuditQuery { Statuses = [AuditStatus.Failed, AuditStatus.TimedOut] }),
                ("guard breaker (rare)", new AuditQuery { Guard = "breaker" }),
                ("time range (one day, mid-trail)", new AuditQuery { Since = mid, Until = mid + TimeSpan.FromDays(1) }),
                ("rule + status + last 7 days", new AuditQuery { RuleId = "rule-042", Statuses = [AuditStatus.Skipped], Since = start + span - TimeSpan.FromDays(7) }),
                ("identity + time range", new AuditQuery { Identity = "user0001234@corp.example", Since = start, Until = mid }),
                ("rule matching nothing", new AuditQuery { RuleId = "no-such-rule" }),
            };

            var with = await MeasureAsync(path, cases);
            if (args.Contains("--no-baseline", StringComparer.Ordinal))
            {
                // Only the queries as the store sends them now (the pass without V005 takes minutes on a loaded machine).
                Console.WriteLine();
                Console.WriteLine("| Filter | rows on page | first page (ms, median of 5) | cold first page (ms) | next page (ms) |");
                Console.WriteLine("|---|---:|---:|---:|---:|");
                for (var i = 0; i < cases.Length; i++)
                {
                    var (count, warm, cold, next) = with[i];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[i].Name} | {count} | {warm:N1} | {cold:N1} | {next:N1} |"));
                }

                return 0;
            }

            await using (var connection = new SqliteConnection($"Data Source={path}"))
            {
                await connection.OpenAsync();
                await using var drop = connection.CreateCommand();
                drop.CommandText = string.Join(';', SearchColumns.Select(c => $"DROP INDEX IF EXISTS ix_audit_log_search_{c}"));
                await drop.ExecuteNonQueryAsync();
            }

            SqliteConnection.ClearAllPools();
            var without = await MeasureAsync(path, cases);

            // Put the V005 indexes back, so a file kept with --keep measures the same next time.
            await using (var connection = new SqliteConnection($"Data Source={path}"))
            {
                await connection.OpenAsync();
                await using var create = connection.CreateCommand();
                create.CommandText = string.Join(';', SearchColumns.Select(c => $"CREATE INDEX IF NOT EXISTS ix_audit_log_search_{c} ON audit_log ({c})"));
                await create.ExecuteNonQueryAsync();
            }

            SqliteConnection.ClearAllPools();
            Console.WriteLine();
            Console.WriteLine("| Filter | rows on page | first page (ms, median of 5) | cold first page (ms) | next page (ms) | without V005 first page (ms) | ratio |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            for (var i = 0; i < cases.Length; i++)
            {
                var (count, warm, cold, next) = with[i];
                var old = without[i].Warm;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {cases[i].Name} | {count} | {warm:N1} | {cold:N1} | {next:N1} | {old:N1} | {(warm > 0 ? old / warm : 0):N1}x |"));
            }

            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (keep is null) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Per case: rows on the first page, its median time warm, the cold (first) time, and the median time of the page after it.</summary>
    private static async Task<List<(int Count, double Warm, double Cold, double Next)>> MeasureAsync(string path, (string Name, AuditQuery Query)[] cases)
    {
        var results = new List<(int, double, double, double)>();
        await using var store = new SqliteAuditStore(path, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        foreach (var (_, query) in cases)
        {
            var page = query with { Descending = true, Limit = 51 };
            var clock = Stopwatch.StartNew();
            var first = await store.ReadAsync(page, CancellationToken.None);
            var cold = clock.Elapsed.TotalMilliseconds;
            var warm = new List<double>();
            var next = new List<double>();
            for (var r = 0; r < 5; r++)
            {
                clock.Restart();
                first = await store.ReadAsync(page, CancellationToken.None);
                warm.Add(clock.Elapsed.TotalMilliseconds);
                if (first.Count > 50)
                {
                    clock.Restart();
                    await store.ReadAsync(page with { BeforeSequence = first[49].Sequence }, CancellationToken.None);
                    next.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            results.Add((Math.Min(50, first.Count), Median(warm), cold, next.Count == 0 ? 0 : Median(next)));
        }

        return results;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static AuditEntry Entry(int i, Random random)
    {
        var user = random.Next(20_000);
        var roll = random.Next(1000);
        var status = roll switch
        {
            < 350 => AuditStatus.Intended,
            < 650 => AuditStatus.Succeeded,
            < 680 => AuditStatus.Noop,
            < 700 => AuditStatus.Failed,
            < 705 => AuditStatus.TimedOut,
            < 900 => AuditStatus.Skipped,
            < 960 => AuditStatus.DryRun,
            < 995 => AuditStatus.Held,
            _ => AuditStatus.Approved,
        };
        // A rare guard (breaker, ~2 in 1,000 refusals) and common ones.
        var guard = status is AuditStatus.Skipped or AuditStatus.Held ? (random.Next(1000) < 2 ? "breaker" : Guards[1 + random.Next(Guards.Length - 1)]) : null;
        return new AuditEntry
        {
            RunId = $"run-{i / 500:D6}", Host = "bench", EngineVersion = "bench", Actor = "respond@bench", Status = status, DryRun = status == AuditStatus.DryRun,
            IdempotencyKey = $"k{i / 2:D8}", IntentSequence = status.IsOutcome() ? i : null, RuleId = $"rule-{random.Next(200):D3}", RuleHash = "sha256:bench",
            FindingId = $"f{i:D8}", FindingSource = "bench", Provider = Providers[random.Next(Providers.Length)], IdentityId = $"00u{user:D7}", IdentityName = $"user{user:D7}@corp.example",
            Action = Actions[random.Next(Actions.Length)], Parameters = "{}", Destructive = random.Next(2) == 0, Verdict = "execute", Guard = guard,
            Reason = guard is null ? null : "limit of 200 per hour reached", Facts = """{"finding":{"type":"account_takeover","severity":"high"},"identity":{"privileged":false}}""",
        };
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
