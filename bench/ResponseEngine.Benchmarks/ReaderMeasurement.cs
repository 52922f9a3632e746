using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ResponseEngine.Findings;

namespace ResponseEngine.Benchmarks;

/// <summary>
/// `--measure-reader [--findings N] [--passes P]`: the finding reader, the fast path (#23) against the checked path it
/// replaced on valid records (every record through JsonDocument; kept as the reader of invalid records and as the tests'
/// oracle), on the benchmark workload's findings in memory as NDJSON and as one JSON array. Passes alternate old and new
/// in one process, so both see the same machine; each pass is one thread reading N findings, and findings/s per core is
/// N over the process CPU time of the pass (GC included). Prints min/median/max and the load average.
/// </summary>
public static class ReaderMeasurement
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }

        var count = int.Parse(Arg("--findings", "100000"), CultureInfo.InvariantCulture);
        var passes = int.Parse(Arg("--passes", "5"), CultureInfo.InvariantCulture);
        var directory = WorkloadGenerator.BuildDirectory(1000);
        var findings = WorkloadGenerator.Findings(directory, count).ToList();
        var ndjson = new MemoryStream();
        var array = new MemoryStream();
        using (var arrayWriter = new Utf8JsonWriter(array))
        {
            arrayWriter.WriteStartArray();
            foreach (var finding in findings)
            {
                using (var writer = new Utf8JsonWriter(ndjson)) CliWorkload.WriteFinding(writer, finding);
                ndjson.WriteByte((byte)'\n');
                CliWorkload.WriteFinding(arrayWriter, finding);
            }

            arrayWriter.WriteEndArray();
        }

        var inputs = new (string Name, byte[] Bytes, string File)[] { ("NDJSON", ndjson.ToArray(), "bench.ndjson"), ("JSON array", array.ToArray(), "bench.json") };
        Console.WriteLine($"{count:N0} findings ({inputs[0].Bytes.Length / (double)count:F0} bytes each as NDJSON), {passes} passes each, alternating; load average at start {Load()}");

        // Both paths must read the same findings before either is timed.
        foreach (var (name, bytes, file) in inputs)
        {
            var fast = FindingReader.ReadBytes(bytes, file, fast: true);
            var slow = FindingReader.ReadBytes(bytes, file, fast: false);
            if (fast.Findings.Length != count || slow.Findings.Length != count || fast.Diagnostics.Length != 0 || slow.Diagnostics.Length != 0)
            {
                Console.Error.WriteLine($"{name}: fast read {fast.Findings.Length}, checked read {slow.Findings.Length} of {count} ({fast.Diagnostics.Length + slow.Diagnostics.Length} diagnostics)");
                return 1;
            }
        }

        var process = Process.GetCurrentProcess();
        foreach (var (name, bytes, file) in inputs)
        {
            var rates = new Dictionary<bool, List<(double PerCore, double Wall, double Allocated)>> { [false] = [], [true] = [] };
            for (var pass = 0; pass <= passes; pass++)
            {
                foreach (var fast in new[] { false, true })
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                    var clock = Stopwatch.StartNew();
                    var load = FindingReader.ReadBytes(bytes, file, fast);
                    var wall = clock.Elapsed.TotalSeconds;
                    process.Refresh();
                    var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
                    var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)count;
                    GC.KeepAlive(load);
                    if (pass > 0) rates[fast].Add((count / cpu, count / wall, allocated));
                }
            }

            foreach (var fast in new[] { false, true })
            {
                var perCore = rates[fast].Select(r => r.PerCore).Order().ToList();
                var wall = rates[fast].Select(r => r.Wall).Order().ToList();
                Console.WriteLine($"{name,-11} {(fast ? "fast (new)" : "checked (old)"),-14} findings/s per core min {perCore[0],10:N0} median {perCore[perCore.Count / 2],10:N0} max {perCore[^1],10:N0}; "
                    + $"wall median {wall[wall.Count / 2],10:N0}/s; {rates[fast].Select(r => r.Allocated).Average():F0} B allocated per finding");
            }

            var ratio = rates[true].Select(r => r.PerCore).Order().ElementAt(passes / 2) / rates[false].Select(r => r.PerCore).Order().ElementAt(passes / 2);
            Console.WriteLine($"{name,-11} new/old per core (medians) {ratio:F1}x");
        }

        Console.WriteLine($"load average at end {Load()}");
        return 0;
    }

    private static string Load()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
