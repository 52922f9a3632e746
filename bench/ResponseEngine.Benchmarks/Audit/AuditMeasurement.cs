using System.Diagnostics;
using System.Globalization;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;

namespace ResponseEngine.Benchmarks.Audit;

/// <summary>
/// <c>--measure-audit</c>: the cases of <see cref="AuditAppendBenchmarks"/> in a plain process, one after another on
/// fresh files, each repeated; prints rows per second (wall clock, median of the repeats), the process CPU time per row
/// (which a busy shared machine disturbs far less than wall time) and each case's ratio to the one-row-per-transaction
/// path. Quick enough for bench/run-quick.sh.
/// </summary>
public static class AuditMeasurement
{
    public static async Task<int> RunAsync(string[] args)
    {
        var repeats = 3;
        var at = Array.IndexOf(args, "--repeat");
        if (at >= 0 && at + 1 < args.Length) repeats = int.Parse(args[at + 1], CultureInfo.InvariantCulture);
        const int Rows = 4096;
        var entries = Enumerable.Range(0, Rows).Select(AuditAppendBenchmarks.Entry).ToArray();

        var cases = new (string Name, int Rows, Func<SqliteAuditStore, Task<long>> Run)[]
        {
            ("1 writer, one row per transaction (old path)", 500, async store =>
            {
                long last = 0;
                for (var i = 0; i < 500; i++) last = (await store.AppendAsync(entries[i], CancellationToken.None)).Sequence;
                return last;
            }),
            ("8 concurrent writers, group commit", Rows, store => Concurrent(store, entries, 8)),
            ("64 concurrent writers, group commit", Rows, store => Concurrent(store, entries, 64)),
            ("AppendManyAsync, 100 rows per call", Rows, store => Batches(store, entries, 100)),
            ("AppendManyAsync, 1,024 rows per call", Rows, store => Batches(store, entries, 1024)),
        };

        Console.WriteLine($"SQLite audit appends: WAL, synchronous=FULL, ~1.2 KB executor-like rows, fresh file per run, median of {repeats} (+1 warm-up)");
        Console.WriteLine();
        Console.WriteLine("| Case | rows | rows/s (wall) | ratio | CPU per row | commits |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double? baseline = null;
        foreach (var (name, rows, run) in cases)
        {
            var results = new List<(double RowsPerSecond, double CpuMicros, long Commits)>();
            for (var r = 0; r <= repeats; r++)
            {
                var folder = Directory.CreateTempSubdirectory("respond-bench-audit-").FullName;
                try
                {
                    var store = new SqliteAuditStore(Path.Combine(folder, "respond.db"), Workload.Time);
                    await store.InitializeAsync(CancellationToken.None);
                    var process = Process.GetCurrentProcess();
                    var cpu = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    var last = await run(store);
                    var wall = clock.Elapsed;
                    process.Refresh();
                    var cpuUsed = process.TotalProcessorTime - cpu;
                    if (last != rows) throw new InvalidOperationException($"{name}: expected {rows} rows, the last sequence is {last}");
                    var verification = await store.VerifyAsync(CancellationToken.None);
                    if (!verification.Intact || verification.RowsChecked != rows) throw new InvalidOperationException($"{name}: chain {verification}");
                    if (r > 0) results.Add((rows / wall.TotalSeconds, cpuUsed.TotalMicroseconds / rows, store.Commits));
                    await store.DisposeAsync();
                }
                finally
                {
                    Directory.Delete(folder, recursive: true);
                }
            }

            results.Sort((a, b) => a.RowsPerSecond.CompareTo(b.RowsPerSecond));
            var median = results[results.Count / 2];
            baseline ??= median.RowsPerSecond;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {rows:N0} | **{median.RowsPerSecond:N0}** | {median.RowsPerSecond / baseline.Value:F1}x | {median.CpuMicros:F0} µs | {median.Commits:N0} |"));
        }

        return 0;
    }

    private static async Task<long> Concurrent(SqliteAuditStore store, AuditEntry[] entries, int writers)
    {
        var each = entries.Length / writers;
        var ends = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            long last = 0;
            for (var i = 0; i < each; i++) last = (await store.AppendAsync(entries[(w * each) + i], CancellationToken.None)).Sequence;
            return last;
        })));
        return ends.Max();
    }

    private static async Task<long> Batches(SqliteAuditStore store, AuditEntry[] entries, int size)
    {
        long last = 0;
        for (var start = 0; start < entries.Length; start += size)
        {
            last = (await store.AppendManyAsync(new ArraySegment<AuditEntry>(entries, start, Math.Min(size, entries.Length - start)), CancellationToken.None))[^1].Sequence;
        }

        return last;
    }
}
