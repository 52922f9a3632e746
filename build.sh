#!/usr/bin/env bash
# Builds what users install, into dist/ (see docs/deploy.md):
#   ./build.sh tool [VERSION]        dist/tool/respond.<version>.nupkg, a .NET tool:
#                                    dotnet tool install --global --add-source dist/tool respond
#   ./build.sh publish [RID]         dist/<rid>/respond, one self-contained ReadyToRun file (default RID linux-x64): no .NET install needed
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
project=engine/ResponseEngine.Cli/ResponseEngine.Cli.csproj

case "${1:-}" in
  tool)
    version=${2:+-p:Version=$2}
    dotnet pack "$project" -c Release -o dist/tool --nologo -v quiet ${version:-}
    ls dist/tool/*.nupkg
    ;;
  publish)
    rid=${2:-linux-x64}
    dotnet publish "$project" -c Release -r "$rid" --self-contained -p:PublishSingleFile=true -p:PublishReadyToRun=true \
      -p:IncludeNativeLibrariesForSelfExtract=true -p:PackAsTool=false -o "dist/$rid" --nologo -v quiet
    ls -l "dist/$rid/respond"*
    ;;
  *)
    echo "usage: ./build.sh tool [VERSION] | ./build.sh publish [RID]" >&2
    exit 2
    ;;
esac
