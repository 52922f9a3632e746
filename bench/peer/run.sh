#!/usr/bin/env bash
# Peer comparison in one go (bench/README.md, "Peer comparison"): ResponseEngine, json-logic-js and json-rules-engine
# on the same converted rules and the same 100k findings. First checks that every engine picks the same rules for
# every finding (exit 1 if not), then times each warm and prints throughput and ResponseEngine's ratio to each.
#   bench/peer/run.sh            full: 100,000 findings (json-rules-engine: the first 2,000), 5 timed passes each
#   bench/peer/run.sh --quick    the first 20,000 of the same findings (json-rules-engine: the first 1,000), 3 timed
#                                passes after 1 warm-up pass; for bench/run-quick.sh
# PEER_OUT=DIR keeps the exported data and results in DIR (default: a temporary directory).
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
fi
dll="$repo/bench/ResponseEngine.Benchmarks/bin/Release/net10.0/ResponseEngine.Benchmarks.dll"

echo "== export: rules converted, findings and identity facts, ResponseEngine's picks -> $out"
dotnet "$dll" --peer-export "$out" --findings "$findings"
echo "== check: every engine picks the same rules for the same findings"
node "$here/peer.js" check "$out" --jre-findings "$jre_findings"
echo "== time (warm, no I/O in the timed region)"
dotnet "$dll" --peer-time "$out" --passes "$ours_passes" --findings "$findings"
node "$here/peer.js" time "$out" --jre-findings "$jre_findings" --passes "$passes" "${warm[@]}" > "$out/peers.jsonl"
node "$here/peer.js" report "$out"
