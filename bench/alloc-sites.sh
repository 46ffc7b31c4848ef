#!/usr/bin/env bash
# Where a running process allocates, under whatever load you drive meanwhile (for example the held money scenario:
# ONLY_MONEY=1 HOLD=1 bench/run.sh, then its printed wrk command):
#   bench/alloc-sites.sh <pid> [seconds=8] [frames=40] [type] [depth=3]
# Records GCAllocationTick events with dotnet-trace (installed as a global tool when missing) and prints the sampled
# bytes by type and by frame (bench/AllocationSites). Shares are estimates: an event marks about every 100 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
PID=${1:?usage: bench/alloc-sites.sh <pid> [seconds] [frames] [type] [depth]}
SECONDS_RUN=${2:-8}
export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace >/dev/null
OUT=$(mktemp /tmp/gw-alloc.XXXXXX.nettrace)
trap 'rm -f "$OUT"' EXIT
dotnet-trace collect -p "$PID" --providers Microsoft-Windows-DotNETRuntime:0x1:5 \
  --duration "00:00:00:$(printf '%02d' "$SECONDS_RUN")" -o "$OUT" >/dev/null
dotnet run -c Release --project bench/AllocationSites -- "$OUT" "${3:-40}" "${4:-}" "${5:-3}"
