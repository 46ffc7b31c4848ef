#!/usr/bin/env bash
# A production-shaped Groundwork on one machine, without containers: PostgreSQL, Redis, RabbitMQ, N nodes and nginx
# in front, all on loopback, on free ports, with every file under one folder and every process known by its pid.
#
#   deploy/local-cluster.sh up [N]        start everything (N nodes, default 2); prints the URL
#   deploy/local-cluster.sh status        what runs, on which port, ready or not
#   deploy/local-cluster.sh kill-node I   SIGKILL node I (1-based), as a crash would
#   deploy/local-cluster.sh stop-node I   SIGTERM node I (graceful shutdown)
#   deploy/local-cluster.sh start-node I  start node I again on its port (it rejoins behind nginx)
#   deploy/local-cluster.sh down          stop exactly what `up` started and delete the folder
#
# Environment:
#   GROUNDWORK_CLUSTER_DIR  the folder (default /tmp/groundwork-cluster); one cluster per folder
#   GROUNDWORK_APP          a built groundwork.dll to run (default: `dotnet publish -c Release` of this checkout)
#   GROUNDWORK_NODE_ENV     extra settings for every node, e.g. "Groundwork__RateLimits__Default=100000 ..."
#   GROUNDWORK_NODE_CPUS    CPU lists to pin nodes to with taskset, one per node, e.g. "0 1"
# Needs: dotnet, postgresql, redis-server, rabbitmq-server, nginx (on Debian, `up` installs what is missing when root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${GROUNDWORK_CLUSTER_DIR:-/tmp/groundwork-cluster}
STATE="$DIR/cluster.env"

die() { echo "local-cluster: $*" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    listening "$port" || { echo "$port"; return; }
  done
}
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
rabbit_env() {
  env HOME="$DIR/rabbitmq/home" RABBITMQ_NODENAME="gwcluster$AMQP_PORT@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT" \
    RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$DIR/rabbitmq/log" \
    RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/rabbitmq/enabled_plugins" \
    RABBITMQ_PID_FILE="$DIR/rabbitmq/rabbit.pid" RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq/none.conf" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" "$@"
}
rabbit_bin() {
  local d
  for d in /usr/lib/rabbitmq/bin /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin; do
    [ -x "$d/rabbitmq-server" ] && { echo "$d"; return; }
  done
}
wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $(( seconds * 10 ))); do "$@" && return 0; sleep 0.1; done
  die "$what did not come up in ${seconds}s (logs in $DIR)"
}
ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/health/ready" 2>/dev/null; }
save() { echo "$1=$2" >> "$STATE"; }

install_missing() {
  local need=()
  [ -n "$(pg_bin)" ] || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -n "$(rabbit_bin)" ] || need+=(rabbitmq-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -eq 0 ] && return
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "local-cluster: installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # Debian starts the packaged services on install; this cluster runs its own private instances.
    for s in nginx redis-server rabbitmq-server postgresql; do service "$s" stop >/dev/null 2>&1 || true; done
  else
    die "missing ${need[*]} (install them, or run as root on Debian)"
  fi
}

start_node() { # index (1-based)
  local i=$1 port grpc cpus pin=()
  port=$(grep "^NODE${i}_PORT=" "$STATE" | cut -d= -f2)
  grpc=$(grep "^NODE${i}_GRPC=" "$STATE" | cut -d= -f2)
  listening "$port" && die "node $i: port $port is busy"
  cpus=$(echo "${GROUNDWORK_NODE_CPUS:-}" | awk -v i="$i" '{print $i}')
  [ -n "$cpus" ] && pin=(taskset -c "$cpus")
  # shellcheck disable=SC2086 # GROUNDWORK_NODE_ENV is a list of NAME=value words
  env ASPNETCORE_ENVIRONMENT=Production \
    Urls="http://127.0.0.1:$port" Groundwork__Urls__Grpc="http://127.0.0.1:$grpc" \
    Groundwork__Database__Provider=postgres \
    ConnectionStrings__Database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=groundwork;Maximum Pool Size=50" \
    Groundwork__Redis="127.0.0.1:$REDIS_PORT" \
    Groundwork__Messaging__Broker=rabbitmq Groundwork__Messaging__RabbitMq__Uri="amqp://guest:guest@127.0.0.1:$AMQP_PORT/" \
    Groundwork__Auth__KeysPath="$DIR/keys" \
    Groundwork__Network__KnownProxies=127.0.0.1 \
    Groundwork__Observability__MetricsUrl="http://127.0.0.1:$(grep "^NODE${i}_METRICS=" "$STATE" | cut -d= -f2)" \
    Groundwork__Shutdown__Drain=00:00:02 \
    ${GROUNDWORK_NODE_ENV:-} \
    setsid "${pin[@]}" dotnet "$APP" > "$DIR/node$i.log" 2>&1 < /dev/null &
  local pid=$!
  sed -i "/^NODE${i}_PID=/d" "$STATE"
  save "NODE${i}_PID" "$pid"
  wait_for 90 "node $i" ready "$port"
}

