#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: restores, builds (warnings are errors) and runs every test project.
# Later suites that need services (Samba AD, ...) install them here when run as root, and fail under CI=true when missing.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet --version >/dev/null 2>&1 || { echo "test.sh: the .NET 10 SDK is required (https://dot.net)"; exit 1; }

dotnet build ResponseEngine.sln -c Release --nologo -v quiet
dotnet test --solution ResponseEngine.sln -c Release --no-build "$@"
