#!/usr/bin/env bash
# Scale-out on one machine: throughput of 1 node vs 2 nodes behind nginx (deploy/local-cluster.sh: PostgreSQL, Redis,
# RabbitMQ, nginx), each node pinned to its own CPU with taskset; wrk, nginx and the servers float on all CPUs.
# Two workloads through nginx: the cached read (a user reading their own user) and transfers between many pairs
# of accounts (not one hot pair).
#   bench/scale.sh                 # 10 s per measurement after 5 s of warm-up
#   DURATION=20 bench/scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CPUS=$(nproc)
[ "$CPUS" -ge 2 ] || { echo "scale.sh needs at least 2 CPUs"; exit 1; }
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || { echo "scale.sh needs wrk (apt-get install wrk)"; exit 1; }
  apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

WORK=$(mktemp -d /tmp/gw-scale.XXXXXX)
chmod 755 "$WORK" # PostgreSQL runs as its own user and must reach its folder inside
trap 'GROUNDWORK_CLUSTER_DIR="$WORK/cluster" "$ROOT/deploy/local-cluster.sh" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
echo "== publish (Release)"
dotnet publish "$ROOT/src/Groundwork" -c Release -o "$WORK/app" --nologo -v quiet >/dev/null
export GROUNDWORK_APP="$WORK/app/groundwork.dll" GROUNDWORK_CLUSTER_DIR="$WORK/cluster"
export GROUNDWORK_NODE_ENV="Groundwork__RateLimits__Default=100000000 Groundwork__RateLimits__Transfers=100000000 Groundwork__RateLimits__LoginPerIp=100000 Groundwork__RateLimits__RegisterPerIp=100000 Logging__LogLevel__Default=Warning"
export GROUNDWORK_ADMIN_PASSWORD=scale-admin-password

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
declare -A RPS P99
measure() { # name, nodes
  local name=$1 nodes=$2 cpus
  cpus=$(seq 0 $(( nodes - 1 )) | tr '\n' ' ')
  echo "== $nodes node(s), pinned to CPU(s) $cpus"
  GROUNDWORK_NODE_CPUS="$cpus" "$ROOT/deploy/local-cluster.sh" up "$nodes" > "$WORK/up-$name.txt"
  local state="$WORK/cluster/cluster.env" base
  base="http://127.0.0.1:$(grep '^HTTP_PORT=' "$state" | cut -d= -f2)"
  "$ROOT/deploy/local-cluster.sh" admin admin@scale.local Admin >/dev/null
  local admin token user uid
  admin=$(curl -sf -H 'content-type: application/json' -d '{"email":"admin@scale.local","password":"scale-admin-password"}' "$base/api/v1/auth/login" | json 'd["accessToken"]')
  curl -sf -o /dev/null -H 'content-type: application/json' -d '{"email":"reader@scale.local","name":"Reader","password":"scale-reader-password"}' "$base/api/v1/auth/register"
  user=$(curl -sf -H 'content-type: application/json' -d '{"email":"reader@scale.local","password":"scale-reader-password"}' "$base/api/v1/auth/login")
  token=$(echo "$user" | json 'd["accessToken"]')
  uid=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/auth/me" | json 'd["data"]["id"]')

  # 16 accounts, 8 pairs: each request moves 1 cent within one pair, alternating direction.
  local accounts=()
  for i in $(seq 1 16); do
    local id
    id=$(curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' -d '{"currency":"EUR"}' "$base/api/v1/accounts" | json 'd["data"]["id"]')
    curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'content-type: application/json' -H "Idempotency-Key: seed-$name-$i" -d '{"amount":100000000000}' "$base/api/v1/accounts/$id/deposits"
    accounts+=("\"$id\"")
  done
  cat > "$WORK/transfers.lua" <<LUA
local accounts = { $(IFS=,; echo "${accounts[*]}") }
local counter = 0
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  counter = counter + 1
  local pair = math.random(0, 7)
  local a, b = accounts[pair * 2 + 1], accounts[pair * 2 + 2]
  if counter % 2 == 0 then a, b = b, a end
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Idempotency-Key"] = string.format("scale-%d-%d", math.random(1, 2147483647), counter)
  return wrk.format("POST", "/api/v1/transfers", nil, string.format('{"fromAccountId":"%s","toAccountId":"%s","amount":1}', a, b))
end
LUA
  run() { # key, wrk args...
    local key=$1; shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$@" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "$WORK/wrk-$key.txt"
    RPS[$key]=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk-$key.txt")
    P99[$key]=$(awk '$1=="99%" {print $2}' "$WORK/wrk-$key.txt")
    local errors; errors=$(awk '/Non-2xx/ {print $5}' "$WORK/wrk-$key.txt")
    [ -z "$errors" ] || echo "   ($key: $errors non-2xx responses)"
  }
  run "read-$name" -H "Authorization: Bearer $token" "$base/api/v1/users/$uid"
  run "transfers-$name" -H "Authorization: Bearer $admin" -s "$WORK/transfers.lua" "$base"
  "$ROOT/deploy/local-cluster.sh" down >/dev/null
}

measure one 1
measure two 2

ratio() { python3 -c "print(f'{float(\"$2\") / float(\"$1\"):.2f}x')"; }
OUT="$ROOT/bench/results/scale-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$ROOT/bench/results"
{
  echo "Scale-out, $(date -u +%FT%TZ), $CPUS CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s through nginx"
  echo "CPU layout: node 1 on CPU 0, node 2 on CPU 1 (taskset); wrk, nginx, PostgreSQL, Redis, RabbitMQ unpinned (they share both CPUs)"
  printf '%-34s %12s %12s %8s\n' scenario "1 node" "2 nodes" ratio
  printf '%-34s %12s %12s %8s\n' "GET /users/{id} (cached, owner)" "${RPS[read-one]}" "${RPS[read-two]}" "$(ratio "${RPS[read-one]}" "${RPS[read-two]}")"
  printf '%-34s %12s %12s\n' "  p99" "${P99[read-one]}" "${P99[read-two]}"
  printf '%-34s %12s %12s %8s\n' "POST /transfers (8 pairs)" "${RPS[transfers-one]}" "${RPS[transfers-two]}" "$(ratio "${RPS[transfers-one]}" "${RPS[transfers-two]}")"
  printf '%-34s %12s %12s\n' "  p99" "${P99[transfers-one]}" "${P99[transfers-two]}"
} | tee "$OUT"