up() {
  local nodes=${1:-2}
  [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number"
  [ -f "$STATE" ] && die "a cluster already runs in $DIR (down first)"
  install_missing
  mkdir -p "$DIR"
  : > "$STATE"
  chmod 755 "$DIR"

  APP=${GROUNDWORK_APP:-}
  if [ -z "$APP" ]; then
    echo "local-cluster: publishing the service (Release)"
    dotnet publish "$ROOT/src/Groundwork" -c Release -o "$DIR/app" --nologo -v quiet >/dev/null
    APP="$DIR/app/groundwork.dll"
  fi
  save APP "$APP"

  # PostgreSQL
  PG_PORT=$(free_port); save PG_PORT "$PG_PORT"
  mkdir -p "$DIR/postgres"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/postgres"
  as_pg "$(pg_bin)/initdb" -D "$DIR/postgres/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$(pg_bin)/pg_ctl" -D "$DIR/postgres/data" -l "$DIR/postgres/log" -w \
    -o "-p $PG_PORT -k $DIR/postgres -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  save PG_PID "$(head -1 "$DIR/postgres/data/postmaster.pid")"
  "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE groundwork" >/dev/null

  # Redis
  REDIS_PORT=$(free_port); save REDIS_PORT "$REDIS_PORT"
  mkdir -p "$DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$DIR/redis" --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log"
  wait_for 10 "redis" test -s "$DIR/redis/redis.pid"
  save REDIS_PID "$(cat "$DIR/redis/redis.pid")"

  # RabbitMQ
  AMQP_PORT=$(free_port); DIST_PORT=$(free_port); EPMD_PORT=$(free_port)
  save AMQP_PORT "$AMQP_PORT"; save DIST_PORT "$DIST_PORT"; save EPMD_PORT "$EPMD_PORT"
  mkdir -p "$DIR/rabbitmq/home"
  echo "[]." > "$DIR/rabbitmq/enabled_plugins"; : > "$DIR/rabbitmq/none.conf"
  echo "listeners.tcp.default = 127.0.0.1:$AMQP_PORT" > "$DIR/rabbitmq/rabbitmq.conf"
  rabbit_env setsid "$(rabbit_bin)/rabbitmq-server" > "$DIR/rabbitmq/server.out" 2>&1 < /dev/null &
  wait_for 60 "rabbitmq" listening "$AMQP_PORT"
  rabbit_env "$(rabbit_bin)/rabbitmqctl" -q await_startup --timeout 30 >/dev/null 2>&1 || true
  save RABBIT_PID "$(cat "$DIR/rabbitmq/rabbit.pid" 2>/dev/null || true)"

  # Nodes (they share the database, Redis, RabbitMQ and the signing-key folder; each migrates under a lock)
  save NODES "$nodes"
  for i in $(seq 1 "$nodes"); do
    save "NODE${i}_PORT" "$(free_port)"; save "NODE${i}_GRPC" "$(free_port)"; save "NODE${i}_METRICS" "$(free_port)"
  done
  for i in $(seq 1 "$nodes"); do start_node "$i"; done

  # nginx in front: round robin over the nodes; a node that refuses connections is skipped (and retried later).
  HTTP_PORT=$(free_port); GRPC_PORT=$(free_port); save HTTP_PORT "$HTTP_PORT"; save GRPC_PORT "$GRPC_PORT"
  mkdir -p "$DIR/nginx/logs" "$DIR/nginx/temp"
  {
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    cat <<EOF
worker_processes auto;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/temp/body;
  proxy_temp_path $DIR/nginx/temp/proxy;
  fastcgi_temp_path $DIR/nginx/temp/fastcgi;
  uwsgi_temp_path $DIR/nginx/temp/uwsgi;
  scgi_temp_path $DIR/nginx/temp/scgi;
  client_max_body_size 2m;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  upstream groundwork {
$(for i in $(seq 1 "$nodes"); do echo "    server 127.0.0.1:$(grep "^NODE${i}_PORT=" "$STATE" | cut -d= -f2) max_fails=1 fail_timeout=2s;"; done)
    keepalive 64;
  }
  upstream groundwork_grpc {
$(for i in $(seq 1 "$nodes"); do echo "    server 127.0.0.1:$(grep "^NODE${i}_GRPC=" "$STATE" | cut -d= -f2) max_fails=1 fail_timeout=2s;"; done)
  }
  server {
    listen 127.0.0.1:$HTTP_PORT;
    location / {
      proxy_pass http://groundwork;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      # WebSockets (GraphQL subscriptions) and server-sent events pass straight through.
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_buffering off;
      proxy_read_timeout 1h;
      # A node that is down (refused, reset) is skipped for requests that are safe to send twice; POSTs are not
      # re-sent by nginx: clients retry them with their Idempotency-Key.
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
  server {
    listen 127.0.0.1:$GRPC_PORT http2;
    location / { grpc_pass grpc://groundwork_grpc; grpc_read_timeout 1h; }
  }
}
EOF
  } > "$DIR/nginx/nginx.conf"
  local nginx_bin; nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  "$nginx_bin" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log"
  wait_for 10 "nginx" test -s "$DIR/nginx/nginx.pid"
  save NGINX_PID "$(cat "$DIR/nginx/nginx.pid")"
  wait_for 30 "nginx → nodes" ready "$HTTP_PORT"

  echo "Groundwork: $nodes node(s) behind nginx"
  echo "  API      http://127.0.0.1:$HTTP_PORT   (docs at /docs, GraphQL at /graphql)"
  echo "  gRPC     127.0.0.1:$GRPC_PORT (h2c)"
  for i in $(seq 1 "$nodes"); do
    echo "  node $i   http://127.0.0.1:$(grep "^NODE${i}_PORT=" "$STATE" | cut -d= -f2)   metrics http://127.0.0.1:$(grep "^NODE${i}_METRICS=" "$STATE" | cut -d= -f2)/metrics"
  done
  echo "  create an admin: $0 admin EMAIL NAME (password on stdin)"
  echo "  stop: $0 down"
}

load() {
  [ -f "$STATE" ] || die "no cluster in $DIR"
  # shellcheck disable=SC1090
  source "$STATE"
}

status() {
  load
  printf '%-10s %-8s %-7s %s\n' what pid state port
  printf '%-10s %-8s %-7s %s\n' postgres "$PG_PID" "$(alive "$PG_PID" && echo up || echo down)" "$PG_PORT"
  printf '%-10s %-8s %-7s %s\n' redis "$REDIS_PID" "$(alive "$REDIS_PID" && echo up || echo down)" "$REDIS_PORT"
  printf '%-10s %-8s %-7s %s\n' rabbitmq "${RABBIT_PID:-?}" "$(listening "$AMQP_PORT" && echo up || echo down)" "$AMQP_PORT"
  for i in $(seq 1 "$NODES"); do
    local pid port
    pid=$(grep "^NODE${i}_PID=" "$STATE" | cut -d= -f2); port=$(grep "^NODE${i}_PORT=" "$STATE" | cut -d= -f2)
    printf '%-10s %-8s %-7s %s\n' "node$i" "$pid" "$(ready "$port" && echo ready || (alive "$pid" && echo "not ready" || echo down))" "$port"
  done
  printf '%-10s %-8s %-7s %s\n' nginx "$NGINX_PID" "$(alive "$NGINX_PID" && echo up || echo down)" "$HTTP_PORT (gRPC $GRPC_PORT)"
}

node_pid() { grep "^NODE${1}_PID=" "$STATE" | cut -d= -f2; }

down() {
  load
  for i in $(seq 1 "$NODES"); do
    local pid; pid=$(node_pid "$i")
    alive "$pid" && kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 "$NODES"); do
    local pid; pid=$(node_pid "$i")
    for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  done
  alive "${NGINX_PID:-}" && kill -QUIT "$NGINX_PID" 2>/dev/null || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || { alive "$REDIS_PID" && kill "$REDIS_PID"; } || true
  for _ in $(seq 1 50); do alive "$REDIS_PID" || alive "${NGINX_PID:-}" || break; sleep 0.1; done
  if [ -n "$(rabbit_bin)" ]; then
    rabbit_env "$(rabbit_bin)/rabbitmqctl" -q stop >/dev/null 2>&1 || true
    for _ in $(seq 1 300); do alive "${RABBIT_PID:-}" || listening "$AMQP_PORT" || break; sleep 0.1; done
    alive "${RABBIT_PID:-}" && kill -KILL "$RABBIT_PID" 2>/dev/null || true
    rabbit_env epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
  as_pg "$(pg_bin)/pg_ctl" -D "$DIR/postgres/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
  echo "local-cluster: stopped and removed $DIR"
}

case "${1:-}" in
  up) up "${2:-2}" ;;
  status) status ;;
  down) down ;;
  kill-node) load; pid=$(node_pid "${2:?node number}"); alive "$pid" && kill -KILL "$pid"; echo "node $2 killed" ;;
  stop-node) load; pid=$(node_pid "${2:?node number}"); alive "$pid" && kill -TERM "$pid"
    for _ in $(seq 1 600); do alive "$pid" || break; sleep 0.1; done; echo "node $2 stopped" ;;
  start-node) load; start_node "${2:?node number}"; echo "node $2 ready" ;;
  admin) load; env ASPNETCORE_ENVIRONMENT=Production Groundwork__Database__Provider=postgres \
    ConnectionStrings__Database="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=groundwork" \
    Groundwork__Redis="127.0.0.1:$REDIS_PORT" Groundwork__Auth__KeysPath="$DIR/keys" \
    dotnet "$APP" create-admin --email "${2:?email}" --name "${3:?name}" ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
