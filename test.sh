#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: restores, builds (warnings are errors) and runs every test project.
# Suites that need a service or a program (Samba AD, Chromium) install it here when run as root; their tests fail
# under CI=true when it is missing, and skip elsewhere with a message saying how to get it.
set -euo pipefail
cd "$(dirname "$0")"

# ./test.sh --stress [ROUNDS]: the whole suite ROUNDS times in a row (default 3) with stress-ng's CPU burners alongside
# (4 workers, RESPOND_STRESS_WORKERS to change), stopping at the first red round; the suite must not depend on an idle
# machine. Any further arguments go to `dotnet test` as usual.
stress=0 rounds=3
if [ "${1:-}" = "--stress" ]; then
  stress=1; shift
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet --version >/dev/null 2>&1 || { echo "test.sh: the .NET 10 SDK is required (https://dot.net)"; exit 1; }

# Samba AD DC for the Active Directory connector's live tests (tests/samba, docs/active-directory.md): installed when
# running as root and missing; without it those tests skip, and under CI=true they fail.
if [ "$(id -u)" = 0 ] && ! { command -v samba-tool && command -v samba && command -v ldapsearch; } >/dev/null 2>&1; then
  echo "test.sh: installing Samba AD DC packages for the Active Directory tests"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      samba samba-ad-provision samba-dsdb-modules samba-vfs-modules ldap-utils openssl; } >/tmp/respond-samba-install.log 2>&1 \
    || { echo "test.sh: installing Samba failed (log: /tmp/respond-samba-install.log):"; tail -n 20 /tmp/respond-samba-install.log; }
fi

# Headless Chromium renders the HTML plan in the CLI tests and runs the console's browser tests (Playwright with
# ExecutablePath=/usr/bin/chromium): installed when running as root and missing; without it those tests skip, and
# under CI=true they fail.
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium for the HTML report and console browser tests"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/tmp/respond-chromium-install.log 2>&1 \
    || { echo "test.sh: installing Chromium failed (log: /tmp/respond-chromium-install.log):"; tail -n 20 /tmp/respond-chromium-install.log; }
fi

dotnet build ResponseEngine.sln -c Release --nologo -v quiet

if [ "$stress" = 0 ]; then
  dotnet test --solution ResponseEngine.sln -c Release --no-build "$@"
  exit
fi

if [ "$(id -u)" = 0 ] && ! command -v stress-ng >/dev/null 2>&1; then
  echo "test.sh: installing stress-ng for --stress"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stress-ng; } >/tmp/respond-stress-install.log 2>&1 \
    || { echo "test.sh: installing stress-ng failed (log: /tmp/respond-stress-install.log)"; exit 1; }
fi
command -v stress-ng >/dev/null 2>&1 || { echo "test.sh: --stress needs stress-ng (apt-get install stress-ng)"; exit 1; }
workers=${RESPOND_STRESS_WORKERS:-4}
stress-ng --cpu "$workers" --timeout 0 --quiet &
burner=$!
trap 'kill "$burner" 2>/dev/null || true' EXIT
for round in $(seq 1 "$rounds"); do
  started=$(date +%s)
  echo "test.sh: stress round $round of $rounds ($workers CPU burners, load $(cut -d' ' -f1 /proc/loadavg))"
  if ! dotnet test --solution ResponseEngine.sln -c Release --no-build "$@"; then
    echo "test.sh: stress round $round of $rounds FAILED after $(( $(date +%s) - started )) s"
    exit 1
  fi
  echo "test.sh: stress round $round of $rounds passed in $(( $(date +%s) - started )) s (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "test.sh: $rounds stress rounds in a row passed"
