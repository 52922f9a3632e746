#!/usr/bin/env bash
# The quick set of benchmarks in one go (bench/README.md): under 5 minutes on the 2-core VM, every figure from this run.
#   1. peer comparison: ResponseEngine vs json-logic-js vs json-rules-engine (same rules, same findings, checked first)
#   2. plan of 100k findings x 200 rules: wall time, allocation, peak working set
#   3. SQLite audit rows/s: one row per transaction vs group commit vs AppendManyAsync
#   4. executor with the Entra connector against the Graph emulator's write limit (20 writes/s, window scaled down)
#   5. respond run --once on a local directory of 10k and 100k users (bench/local-run.sh)
# The BenchmarkDotNet suites (evaluation stages, conditions, rule load, executor overhead) are the longer run:
#   dotnet run -c Release --project bench/ResponseEngine.Benchmarks -- --filter '*' --job short --inProcess
# --no-build skips the build (for a second run on the same sources).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
started=$(date +%s)
stamp() { echo "   [$(( $(date +%s) - started )) s]"; }

if [[ "${1:-}" != "--no-build" ]]; then
  echo "== build"
  dotnet build "$repo/bench/ResponseEngine.Benchmarks" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
  dotnet build "$repo/engine/ResponseEngine.Cli" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
fi
dll="$repo/bench/ResponseEngine.Benchmarks/bin/Release/net10.0/ResponseEngine.Benchmarks.dll"
stamp

echo "== 1. peer comparison"
PEER_NO_BUILD=1 "$here/peer/run.sh" --quick
stamp

echo "== 2. plan, 100k findings x 200 rules, 10k-user snapshot"
dotnet "$dll" --measure-plan --repeat 2
stamp

echo "== 3. SQLite audit appends"
dotnet "$dll" --measure-audit --repeat 2
stamp

echo "== 4. executor against the Graph write limit"
dotnet "$dll" --measure-floor --actions 400 --tokens 100 --window-seconds 5
echo "   (the same without write pacing, writes_per_second: 0 — the connector before pacing — for the ratio)"
dotnet "$dll" --measure-floor --actions 400 --tokens 100 --window-seconds 5 --writes-per-second 0 | grep -E "fraction|steady|429s|paced|elapsed"
stamp
echo "== 5. respond run --once on a local directory of 10k and 100k users (one run each, 1,000 actions; bench/local-run.sh for 3 runs)"
"$here/local-run.sh" --no-build --findings 1000 --repeat 1
stamp
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== quick set done in $(( $(date +%s) - started )) s"
