#!/usr/bin/env bash
# The scaling table of `respond plan --format json` through the real CLI process (bench/README.md, #23): for each size,
# the benchmark workload written as files (rules, directory.json, findings.ndjson), then the built respond.dll run
# RUNS times under /usr/bin/time; prints CPU (user+sys), wall and peak RSS, min/median/max, and the machine's load.
#   bench/plan-scaling.sh [RUNS] [SIZES...]      SIZES like 10000x200 (findings x rules); default 10k/100k/1M x 200, 100k x 2000
# Needs: a built engine/ResponseEngine.Cli (Release) and bench/ResponseEngine.Benchmarks (Release); GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${1:-3}
shift || true
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000x200 100000x200 1000000x200 100000x2000)
users=${PLAN_SCALING_USERS:-10000}
respond="$repo/engine/ResponseEngine.Cli/bin/Release/net10.0/respond.dll"
bench="$repo/bench/ResponseEngine.Benchmarks/bin/Release/net10.0/ResponseEngine.Benchmarks.dll"
work=${PLAN_SCALING_DIR:-$(mktemp -d /tmp/respond-scaling-XXXX)}
stats() { sort -g | awk '{a[NR]=$1} END {printf "%s / %s / %s", a[1], a[int((NR+1)/2)], a[NR]}'; }
printf "%-14s %-8s %-26s %-26s %-22s %s\n" "findings" "rules" "CPU s (min/med/max)" "wall s (min/med/max)" "peak RSS MB" "decisions"
for size in "${sizes[@]}"; do
  findings=${size%x*}; rules=${size#*x}
  dir="$work/$size"
  mkdir -p "$dir"
  [[ -f "$dir/findings.ndjson" ]] || dotnet "$bench" --write-cli-workload "$dir" --findings "$findings" --rules "$rules" --users "$users" >/dev/null
  cpu=(); wall=(); rss=(); summary=""
  for ((i = 0; i < runs; i++)); do
    out=$( { /usr/bin/time -f "TIME %U %S %e %M" dotnet "$respond" plan --rules "$dir/rules" --directory "$dir/directory.json" \
      --findings "$dir/findings.ndjson" --format json --at 2026-03-01T12:00:00Z --out /dev/null --skip-invalid; } 2>&1 ) \
      || { echo "plan-scaling: $size run $((i + 1)) failed (exit $?):" >&2; tail -5 <<<"$out" >&2; exit 1; }
    read -r _ user sys elapsed kb <<<"$(grep '^TIME' <<<"$out")"
    cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.1f", u+s}')"); wall+=("$elapsed"); rss+=("$((kb / 1024))")
    summary=$(grep -o '[0-9]* decisions (.*)' <<<"$out" | head -1)
  done
  printf "%-14s %-8s %-26s %-26s %-22s %s\n" "$findings" "$rules" "$(printf '%s\n' "${cpu[@]}" | stats)" "$(printf '%s\n' "${wall[@]}" | stats)" \
    "$(printf '%s\n' "${rss[@]}" | stats)" "$summary"
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
