using BenchmarkDotNet.Running;
using ResponseEngine.Benchmarks;

// `--measure-plan`: one plan of 100k findings x 200 rules outside BenchmarkDotNet, printing elapsed time and peak
// working set (run it under /usr/bin/time -v for the kernel's view). Anything else goes to BenchmarkDotNet:
//   dotnet run -c Release --project bench/ResponseEngine.Benchmarks -- --filter '*' --job short
// `--write-cli-workload DIR [--findings N] [--rules R] [--users U]`: the workload as files for the real CLI (bench/plan-scaling.sh).
if (args.Contains("--write-cli-workload", StringComparer.Ordinal))
{
    return CliWorkload.Run(args);
}

// `--measure-reader [--findings N] [--passes P]`: the finding reader's fast path against the checked path, findings/s per core (ReaderMeasurement.cs).
if (args.Contains("--measure-reader", StringComparer.Ordinal))
{
    return ReaderMeasurement.Run(args);
}

if (args.Contains("--measure-plan", StringComparer.Ordinal))
{
    return PlanMeasurement.Run(args);
}

// `--profile-run REPO`: `respond run --once` on a scratch copy of REPO's rules and samples, with stopwatches around
// every phase, store call, connector call and guard, then per-call latencies of the pieces (see Executor/RunProfile.cs).
if (args.Contains("--profile-run", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Executor.RunProfile.RunAsync(args).GetAwaiter().GetResult();
}

// `--measure-audit`: SQLite audit rows/s, one row per transaction against group commit and batches (Audit/AuditMeasurement.cs).
if (args.Contains("--measure-audit", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Audit.AuditMeasurement.RunAsync(args).GetAwaiter().GetResult();
}

// `--measure-search [--rows N]`: the console's activity search, filtered first pages over a 1M-row SQLite trail (Search/SearchMeasurement.cs).
if (args.Contains("--measure-search", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Search.SearchMeasurement.RunAsync(args).GetAwaiter().GetResult();
}

// `--measure-floor`: the executor with the Entra connector against the Graph emulator's write limit (Executor/FloorMeasurement.cs).
if (args.Contains("--measure-floor", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Executor.FloorMeasurement.RunAsync(args).GetAwaiter().GetResult();
}

// `--write-local-run DIR --users N --findings M`: inputs for `respond run --once` on the local directory at scale (bench/local-run.sh).
if (args.Contains("--write-local-run", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Executor.LocalRunWorkload.Run(args);
}

// `--peer-export DIR` / `--peer-time DIR`: ResponseEngine's side of the peer comparison (bench/peer/run.sh).
if (args.Contains("--peer-export", StringComparer.Ordinal) || args.Contains("--peer-time", StringComparer.Ordinal))
{
    return ResponseEngine.Benchmarks.Peer.PeerComparison.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
