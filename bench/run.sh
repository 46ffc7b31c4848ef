#!/usr/bin/env bash
# Benchmarks on loopback: Release build on a private PostgreSQL, seeded, warmed up, measured with wrk against
# in-process baselines (Groundwork:Bench:Enabled maps them). Prints req/s, p50, p99, ratios, peak RSS and the
# time from start to ready. Ratios, not absolute numbers, are the targets: these machines are shared and noisy.
#   bench/run.sh                 # 10 s per scenario
#   DURATION=30 bench/run.sh     # longer runs
#   PG_EXTRA_OPTS='-c synchronous_commit=off' bench/run.sh   # experiments on the server's settings
#   ONLY_TRANSPORTS=1 bench/run.sh   # just REST vs GraphQL vs gRPC
#   ONLY_READS=1 bench/run.sh        # just the reads (bare, user, list, me, login)
#   ONLY_MONEY=1 bench/run.sh        # just transfers (hot pair) vs raw, and order create+pay
#   NO_REDIS=1 bench/run.sh          # the embedded cache and limits instead of Redis
#   PUBLISH_ARGS="-p:PublishReadyToRun=false" bench/run.sh   # publish options (this one: no ReadyToRun code, ADR 0023)
#   HOLD_END=1 bench/run.sh          # after the table, keep the service up, idle (heap and memory inspection after a run)
#   KEEP_LOGS=/tmp/diag bench/run.sh # at exit, copy the service's and PostgreSQL's logs there (with
#                                    # PG_EXTRA_OPTS='-c log_checkpoints=on ...' to find where a slow pass went)
#   ONLY_MONEY=1 HOLD=1 bench/run.sh # set up the money scenario, print the wrk commands, and keep it all up (profiling;
#                                    # HOLD is read where the money scenario starts, so use it with ONLY_MONEY)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WORK=$(mktemp -d /tmp/gw-bench.XXXXXX); chmod 755 "$WORK"
OUT="$ROOT/bench/results"
mkdir -p "$OUT"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -n "${NO_REDIS:-}" ] || command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: missing ${need[*]} (install them as root)"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

