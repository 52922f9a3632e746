using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Benchmarks;

/// <summary>
/// Plans once (plus repeats) in a plain process and prints wall time, allocation and working set, which a
/// BenchmarkDotNet run does not report: how much memory a 100k-finding plan really needs.
/// </summary>
public static class PlanMeasurement
{
    public static int Run(string[] args)
    {
        var repeats = 3;
        var index = Array.IndexOf(args, "--repeat");
        if (index >= 0 && index + 1 < args.Length) repeats = int.Parse(args[index + 1], CultureInfo.InvariantCulture);

        var process = Process.GetCurrentProcess();
        var clock = Stopwatch.StartNew();
        var workload = Workload.Create(EvaluationBenchmarks.RuleCount, EvaluationBenchmarks.UserCount, EvaluationBenchmarks.FindingCount);
        var setup = clock.Elapsed;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        Print("workload", $"{workload.Rules.Rules.Length} rules, {workload.Snapshot.Users.Length} users, {workload.Findings.Length} findings, built in {setup.TotalMilliseconds:F0} ms");
        Print("candidate pairs", $"{workload.CandidatePairs():N0} (finding, rule) pairs reach the planner after the type/provider index (of {(long)workload.Findings.Length * workload.Rules.Rules.Length:N0} nominal)");
        Print("working set before plan", Mb(baseline));

        var planner = new Planner(workload.Rules, workload.Snapshot, Workload.Time);
        for (var run = 1; run <= repeats; run++)
        {
            PlanOnce(planner, workload, run, heapBefore, process);
        }

        process.Refresh();
        Print("peak working set", Mb(process.PeakWorkingSet64));
        return 0;
    }

    /// <summary>One plan in its own frame, so that the plan is garbage once it returns and runs do not pile up.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PlanOnce(Planner planner, Workload workload, int run, long heapBefore, Process process)
    {
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var plan = planner.Plan(workload.Findings);
        var elapsed = clock.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        process.Refresh();
        Print($"plan #{run}",
            $"{elapsed.TotalMilliseconds:F0} ms (process CPU {cpu.TotalMilliseconds:F0} ms), {plan.Decisions.Length:N0} decisions for {plan.MatchedFindingCount:N0} findings, " +
            $"allocated {Mb(allocated)} ({allocated / (double)workload.Findings.Length:F0} B/finding), plan retains {Mb(retained)}, " +
            $"GCs gen0 {GC.CollectionCount(0) - gen0} gen2 {GC.CollectionCount(2) - gen2}, working set {Mb(process.WorkingSet64)}");
        if (run == 1)
        {
            foreach (var (verdict, count) in plan.CountByVerdict()) Print($"  {verdict.Name()}", count.ToString("N0", CultureInfo.InvariantCulture));
        }

        GC.KeepAlive(plan);
    }

    private static void Print(string label, string value) => Console.WriteLine($"{label,-24} {value}");

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:F1} MB";
}
