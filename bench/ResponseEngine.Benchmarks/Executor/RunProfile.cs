using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// `--profile-run REPO`: what `respond run --once` does on the samples, copied step by step from RunCommand and
/// ResponseRun (not changed), in a scratch copy of REPO/rules and REPO/samples, with stopwatches around every phase and
/// timing decorators around the audit store, the connectors and each guard. Then per-call latencies of the pieces
/// (store queries, appends, raw SQLite with synchronous FULL vs NORMAL, the local directory's read/parse) at the trail's
/// size after the run and after seeding it to 10,000 older rows.
/// </summary>
public static class RunProfile
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, "--profile-run");
        var repo = Path.GetFullPath(at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal) ? args[at + 1] : ".");
        if (args.Contains("--in-place", StringComparer.Ordinal))
        {
            // A folder with its own respond.yaml (e.g. one `--write-local-run` wrote): one run there, nothing copied.
            Directory.SetCurrentDirectory(repo);
            await ProfileRunAsync("run in " + repo);
            SqliteConnection.ClearAllPools();
            return 0;
        }

        var scratch = Directory.CreateTempSubdirectory("respond-profile-").FullName;
        CopyDirectory(Path.Combine(repo, "rules"), Path.Combine(scratch, "rules"));
        CopyDirectory(Path.Combine(repo, "samples"), Path.Combine(scratch, "samples"));
        Directory.SetCurrentDirectory(scratch);
        Console.WriteLine($"scratch copy: {scratch}");
        try
        {
            await ProfileRunAsync("run #1 (fresh trail and working copy)");
            await ProfileRunAsync("run #2 (same findings again: dedupe / noop)");
            await PiecesAsync();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.SetCurrentDirectory(repo);
            Directory.Delete(scratch, recursive: true);
        }

        return 0;
    }

    private static async Task ProfileRunAsync(string title)
    {
        var time = TimeProvider.System;
        var timings = new Timings();
        var phases = new List<(string, double)>();
        var total = Stopwatch.StartNew();
        var sw = Stopwatch.StartNew();
        double Lap()
        {
            var ms = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            return ms;
        }

        var options = File.Exists("respond.yaml") ? ConfigLoader.Load("respond.yaml").Options ?? new EngineOptions() : new EngineOptions();
        var load = RuleLoader.Default(time).LoadDirectory(options.Rules);
        phases.Add(("load rules (" + load.Rules.Length + ")", Lap()));
        var read = FindingReader.ReadPaths(options.Findings);
        phases.Add(("read findings (" + read.Findings.Length + ")", Lap()));
        var sqlite = new SqliteAuditStore(options.Audit.Connection, time);
        await using var store = new TimedAuditStore(sqlite, timings);
        await store.InitializeAsync(CancellationToken.None);
        phases.Add(("open + migrate audit store", Lap()));
        using var directory = LocalDirectory.Open(options.Local, Directory.GetCurrentDirectory(), time, options.Privileged);
        var connectors = TimedConnector.Wrap(directory.Connectors(), timings);
        var run = new RunContext("profile-" + Guid.NewGuid().ToString("N")[..6], options, store, connectors, time, false, "bench", Environment.MachineName, "0.0.0-bench");
        await new Reconciler(run, ActionCatalogue.Default).ReconcileAsync(options.ReconcileAfter, CancellationToken.None);
        phases.Add(("reconcile", Lap()));
        var before = timings.Rows().ToDictionary(r => r.Name, r => r.TotalMs);
        var resolver = await ResponseRun.ResolveAsync(read.Findings, run, CancellationToken.None);
        var resolves = timings.Rows().First(r => r.Name == "connector.Resolve").Calls;
        phases.Add(($"resolve identities ({resolves} distinct subjects)", Lap()));
        var plan = new Planner(load.RuleSet!, resolver, time).Plan(read.Findings);
        phases.Add(($"plan ({plan.Decisions.Length} decisions)", Lap()));
        using var executor = new ResponseEngine.Execution.Executor(run, ResponseEngine.Execution.Executor.DefaultGuards(options).Select(g => new TimedGuard(g, timings)));
        var summary = await executor.ExecuteAsync(plan.Decisions, null, CancellationToken.None);
        var executeMs = Lap();
        phases.Add(("execute (guards, audit, connector)", executeMs));

        Console.WriteLine();
        Console.WriteLine($"== {title}: {total.Elapsed.TotalMilliseconds:0} ms in-process; {summary.Results.Length} decisions: "
            + string.Join(", ", summary.Results.GroupBy(r => r.Status).Select(g => $"{g.Key.Name()} {g.Count()}")));
        foreach (var (name, ms) in phases) Console.WriteLine($"  {name,-50} {ms,9:0.0} ms");
        Console.WriteLine($"  execute per decision: {executeMs / Math.Max(1, summary.Results.Length):0.00} ms");
        Console.WriteLine($"  {"operation",-36} {"calls",6} {"total ms",10} {"mean ms",9}   (guards include the store/connector calls they make)");
        foreach (var (name, calls, totalMs, meanMs) in timings.Rows())
        {
            Console.WriteLine($"  {name,-36} {calls,6} {totalMs,10:0.0} {meanMs,9:0.000}");
        }
    }

    private static async Task PiecesAsync()
    {
        Console.WriteLine();
        Console.WriteLine("== pieces, per call (mean of N after warm-up)");
        var time = TimeProvider.System;
        var path = Path.GetFullPath("respond.db");
        await using (var store = new SqliteAuditStore(path, time))
        {
            await StoreCallsAsync(store, path);
            await SeedAsync(path, 10_000);
            await StoreCallsAsync(store, path);
        }

        await RawSqliteAsync();
        await LocalDirectoryAsync();
    }

    private static async Task StoreCallsAsync(SqliteAuditStore store, string path)
    {
        long rows;
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM audit_log";
            rows = (long)command.ExecuteScalar()!;
        }

        var since = time.GetUtcNow() - TimeSpan.FromHours(1);
        var last = await store.ReadAsync(new AuditQuery { Statuses = [AuditStatus.Intended], Limit = 1, Descending = true }, CancellationToken.None);
        var anyKey = last.Count > 0 ? last[0].Entry.IdempotencyKey ?? "none" : "none";
        Console.WriteLine($"  audit trail with {rows:N0} rows:");
        await Report("    Append (1 row, BEGIN IMMEDIATE, synchronous=FULL)", 50, () => store.AppendAsync(new AuditEntry { RunId = "bench", Host = "h", EngineVersion = "0", Actor = "bench", Status = AuditStatus.Skipped, Reason = "bench row" }, CancellationToken.None));
        await Report("    OpenIntentsAsync (lockout + dedupe, per decision)", 50, () => store.OpenIntentsAsync(CancellationToken.None));
        await Report("    ReadAsync by idempotency key (dedupe)", 100, () => store.ReadAsync(new AuditQuery { IdempotencyKey = anyKey, Statuses = [AuditStatus.Intended], DryRun = false }, CancellationToken.None));
        await Report("    CountAsync intents in 1 h (rate limit)", 100, () => store.CountAsync(new AuditQuery { Since = since, Statuses = [AuditStatus.Intended], DryRun = false }, CancellationToken.None));
        await Report("    ReadAsync intents in 1 h (breaker, full rows)", 50, () => store.ReadAsync(new AuditQuery { Since = since, Statuses = [AuditStatus.Intended], DryRun = false }, CancellationToken.None));
        await Report("    BreakerGuard.StateAsync (last breaker event)", 100, () => BreakerGuard.StateAsync(store, CancellationToken.None));
        await Report("    LockAsync + release (lock file)", 100, async () => await (await store.LockAsync(LockoutGuard.LockName, TimeSpan.FromSeconds(5), CancellationToken.None)).DisposeAsync());
    }

    private static readonly TimeProvider time = TimeProvider.System;

    /// <summary>Copies the run's rows, as older closed history (outside every window), until the trail has <paramref name="target"/> rows.</summary>
    private static async Task SeedAsync(string path, int target)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*), MAX(sequence) FROM audit_log";
        while (true)
        {
            command.CommandText = "SELECT COUNT(*) FROM audit_log";
            var count = (long)(await command.ExecuteScalarAsync())!;
            if (count >= target) break;
            command.CommandText =
                """
                INSERT INTO audit_log (sequence, recorded_at, run_id, host, engine_version, actor, status, dry_run, idempotency_key, intent_sequence,
                    rule_id, rule_file, rule_hash, rules_commit, finding_id, finding_source, provider, identity_id, identity_name,
                    action, parameters, destructive, verdict, guard, reason, error, prior_state, facts, previous_hash, hash)
                SELECT sequence + m.top, '2025-01-01T00:00:00.0000000Z', run_id || '-old', host, engine_version, actor, status, dry_run,
                    idempotency_key || '-old', CASE WHEN intent_sequence IS NULL THEN NULL ELSE intent_sequence + m.top END,
                    rule_id, rule_file, rule_hash, rules_commit, finding_id, finding_source, provider, identity_id, identity_name,
                    action, parameters, destructive, verdict, guard, reason, error, prior_state, facts, previous_hash, substr(hash, 1, 48) || printf('%016x', sequence + m.top)
                FROM audit_log, (SELECT MAX(sequence) AS top FROM audit_log) AS m
                WHERE status <> 'breaker_opened' AND status <> 'breaker_rearmed';
                """;
            await command.ExecuteNonQueryAsync();
        }

        transaction.Commit();
    }

    /// <summary>What one durable append costs with the engine's connection-per-call and FULL, against a kept connection and NORMAL.</summary>
    private static async Task RawSqliteAsync()
    {
        Console.WriteLine("  raw SQLite (WAL), insert of one ~1.5 KB row per transaction:");
        var payload = new string('x', 1500);
        foreach (var (label, synchronous, keep) in new[] { ("synchronous=FULL, open per append (engine today)", "FULL", false), ("synchronous=FULL, one kept connection", "FULL", true), ("synchronous=NORMAL, open per append", "NORMAL", false), ("synchronous=NORMAL, one kept connection", "NORMAL", true) })
        {
            var file = Path.GetFullPath($"raw-{synchronous}-{keep}.db");
            var cs = $"Data Source={file};Pooling=True";
            await using (var setup = new SqliteConnection(cs))
            {
                await setup.OpenAsync();
                await Exec(setup, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);");
            }

            SqliteConnection? kept = null;
            if (keep)
            {
                kept = new SqliteConnection(cs);
                await kept.OpenAsync();
                await Exec(kept, $"PRAGMA busy_timeout=30000; PRAGMA synchronous={synchronous};");
            }

            await Report("    " + label, 200, async () =>
            {
                var connection = kept ?? new SqliteConnection(cs);
                try
                {
                    if (kept is null)
                    {
                        await connection.OpenAsync();
                        await Exec(connection, $"PRAGMA busy_timeout=30000; PRAGMA synchronous={synchronous};");
                    }

                    using var transaction = connection.BeginTransaction(deferred: false);
                    using var command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = "INSERT INTO t (payload) VALUES ($p)";
                    command.Parameters.AddWithValue("$p", payload);
                    await command.ExecuteNonQueryAsync();
                    transaction.Commit();
                }
                finally
                {
                    if (kept is null) await connection.DisposeAsync();
                }
            });
            if (kept is not null) await kept.DisposeAsync();
        }
    }

    private static async Task LocalDirectoryAsync()
    {
        var bytes = await File.ReadAllBytesAsync("samples/directory.json");
        Console.WriteLine($"  local directory (samples/directory.json, {bytes.Length / 1024.0:0.0} KB, working copy respond.state/directory.json):");
        using var directory = LocalDirectory.Open(new LocalDirectoryOptions(), Directory.GetCurrentDirectory(), time);
        var connector = directory.Connector(Provider.Ad);
        var snapshot = await directory.ReadSnapshotAsync(CancellationToken.None);
        var user = snapshot.Users.First(u => u.Provider == Provider.Ad && u.Enabled);
        await Report("    SnapshotReader.Read (validate + DirectorySnapshot.Build)", 100, () => Task.FromResult(SnapshotReader.Read(bytes, "x.json", PrivilegedPolicy.Default)));
        await Report("    System.Text.Json JsonDocument.Parse alone", 100, () => { using var d = System.Text.Json.JsonDocument.Parse(bytes); return Task.CompletedTask; });
        await Report("    JsonNode.Parse (the editable tree)", 100, () => Task.FromResult(System.Text.Json.Nodes.JsonNode.Parse(bytes)));
        await Report("    ReadSnapshotAsync (file read + both parses)", 100, () => directory.ReadSnapshotAsync(CancellationToken.None));
        await Report("    connector.ResolveAsync (one subject)", 100, () => connector.ResolveAsync(new Subject(Provider.Ad, user.Id, null), CancellationToken.None));
        await Report("    connector.CountCriticalAsync('Domain Admins')", 100, () => connector.CountCriticalAsync("Domain Admins", CancellationToken.None));
        var reset = new ActionRequest(ActionCatalogue.Default.Find("reset_password")!, ActionParameters.Empty, new TargetRef(Provider.Ad, user.Id, user.Name));
        var disable = new ActionRequest(ActionCatalogue.Default.Find("disable_user")!, ActionParameters.Empty, new TargetRef(Provider.Ad, user.Id, user.Name));
        var enable = new ActionRequest(ActionCatalogue.Default.Find("enable_user")!, ActionParameters.Empty, new TargetRef(Provider.Ad, user.Id, user.Name));
        await Report("    connector.ReadAsync (reset_password)", 100, () => connector.ReadAsync(reset, CancellationToken.None));
        await Report("    connector.VerifyAsync (reset_password)", 100, () => connector.VerifyAsync(reset, CancellationToken.None));
        var flip = false;
        await Report("    connector.ApplyAsync (disable/enable: parse x2, validate, write, fsync, rename)", 50, () =>
        {
            flip = !flip;
            return connector.ApplyAsync(flip ? disable : enable, CancellationToken.None);
        });
    }

    private static async Task Report(string label, int n, Func<Task> call)
    {
        for (var i = 0; i < Math.Max(3, n / 10); i++) await call();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) await call();
        Console.WriteLine($"  {label,-78} {sw.Elapsed.TotalMilliseconds * 1000 / n,10:0} µs  (n={n})");
    }

    private static async Task Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
