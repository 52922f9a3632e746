#!/usr/bin/env bash
# Peer comparison in one go (bench/README.md, "Peer comparison"): ResponseEngine, json-logic-js and json-rules-engine
# on the same converted rules and the same 100k findings. First checks that every engine picks the same rules for
# every finding (exit 1 if not), then times each warm and prints throughput and ResponseEngine's ratio to each.
#   bench/peer/run.sh            full: 100,000 findings (json-rules-engine: the first 2,000), 5 timed passes each
#   bench/peer/run.sh --quick    the first 20,000 of the same findings (json-rules-engine: the first 1,000), 3 timed
#                                passes after 1 warm-up pass; for bench/run-quick.sh
# PEER_OUT=DIR keeps the exported data and results in DIR (default: a temporary directory).
# PEER_NO_CLI=1 leaves out the whole-CLI row (`respond plan` as a process on the same corpus written as files, 3 runs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
findings=100000
jre_findings=2000
passes=5
ours_passes=7
warm=(--warm-passes 2 --warm-seconds 3)
# quick: ResponseEngine's pass over 20k findings is ~50 ms, so it takes more passes for a stable median on a busy machine
if [[ "${1:-}" == "--quick" ]]; then findings=20000; jre_findings=1000; passes=3; ours_passes=21; warm=(--warm-passes 1 --warm-seconds 0); fi
if [[ -n "${PEER_OUT:-}" ]]; then
  out=$PEER_OUT
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

if [[ ! -d "$here/node_modules/json-logic-js" || ! -d "$here/node_modules/json-rules-engine" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ -z "${PEER_NO_BUILD:-}" ]]; then
  dotnet build "$repo/bench/ResponseEngine.Benchmarks" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
  [[ -n "${PEER_NO_CLI:-}" ]] || dotnet build "$repo/engine/ResponseEngine.Cli" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
fi
dll="$repo/bench/ResponseEngine.Benchmarks/bin/Release/net10.0/ResponseEngine.Benchmarks.dll"

echo "== export: rules converted, findings and identity facts, ResponseEngine's picks -> $out"
dotnet "$dll" --peer-export "$out" --findings "$findings"
echo "== check: every engine picks the same rules for the same findings"
node "$here/peer.js" check "$out" --jre-findings "$jre_findings"
echo "== time (warm, no I/O in the timed region)"
dotnet "$dll" --peer-time "$out" --passes "$ours_passes" --findings "$findings"
if [[ -z "${PEER_NO_CLI:-}" ]]; then
  echo "== whole CLI: respond plan --format json on the same findings, rules and directory written as files (3 runs)"
  dotnet "$dll" --write-cli-workload "$out/cli" --findings "$findings" > /dev/null
  respond="$repo/engine/ResponseEngine.Cli/bin/Release/net10.0/respond.dll"
  for run in 1 2 3; do
    /usr/bin/time -f "%e %U %S %M" -o "$out/cli-time-$run" \
      dotnet "$respond" plan --rules "$out/cli/rules" --directory "$out/cli/directory.json" --findings "$out/cli/findings.ndjson" \
        --format json --at 2026-03-01T12:00:00Z > "$out/cli-plan.json"
  done
  rules=$(grep -c . "$out/rule-ids.txt")
  node -e '
    const fs = require("fs"); const [dir, findings, rules] = process.argv.slice(1);
    const runs = [1, 2, 3].map((i) => fs.readFileSync(`${dir}/cli-time-${i}`, "utf8").trim().split("\n").pop().split(" ").map(Number));
    const wall = runs.map((r) => Math.round(r[0] * 1000)).sort((a, b) => a - b), cpu = runs.map((r) => Math.round((r[1] + r[2]) * 1000)).sort((a, b) => a - b);
    const rss = Math.max(...runs.map((r) => r[3]));
    const pairs = findings * rules;
    const row = { engine: "respond plan (whole CLI: process start, NDJSON read, plan with guards, JSON written)", findings: +findings, rules: +rules, passes: 3,
      median_ms: wall[1], best_ms: wall[0], pairs_per_second: Math.round(pairs / (wall[1] / 1000)), cpu_median_ms: cpu[1], cpu_min_ms: cpu[0], cpu_max_ms: cpu[2],
      cpu_pairs_per_second: Math.round(pairs / (cpu[1] / 1000)), findings_per_second: Math.round(findings / (wall[1] / 1000)), peak_rss_kb: rss };
    console.error(`respond plan: ${findings} findings in ${wall[1]} ms wall median, CPU ${cpu[0]}/${cpu[1]}/${cpu[2]} ms min/median/max, peak RSS ${Math.round(rss / 1024)} MB`);
    fs.writeFileSync(`${dir}/cli.jsonl`, JSON.stringify(row) + "\n");
  ' "$out" "$findings" "$rules"
fi
node "$here/peer.js" time "$out" --jre-findings "$jre_findings" --passes "$passes" "${warm[@]}" > "$out/peers.jsonl"
node "$here/peer.js" report "$out"
