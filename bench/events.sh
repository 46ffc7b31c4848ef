#!/usr/bin/env bash
# Events on loopback: a Release build on a private PostgreSQL and RabbitMQ (the production broker).
#   1. commit-to-delivery latency: a user is renamed RATE times a second for SECONDS seconds; each change's time
#      from its 200 answer (the commit) to its arrival over SSE and at a RabbitMQ queue (bench/EventsLatency);
#   2. relay throughput: with RabbitMQ stopped, BACKLOG_SECONDS of renames pile up in the outbox; then RabbitMQ is
#      started and the time until every event is published (confirmed) gives events/s.
#   bench/events.sh                     # RATE=100 DURATION=15 BACKLOG_SECONDS=10
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RATE=${RATE:-100}
SECONDS_RUN=${DURATION:-15}
BACKLOG_SECONDS=${BACKLOG_SECONDS:-10}
WORK=$(mktemp -d /tmp/gw-events.XXXXXX); chmod 755 "$WORK"

need=()
command -v wrk >/dev/null || need+=(wrk)
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: missing ${need[*]} (install them as root)"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

source bench/ports.sh
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
free_port PG_PORT; free_port APP_PORT; free_port AMQP_PORT; free_port DIST_PORT; free_port EPMD_PORT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rabbit_env() {
  env HOME="$WORK/rmq/home" RABBITMQ_NODENAME="gwbench@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT \
    RABBITMQ_DIST_PORT=$DIST_PORT ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT RABBITMQ_MNESIA_BASE="$WORK/rmq/mnesia" \
    RABBITMQ_LOG_BASE="$WORK/rmq/log" RABBITMQ_CONFIG_FILE="$WORK/rmq/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$WORK/rmq/enabled_plugins" \
    RABBITMQ_PID_FILE="$WORK/rmq/rabbit.pid" RABBITMQ_CONF_ENV_FILE="$WORK/rmq/none.conf" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" "$@"
}
APP_PID=""
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
  rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl -q stop >/dev/null 2>&1 || true
  epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== build (Release)"
dotnet publish src/Groundwork -c Release -o "$WORK/app" --nologo -v quiet >/dev/null
dotnet build bench/EventsLatency -c Release -o "$WORK/latency" --nologo -v quiet >/dev/null

echo "== PostgreSQL on 127.0.0.1:$PG_PORT, RabbitMQ on 127.0.0.1:$AMQP_PORT"
mkdir -p "$WORK/pg"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
psql() { command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d groundwork -v ON_ERROR_STOP=1 -qtA "$@"; }
command psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtA -c "CREATE DATABASE groundwork" >/dev/null
mkdir -p "$WORK/rmq/home"; echo '[].' > "$WORK/rmq/enabled_plugins"; : > "$WORK/rmq/none.conf"
echo "listeners.tcp.default = 127.0.0.1:$AMQP_PORT" > "$WORK/rmq/rabbitmq.conf"
rabbit_env sh -c "setsid /usr/lib/rabbitmq/bin/rabbitmq-server > '$WORK/rmq/server.out' 2>&1 < /dev/null &"
until rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup --timeout 30 >/dev/null 2>&1; do sleep 0.5; done
AMQP="amqp://guest:guest@127.0.0.1:$AMQP_PORT/"

export ASPNETCORE_ENVIRONMENT=Production Urls="http://127.0.0.1:$APP_PORT" Groundwork__Urls__Grpc="" \
  Groundwork__Database__Provider=postgres ConnectionStrings__Database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=groundwork;Maximum Pool Size=100" \
  Groundwork__Auth__KeysPath="$WORK/keys" Groundwork__Messaging__Broker=rabbitmq Groundwork__Messaging__RabbitMq__Uri="$AMQP" \
  Groundwork__RateLimits__Default=1000000 Groundwork__RateLimits__LoginPerIp=1000 Groundwork__RateLimits__RegisterPerIp=1000 \
  Logging__LogLevel__Default=Warning
(cd "$WORK" && dotnet app/groundwork.dll migrate >/dev/null)
(cd "$WORK" && exec dotnet app/groundwork.dll) > "$WORK/app.log" 2>&1 &
APP_PID=$!
BASE="http://127.0.0.1:$APP_PORT"
until curl -sf "$BASE/health/ready" >/dev/null; do kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.log"; exit 1; }; sleep 0.05; done

REG=$(curl -sf -H 'content-type: application/json' -d '{"email":"events@bench.local","name":"Bench","password":"bench-password-1"}' "$BASE/api/v1/auth/register")
USER_ID=$(echo "$REG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
TOKEN=$(curl -sf -H 'content-type: application/json' -d '{"email":"events@bench.local","password":"bench-password-1"}' "$BASE/api/v1/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')

echo "== 1. commit-to-delivery latency, $RATE changes/s for $SECONDS_RUN s"
dotnet "$WORK/latency/EventsLatency.dll" "$BASE" "$AMQP" "$TOKEN" "$USER_ID" 20 3 >/dev/null   # warm-up
dotnet "$WORK/latency/EventsLatency.dll" "$BASE" "$AMQP" "$TOKEN" "$USER_ID" "$RATE" "$SECONDS_RUN"

echo "== 2. relay throughput: $BACKLOG_SECONDS s of changes with RabbitMQ down, then drained"
rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl -q stop_app >/dev/null
# Published posts: one post.published event each, and no two writers contend for a row.
cat > "$WORK/publish.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"title":"Backlog","content":"An event","published":true}'
LUA
wrk -t2 -c16 -d"${BACKLOG_SECONDS}s" -s "$WORK/publish.lua" "$BASE/api/v1/posts" | grep -E "Requests/sec|Non-2xx" || true
WAITING=$(psql -c "SELECT count(*) FROM outbox WHERE published_at IS NULL")
echo "outbox waiting: $WAITING events"
START=$(date +%s%N)
rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl -q start_app >/dev/null
while [ "$(psql -c "SELECT count(*) FROM outbox WHERE published_at IS NULL")" != "0" ]; do sleep 0.05; done
END=$(date +%s%N)
# The relay's own rate: from the first to the last publication of the backlog (RabbitMQ's start, the client's
# reconnect and the relay's back-off are reported apart).
# A batch's rows share one published_at, so the rate counts the batches after the first over the time they took.
DRAIN=$(psql -c "WITH b AS (SELECT published_at FROM outbox WHERE published_at >= to_timestamp($START / 1e9)), f AS (SELECT min(published_at) AS first FROM b)
  SELECT count(*) FILTER (WHERE published_at > f.first) || ' ' || coalesce(extract(epoch FROM max(published_at) - f.first), 0) FROM b, f GROUP BY f.first")
python3 - "$WAITING" "$START" "$END" $DRAIN <<'PY'
import sys
n, start, end, after_first, drain = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
total = (end - start) / 1e9
rate = f"{after_first / drain:,.0f} events/s" if drain > 0 else "one batch, no rate"
print(f"backlog of {n} events: all published {total:.2f} s after RabbitMQ was started; relay rate over the batches after the first: {rate}")
PY
echo "peak RSS $(grep VmHWM /proc/$APP_PID/status | awk '{print $2/1024 " MB"}')"
