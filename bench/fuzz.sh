#!/usr/bin/env bash
# Long fuzz run: the schema-guided fuzz test (tests/Groundwork.Tests/Platform/FuzzTests.cs) with many more requests
# and a random seed, on SQLite and PostgreSQL. It prints the per-operation status counts; a failure prints the seed
# and the failing requests, and the same SEED and REQUESTS replay the run.
#   bench/fuzz.sh                          # 20,000 requests per provider, random seed
#   REQUESTS=100000 bench/fuzz.sh          # longer
#   SEED=1234 REQUESTS=20000 bench/fuzz.sh # replay a run
#   ONLY='*FuzzTestsOnSqlite' bench/fuzz.sh   # one provider
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-20000}
SEED=${SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
ONLY=${ONLY:-*FuzzTests*}

# The PostgreSQL run starts a private server from the installed binaries, as the test suite does.
if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "fuzz: postgresql is missing (install it as root)"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

summary=$(mktemp /tmp/gw-fuzz.XXXXXX)
trap 'rm -f "$summary"' EXIT
echo "== fuzz: $REQUESTS requests per provider, seed $SEED"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
status=0
# The machines are shared: the run yields to interactive work.
GROUNDWORK_FUZZ_REQUESTS=$REQUESTS GROUNDWORK_FUZZ_SEED=$SEED GROUNDWORK_FUZZ_SUMMARY=$summary \
  nice -n 19 dotnet test --project tests/Groundwork.Tests/Groundwork.Tests.csproj -- --filter-class "$ONLY" || status=$?
cat "$summary"
echo "== fuzz: seed $SEED, $REQUESTS requests per provider: $([ "$status" -eq 0 ] && echo passed || echo "FAILED (replay: SEED=$SEED REQUESTS=$REQUESTS bench/fuzz.sh)")"
exit "$status"
