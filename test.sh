#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: restores, builds (warnings are errors) and runs every test project.
# Suites that need a service or a program (Samba AD, Chromium) install it here when run as root; their tests fail
# under CI=true when it is missing, and skip elsewhere with a message saying how to get it.
set -euo pipefail
cd "$(dirname "$0")"

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

# Headless Chromium renders the HTML plan in the CLI tests: installed when running as root and missing; without it
# that test skips, and under CI=true it fails.
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium for the HTML report test"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/tmp/respond-chromium-install.log 2>&1 \
    || { echo "test.sh: installing Chromium failed (log: /tmp/respond-chromium-install.log):"; tail -n 20 /tmp/respond-chromium-install.log; }
fi

dotnet build ResponseEngine.sln -c Release --nologo -v quiet
dotnet test --solution ResponseEngine.sln -c Release --no-build "$@"