source bench/ports.sh

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
free_port PG_PORT
free_port APP_PORT
free_port GRPC_PORT
free_port REDIS_PORT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
APP_PID=""
cleanup() {
  [ -f "$WORK/embedded/pid" ] && kill "$(cat "$WORK/embedded/pid")" 2>/dev/null || true
  # The service stops (its shutdown flushes and publishes) before its database does, so its log ends without the
  # errors of a database that vanished under it.
  if [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null; then
    for _ in $(seq 1 100); do case "$(ps -o stat= -p "$APP_PID" 2>/dev/null)" in "" | Z*) break ;; esac; sleep 0.1; done
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${NO_REDIS:-}" ] || redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS"; cp "$WORK/app.log" "$WORK/pg/log" "$KEEP_LOGS/" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== build (Release)"
dotnet publish src/Groundwork -c Release -o "$WORK/app" --nologo -v quiet ${PUBLISH_ARGS:-} >/dev/null

# Start to ready on the embedded default (SQLite in a fresh folder, as `dotnet run` gives a new user): the first
# start creates and migrates the database, the second finds it migrated (a restart). It runs before the exports
# below, which point the service at PostgreSQL.
echo "== start to ready, embedded default"
start_embedded() {
  local started=$(date +%s%N) pid
  (cd "$WORK/embedded" && Urls="http://127.0.0.1:$APP_PORT" Groundwork__Urls__Grpc="http://127.0.0.1:$GRPC_PORT" exec dotnet ../app/groundwork.dll) > "$WORK/embedded/app.log" 2>&1 &
  pid=$!
  echo "$pid" > "$WORK/embedded/pid"
  until curl -sf "http://127.0.0.1:$APP_PORT/health/ready" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/embedded/app.log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( ($(date +%s%N) - started) / 1000000 ))
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
mkdir -p "$WORK/embedded"
READY_EMBEDDED_FIRST_MS=$(start_embedded)
READY_EMBEDDED_RESTART_MS=$(start_embedded)

echo "== PostgreSQL on 127.0.0.1:$PG_PORT"
mkdir -p "$WORK/pg"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB ${PG_EXTRA_OPTS:-}" start >/dev/null
psql() { command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
# Checkpoints started so far (timed and requested; pg_stat_checkpointer from PostgreSQL 17, pg_stat_bgwriter before).
checkpoints() {
  psql -c "SELECT num_timed + num_requested FROM pg_stat_checkpointer" 2>/dev/null \
    || psql -c "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
}
psql -c "CREATE DATABASE groundwork" >/dev/null

# Redis, as production runs (the cache's shared level, shared rate limits); NO_REDIS=1 measures the embedded cache.
if [ -z "${NO_REDIS:-}" ]; then
  echo "== Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$WORK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir "$WORK/redis" --pidfile "$WORK/redis/redis.pid" >/dev/null
  until redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
  export Groundwork__Redis="127.0.0.1:$REDIS_PORT"
fi

export ASPNETCORE_ENVIRONMENT=Benchmark
export Groundwork__Database__Provider=postgres
export ConnectionStrings__Database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=groundwork;Maximum Pool Size=64"
export Groundwork__Auth__KeysPath="$WORK/keys"
export Groundwork__Bench__Enabled=true
# Throughput is the point here, so the limits are lifted; their own tests cover them.
export Groundwork__RateLimits__Default=100000000 Groundwork__RateLimits__LoginPerIp=100000000 Groundwork__RateLimits__LoginPerAccount=100000000 Groundwork__RateLimits__Transfers=100000000
export Logging__LogLevel__Default=Warning
# No load balancer to drain from: the service stops at once when the run ends.
export Groundwork__Shutdown__Drain=0
export Urls="http://127.0.0.1:$APP_PORT"
export Groundwork__Urls__Grpc="http://127.0.0.1:$GRPC_PORT"

echo "== migrate and seed"
(cd "$WORK" && dotnet app/groundwork.dll migrate >/dev/null)
GROUNDWORK_ADMIN_PASSWORD='bench-admin-password' dotnet "$WORK/app/groundwork.dll" create-admin --email admin@bench.local --name "Bench Admin" >/dev/null
psql -d groundwork -c "
  INSERT INTO users (id, email, normalized_email, name, role, password_hash, created_at, updated_at, version)
  SELECT gen_random_uuid(), 'user' || i || '@bench.local', 'user' || i || '@bench.local', 'User ' || i, 'user',
         (SELECT password_hash FROM users WHERE email = 'admin@bench.local'), now() - (i || ' seconds')::interval, now(), 1
  FROM generate_series(1, 10000) AS i;
  INSERT INTO posts (id, author_id, title, content, published, published_at, created_at, updated_at, version)
  SELECT gen_random_uuid(), u.id, 'Post ' || n || ' by ' || u.name, 'Body', true, now(), now() - (n || ' minutes')::interval, now(), 1
  FROM users u CROSS JOIN generate_series(1, 2) AS n;
  ANALYZE users; ANALYZE posts;" >/dev/null

echo "== start"
START_NS=$(date +%s%N)
(cd "$WORK" && exec dotnet app/groundwork.dll) > "$WORK/app.log" 2>&1 &
APP_PID=$!
until curl -sf "http://127.0.0.1:$APP_PORT/health/ready" >/dev/null; do
  kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.log"; exit 1; }
  sleep 0.02
done
READY_MS=$(( ($(date +%s%N) - START_NS) / 1000000 ))

BASE="http://127.0.0.1:$APP_PORT"
LOGIN=$(curl -sf -H 'content-type: application/json' -d '{"email":"admin@bench.local","password":"bench-admin-password"}' "$BASE/api/v1/auth/login")
TOKEN=$(echo "$LOGIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
USER_ID=$(psql -d groundwork -c "SELECT id FROM users WHERE email='user42@bench.local'")
AUTH="Authorization: Bearer $TOKEN"
# The seeded users share the admin's password: user 42 reads their own user (the owner's hot path).
USER_TOKEN=$(curl -sf -H 'content-type: application/json' -d '{"email":"user42@bench.local","password":"bench-admin-password"}' "$BASE/api/v1/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
OWNER="Authorization: Bearer $USER_TOKEN"
cache_stats() { curl -sf "$BASE/bench/cache-stats"; }

cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"admin@bench.local","password":"bench-admin-password"}'
wrk.headers["Content-Type"] = "application/json"
LUA

declare -A RPS P50 P99 RSS
rss_now() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$APP_PID/status"; }
run() { # name, extra wrk args..., url
  local name=$1; shift
  local log="$WORK/wrk-$name.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "$log"
  RPS[$name]=$(awk '/^Requests\/sec/ {print $2}' "$log")
  P50[$name]=$(awk '$1=="50%" {print $2}' "$log")
  P99[$name]=$(awk '$1=="99%" {print $2}' "$log")
  RSS[$name]=$(rss_now)
  local errors; errors=$(awk '/Non-2xx/ {print $5}' "$log")
  [ -z "$errors" ] || echo "   ($name: $errors non-2xx responses)"
}

# The slower of two latencies, as wrk prints them ("520.00us", "96.12ms", "1.02s", "1.50m") or as the h2load rows
# hold them (the same with a ~ or ^ mark, which is kept). An empty first one means none yet. Fails on anything else.
worse() { python3 - "$1" "$2" <<'PY'
import re, sys
def ms(v):
    m = re.fullmatch(r'([0-9.]+)(us|ms|s|m|h)[~^]?', v)
    if not m: sys.exit(f"bench: cannot read the latency {v!r}")
    return float(m[1]) * {'us': 0.001, 'ms': 1, 's': 1e3, 'm': 6e4, 'h': 3.6e6}[m[2]]
old, new = sys.argv[1], sys.argv[2]
print(new if not old or ms(new) > ms(old) else old)
PY
}
# Runs scenarios that are compared with each other twice, in mirrored order (A B C C B A), since on a shared machine
# the order of runs biases a single pass: the table gets the mean req/s and the worse p50 and the worse p99 of the two
# passes (the RSS column is the last pass's), and every pass is listed after the ratios.
# $1: a function that runs one scenario given its name; then the scenarios' names.
PASSES=""
mirrored() {
  local runner=$1; shift
  local order=("$@") i n
  for (( i = $# - 1; i >= 0; i-- )); do order+=("${order[i]}"); done
  local -A sum p50 p99
  for n in "${order[@]}"; do
    "$runner" "$n"
    PASSES+="  pass: $n ${RPS[$n]}/s, p50 ${P50[$n]}, p99 ${P99[$n]}"$'\n'
    echo "   ($n: ${RPS[$n]}/s, p99 ${P99[$n]})"
    sum[$n]=$(python3 -c "print(${sum[$n]:-0} + ${RPS[$n]})")
    p50[$n]=$(worse "${p50[$n]:-}" "${P50[$n]}")
    p99[$n]=$(worse "${p99[$n]:-}" "${P99[$n]}")
  done
  for n in "$@"; do RPS[$n]=$(python3 -c "print(round(${sum[$n]} / 2, 2))"); P50[$n]=${p50[$n]}; P99[$n]=${p99[$n]}; done
}

echo "== warm-up ${WARMUP}s"
for url in "$BASE/bench/bare-user" "$BASE/api/v1/users?limit=20" "$BASE/bench/raw-users" "$BASE/bench/raw-users-page" "$BASE/api/v1/auth/me"; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$(( WARMUP / 5 + 1 ))s" -H "$AUTH" "$url" >/dev/null
done
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$(( WARMUP / 5 + 1 ))s" -H "$OWNER" "$BASE/api/v1/users/$USER_ID" >/dev/null
wrk -t1 -c4 -d2s -s "$WORK/login.lua" "$BASE/api/v1/auth/login" >/dev/null

echo "== measure (${DURATION}s each, $CONNECTIONS connections)"
[ -n "${ONLY_TRANSPORTS:-}${ONLY_MONEY:-}" ] || {
read_pass() { if [ "$1" = bare-user ]; then run bare-user "$BASE/bench/bare-user"; else run get-user -H "$OWNER" "$BASE/api/v1/users/$USER_ID"; fi; }
CACHE_BEFORE=$(cache_stats)
mirrored read_pass bare-user get-user
CACHE_AFTER=$(cache_stats)
run raw-users "$BASE/bench/raw-users"
run raw-users-page "$BASE/bench/raw-users-page"
run list-users -H "$AUTH" "$BASE/api/v1/users?limit=20"
run me -H "$AUTH" "$BASE/api/v1/auth/me"
run login -s "$WORK/login.lua" "$BASE/api/v1/auth/login"
}

if [ -z "${ONLY_TRANSPORTS:-}${ONLY_READS:-}" ]; then
echo "== money: transfers on a hot pair of accounts vs raw Npgsql, order create+pay, history depth"
ACCOUNTS=()
for i in $(seq 1 8); do
  id=$(curl -sf -H "$AUTH" -H 'content-type: application/json' -d '{"currency":"EUR"}' "$BASE/api/v1/accounts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  curl -sf -o /dev/null -H "$AUTH" -H 'content-type: application/json' -H "Idempotency-Key: seed-$i" -d '{"amount":100000000000}' "$BASE/api/v1/accounts/$id/deposits"
  ACCOUNTS+=("\"$id\"")
done
LUA_ACCOUNTS=$(IFS=,; echo "${ACCOUNTS[*]}")
for target in transfers raw-transfer raw-transfer-queued; do
  path=/api/v1/transfers; [ "$target" != transfers ] && path=/bench/$target
  cat > "$WORK/$target.lua" <<LUA
local accounts = { $LUA_ACCOUNTS }
local counter = 0
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  counter = counter + 1
  -- The hot pair: the first two accounts, alternating direction.
  local i = counter % 2 + 1
  local j = 3 - i
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Idempotency-Key"] = string.format("bench-%d-%d", math.random(1, 2147483647), counter)
  return wrk.format("POST", "$path", nil, string.format('{"fromAccountId":"%s","toAccountId":"%s","amount":1}', accounts[i], accounts[j]))
end
LUA
done
PAYER=$(echo "${ACCOUNTS[0]}" | tr -d '"\\')
ADMIN_ID=$(psql -d groundwork -c "SELECT id FROM users WHERE email='admin@bench.local'")
cat > "$WORK/orders.lua" <<LUA
local pending = {}
local counter = 0
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  counter = counter + 1
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Idempotency-Key"] = string.format("order-%d-%d", math.random(1, 2147483647), counter)
  local id = table.remove(pending)
  if id then
    return wrk.format("POST", "/api/v1/orders/" .. id .. "/pay", nil, '{"accountId":"$PAYER"}')
  end
  return wrk.format("POST", "/api/v1/users/$ADMIN_ID/orders", nil, '{"currency":"EUR","items":[{"sku":"A-1","name":"Thing","quantity":2,"unitPrice":150}]}')
end
response = function(status, headers, body)
  if status == 201 then
    local id = body:match('"id":"([%x%-]+)"')
    if id then table.insert(pending, id) end
  end
end
LUA
if [ -n "${HOLD:-}" ]; then
  # Profiling: keep everything up, and say how to drive it; stop with Ctrl-C or kill (the trap cleans up).
  trap 'exit 143' TERM INT
  cat <<HELD | tee "$OUT/held.txt"
== held (HOLD=1): app pid $APP_PID on $BASE, PostgreSQL 127.0.0.1:$PG_PORT, work dir $WORK
wrk -t$THREADS -c$CONNECTIONS -d10s -H "$AUTH" -s $WORK/transfers.lua $BASE
wrk -t$THREADS -c$CONNECTIONS -d10s -s $WORK/raw-transfer.lua $BASE
wrk -t$THREADS -c$CONNECTIONS -d10s -s $WORK/raw-transfer-queued.lua $BASE
HELD
  while kill -0 "$APP_PID" 2>/dev/null; do sleep 1; done
  exit 0
fi
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$(( WARMUP / 2 + 1 ))s" -H "$AUTH" -s "$WORK/transfers.lua" "$BASE" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$(( WARMUP / 2 + 1 ))s" -s "$WORK/raw-transfer.lua" "$BASE" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$WORK/raw-transfer-queued.lua" "$BASE" >/dev/null
money_pass() { if [ "$1" = transfers ]; then run transfers -H "$AUTH" -s "$WORK/transfers.lua" "$BASE"; else run "$1" -s "$WORK/$1.lua" "$BASE"; fi; }
# A PostgreSQL checkpoint stalls commits for up to half a second on this kind of disk (WAL fsyncs wait behind its
# writes), for the service and the raw baselines alike. Left to chance, the 5-minute timer or the WAL of the seed and
# warm-up starts one during some pass and not the others; a checkpoint now, and the count below, make the passes
# comparable and say whether one still landed in them.
psql -c CHECKPOINT
CHECKPOINTS_BEFORE=$(checkpoints)
mirrored money_pass transfers raw-transfer raw-transfer-queued
CHECKPOINTS_DURING=$(( $(checkpoints) - CHECKPOINTS_BEFORE ))
run order-create-pay -H "$AUTH" -s "$WORK/orders.lua" "$BASE"

if [ -z "${ONLY_MONEY:-}" ]; then
# A 1,000,000-entry history on one account (seeded in SQL), read at page 1 and at page 10,000 (20 per page).
DEEP=$(echo "${ACCOUNTS[1]}" | tr -d '"\\')
psql -d groundwork -c "
  CREATE TEMP TABLE seed AS SELECT gen_random_uuid() AS id, i FROM generate_series(1, 1000000) AS i;
  INSERT INTO ledger_transactions (id, type, amount, currency, from_account_id, to_account_id, created_at)
    SELECT id, 'deposit', 1, 'EUR', '$PAYER', '$DEEP', now() FROM seed;
  INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) SELECT id, '$DEEP', 1, now() FROM seed ORDER BY i;
  ANALYZE ledger_entries; ANALYZE ledger_transactions;" >/dev/null
DEEP_ID=$(psql -d groundwork -c "SELECT id FROM ledger_entries WHERE account_id = '$DEEP' ORDER BY id DESC OFFSET 199999 LIMIT 1")
CURSOR=$(python3 -c "import base64,struct; print(base64.urlsafe_b64encode(struct.pack('<q', $DEEP_ID)).decode().rstrip('='))")
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$AUTH" "$BASE/api/v1/accounts/$DEEP/transactions?limit=20" >/dev/null
run history-page-1 -H "$AUTH" "$BASE/api/v1/accounts/$DEEP/transactions?limit=20"
run history-page-10000 -H "$AUTH" "$BASE/api/v1/accounts/$DEEP/transactions?limit=20&cursor=$CURSOR"
fi

fi

if [ -z "${ONLY_READS:-}${ONLY_MONEY:-}" ]; then
# One list, three transports, one load tool (h2load: HTTP/1.1 for REST and GraphQL, h2c for gRPC), same clients.
echo "== transports: REST vs GraphQL vs gRPC, same list of 20 users"
printf '%s' '{"query":"{ users(limit: 20) { nodes { id name posts { id } } } }"}' > "$WORK/graphql.json"
# gRPC frame: no compression, 4-byte length, ListUsersRequest { page { limit: 20 } } = 0a 02 10 14.
printf '\x00\x00\x00\x00\x04\x0a\x02\x10\x14' > "$WORK/grpc.bin"
GRPC_STATUS=$(curl -s --http2-prior-knowledge -o /dev/null -D - -H "$AUTH" -H 'content-type: application/grpc' -H 'te: trailers' \
  --data-binary @"$WORK/grpc.bin" "http://127.0.0.1:$GRPC_PORT/groundwork.v1.UserService/ListUsers" | awk 'tolower($1)=="grpc-status:" {print $2}' | tr -d '\r')
[ "$GRPC_STATUS" = 0 ] || { echo "gRPC ListUsers failed (grpc-status $GRPC_STATUS)"; exit 1; }
h2run() { # name, h2load args...
  local name=$1; shift
  local log="$WORK/h2load-$name.txt"
  h2load -c"$CONNECTIONS" -t"$THREADS" -m1 -D"$DURATION" --warm-up-time=2 -H "$AUTH" "$@" > "$log"
  RPS[$name]=$(awk '/^finished in/ {print $4}' "$log")
  # h2load reports mean and max, not percentiles: the table shows them in the p50 and p99 columns, marked.
  P50[$name]="$(awk '/^time for request:/ {print $6}' "$log")~"
  P99[$name]="$(awk '/^time for request:/ {print $5}' "$log")^"
  RSS[$name]=$(rss_now)
  local failed; failed=$(awk '/^requests:/ {f=$10+$12} /^status codes:/ {f+=$7+$9} END {print f}' "$log")
  [ "${failed:-0}" = 0 ] || echo "   ($name: $failed failed/errored requests)"
}
rest() { h2run rest-users-h1 --h1 "$BASE/api/v1/users?limit=20"; }
graphql() { h2run graphql-users-h1 --h1 -H 'content-type: application/json' -d "$WORK/graphql.json" "$BASE/graphql"; }
grpc() { h2run grpc-users-h2c -H 'content-type: application/grpc' -H 'te: trailers' -d "$WORK/grpc.bin" "http://127.0.0.1:$GRPC_PORT/groundwork.v1.UserService/ListUsers"; }
transport_pass() { case $1 in rest-users-h1) rest ;; graphql-users-h1) graphql ;; grpc-users-h2c) grpc ;; esac; }
mirrored transport_pass rest-users-h1 graphql-users-h1 grpc-users-h2c
fi

[ -r "/proc/$APP_PID/status" ] || { echo "the service exited during the run:"; tail -20 "$WORK/app.log"; exit 1; }
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$APP_PID/status")
# Where the memory is at the end: anonymous (managed heap, native allocations, stacks), files (mapped assemblies and
# libraries), shared (mostly the runtime's type data, stubs and JIT-compiled code: its double-mapped executable memory).
RSS_PARTS=$(awk '/RssAnon/ {a=$2} /RssFile/ {f=$2} /RssShmem/ {s=$2}
  END {if (a == "" || f == "" || s == "") print "n/a"; else printf "anonymous %d MB, files %d MB, shared (mostly types and code) %d MB", a/1024, f/1024, s/1024}' "/proc/$APP_PID/status")
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then python3 -c "print(f'{100*float(\"$1\")/float(\"$2\"):.0f} %')"; else echo "n/a"; fi; }

{
  echo
  printf '%-34s %12s %10s %10s %8s\n' scenario "req/s" p50 p99 "RSS MB"
  for name in bare-user get-user raw-users raw-users-page list-users me login transfers raw-transfer raw-transfer-queued order-create-pay history-page-1 history-page-10000 rest-users-h1 graphql-users-h1 grpc-users-h2c; do
    [ -n "${RPS[$name]:-}" ] || continue
    printf '%-34s %12s %10s %10s %8s\n' "$name" "${RPS[$name]}" "${P50[$name]:-}" "${P99[$name]:-}" "${RSS[$name]:-}"
  done
  echo
  if [ -n "${NO_REDIS:-}" ]; then echo "cache and limits: in-process"; else echo "cache and limits: Redis on 127.0.0.1:$REDIS_PORT"; fi
  echo "GET /users/{id} (owner) vs bare endpoint: $(ratio "${RPS[get-user]:-}" "${RPS[bare-user]:-}")  (target ≥ 40 %)"
  [ -z "${CACHE_BEFORE:-}" ] || python3 -c "
import json; b=json.loads('$CACHE_BEFORE'); a=json.loads('$CACHE_AFTER')
h=a['hits']-b['hits']; m=a['misses']-b['misses']; r=a['redisHits']-b['redisHits']
print(f'  cache hit ratio during get-user:       {100*h/max(1,h+m):.2f} % ({h} hits, {r} from Redis, {m} misses, {a[\"errors\"]-b[\"errors\"]} Redis errors)')"
  echo "GET /users?limit=20 vs raw Npgsql:       $(ratio "${RPS[list-users]:-}" "${RPS[raw-users]:-}")  (target ≥ 90 %; raw counts the total per request, we cache it)"
  echo "  … vs raw page query alone:             $(ratio "${RPS[list-users]:-}" "${RPS[raw-users-page]:-}")  (the same SQL per request as ours once the total is cached)"
  echo "hot-pair transfers vs raw Npgsql:        $(ratio "${RPS[transfers]:-}" "${RPS[raw-transfer]:-}")  (target ≥ 80 %, p99 ${P99[transfers]:-} ≤ 100 ms)"
  echo "  … vs raw Npgsql queued per account:    $(ratio "${RPS[transfers]:-}" "${RPS[raw-transfer-queued]:-}")  (the same writes behind the same per-account queue, ADR 0018)"
  [ -z "${CHECKPOINTS_DURING:-}" ] || echo "  PostgreSQL checkpoints during them:    $CHECKPOINTS_DURING  (one checkpoint before them; a checkpoint stalls commits)"
  echo "history page 10,000 vs page 1:           $(ratio "${RPS[history-page-10000]:-}" "${RPS[history-page-1]:-}")  (target ≥ 80 %)"
  echo "(~ = mean, ^ = max for the h2load rows)"
  echo "GraphQL users+posts vs REST users:       $(ratio "${RPS[graphql-users-h1]:-}" "${RPS[rest-users-h1]:-}")  (target ≥ 70 %; GraphQL also loads each user's posts)"
  echo "gRPC ListUsers vs REST users:            $(ratio "${RPS[grpc-users-h2c]:-}" "${RPS[rest-users-h1]:-}")  (target ≥ 100 %)"
  echo "peak RSS:                                $(( RSS_KB / 1024 )) MB  (target ≤ 250 MB)"
  echo "  RSS at the end:                        $RSS_PARTS"
  echo "start to ready, embedded default:        ${READY_EMBEDDED_FIRST_MS} ms first start, ${READY_EMBEDDED_RESTART_MS} ms restart  (target ≤ 2 s)"
  echo "start to ready (PostgreSQL, migrated):   ${READY_MS} ms"
  [ -z "$PASSES" ] || { echo "each pass, in the order run (the compared scenarios run twice, mirrored):"; printf '%s' "$PASSES"; }
} | tee "$OUT/latest.txt"
if [ -n "${HOLD_END:-}" ]; then
  trap 'exit 143' TERM INT
  echo "== held (HOLD_END=1): app pid $APP_PID on $BASE, PostgreSQL 127.0.0.1:$PG_PORT, work dir $WORK"
  while kill -0 "$APP_PID" 2>/dev/null; do sleep 1; done
fi
