#!/usr/bin/env bash
# `respond run --once` on the local directory at scale, through the real CLI with SQLite audit (bench/README.md,
# "Local directory at scale"): for each directory size, a fresh working copy and audit file per run, M findings on M
# distinct ordinary users (one disable_user each; every provider's critical sets have holders, so the lockout guard
# counts them for every action). Prints wall time, CPU time and peak RSS per run, and actions/s (wall) and CPU per action.
#   bench/local-run.sh [--no-build] [--users "10000 100000"] [--findings 2000] [--repeat 3]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
users="10000 100000"; findings=2000; repeat=3; build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0 ;;
    --users) users="$2"; shift ;;
    --findings) findings="$2"; shift ;;
    --repeat) repeat="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $build == 1 ]]; then
  dotnet build "$repo/bench/ResponseEngine.Benchmarks" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
  dotnet build "$repo/engine/ResponseEngine.Cli" -c Release -v quiet -nologo | grep -E " error |rror\(s\)" || true
fi
bench="$repo/bench/ResponseEngine.Benchmarks/bin/Release/net10.0/ResponseEngine.Benchmarks.dll"
respond="$repo/engine/ResponseEngine.Cli/bin/Release/net10.0/respond.dll"
work=$(mktemp -d /tmp/respond-local-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "| users | run | actions | wall s | actions/s (wall) | CPU s | CPU ms/action | peak RSS MB | load average before |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $users; do
  dotnet "$bench" --write-local-run "$work/$n" --users "$n" --findings "$findings" > /dev/null
  for r in $(seq 1 "$repeat"); do
    rm -rf "$work/$n/state" "$work/$n"/respond.db*
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    out=$(cd "$work/$n" && /usr/bin/time -f "TIME %e %U %S %M" dotnet "$respond" run --once 2>&1)
    read -r wall user sys rss <<< "$(grep '^TIME ' <<< "$out" | cut -d' ' -f2-)"
    actions=$(awk '$1 == "succeeded" { print $2 }' <<< "$out")
    awk -v n="$n" -v r="$r" -v a="${actions:-0}" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v l="$load" \
      'BEGIN { printf "| %d | %d | %d | %.1f | %.0f | %.1f | %.2f | %.0f | %s |\n", n, r, a, w, a / w, u + s, (u + s) * 1000 / a, m / 1024, l }'
  done
done
