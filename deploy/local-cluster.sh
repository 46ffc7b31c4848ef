#!/usr/bin/env bash
# A production-shaped Groundwork on one machine, without containers: PostgreSQL, Redis, RabbitMQ, N nodes and nginx
# in front, all on loopback, on free ports, with every file under one folder and every process known by its pid.
#
#   deploy/local-cluster.sh up [N]             start everything (N nodes, default 2); prints the URLs
#   deploy/local-cluster.sh status             what runs, on which port, ready or not
#   deploy/local-cluster.sh admin EMAIL NAME   create an admin (password on stdin or in GROUNDWORK_ADMIN_PASSWORD)
#   deploy/local-cluster.sh kill-node I        SIGKILL node I (1-based), as a crash would
#   deploy/local-cluster.sh stop-node I        SIGTERM node I (graceful shutdown)
#   deploy/local-cluster.sh start-node I       start node I again on its port (it rejoins behind nginx)
#   deploy/local-cluster.sh down               stop exactly what `up` started and delete the folder
#
# Environment:
#   GROUNDWORK_CLUSTER_DIR  the folder (default /tmp/groundwork-cluster-$USER); `up` creates it and refuses one that exists
#   GROUNDWORK_APP          a built groundwork.dll to run (default: `dotnet publish -c Release` of this checkout)
#   GROUNDWORK_NODE_ENV     extra settings for every node, e.g. "Groundwork__RateLimits__Default=100000 ..."
#   GROUNDWORK_NODE_CPUS    CPU lists to pin nodes to with taskset, one per node, e.g. "0 1"
# Needs: dotnet, postgresql, redis-server, rabbitmq-server, nginx, curl (on Debian, `up` installs what is missing when root).
# PostgreSQL and Redis get random passwords (kept in the folder, readable only by you); RabbitMQ keeps its guest
# user, which it accepts from loopback only. Meant for a machine you do not share with untrusted users.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${GROUNDWORK_CLUSTER_DIR:-/tmp/groundwork-cluster-$(id -un)}
STATE="$DIR/cluster.env"

die() { echo "local-cluster: $*" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TAKEN=" "
# Below the kernel's ephemeral range: a port there can be taken at any moment by an outgoing connection (or by a
# program that asks the kernel for any free port), between our check and the server's bind.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() { # a port nothing listens on and this run has not handed out yet
  local port
  while :; do
    port=$(( 10000 + (RANDOM * 32768 + RANDOM) % (EPHEMERAL_LOW - 10000) ))
    [[ "$TAKEN" == *" $port "* ]] && continue
    listening "$port" && continue
    TAKEN="$TAKEN$port "
    echo "$port"
    return
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
  local deadline=$(( SECONDS + $1 )) what=$2; shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up in time (logs in $DIR)"
    sleep 0.1
  done
}
ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/health/ready" 2>/dev/null; }
secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The state file is data, never code: only NAME=value lines with plain values are read, and only into CLUSTER_*.
save() { echo "$1=$2" >> "$STATE"; }
get() { local v; v=$(grep -m1 "^$1=" "$STATE" 2>/dev/null | cut -d= -f2-) || true; [[ "$v" =~ ^[A-Za-z0-9_./:@-]*$ ]] || die "bad $1 in $STATE"; echo "$v"; }
load() {
  [ -f "$STATE" ] || die "no cluster in $DIR"
  [ -O "$STATE" ] && [ ! -L "$STATE" ] && [ -O "$DIR" ] || die "$DIR is not yours: refusing to read it"
  APP=$(get APP); NODES=$(get NODES); PG_PORT=$(get PG_PORT); PG_PASSWORD=$(get PG_PASSWORD)
  REDIS_PORT=$(get REDIS_PORT); REDIS_PASSWORD=$(get REDIS_PASSWORD); REDIS_PID=$(get REDIS_PID)
  AMQP_PORT=$(get AMQP_PORT); DIST_PORT=$(get DIST_PORT); EPMD_PORT=$(get EPMD_PORT); RABBIT_PID=$(get RABBIT_PID)
  HTTP_PORT=$(get HTTP_PORT); GRPC_PORT=$(get GRPC_PORT); NGINX_PID=$(get NGINX_PID)
  [[ "${NODES:-0}" =~ ^[0-9]+$ ]] || NODES=0
}
database() { echo "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD;Database=groundwork"; }
redis() { echo "127.0.0.1:$REDIS_PORT,password=$REDIS_PASSWORD"; }

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
  local i=$1 port grpc metrics cpus pin=()
  [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -ge 1 ] && [ "$i" -le "$NODES" ] || die "no node $i (1..$NODES)"
  port=$(get "NODE${i}_PORT"); grpc=$(get "NODE${i}_GRPC"); metrics=$(get "NODE${i}_METRICS")
  listening "$port" && die "node $i: port $port is busy"
  cpus=$(echo "${GROUNDWORK_NODE_CPUS:-}" | awk -v i="$i" '{print $i}')
  [ -n "$cpus" ] && pin=(taskset -c "$cpus")
  # shellcheck disable=SC2086 # GROUNDWORK_NODE_ENV is a list of NAME=value words
  env ASPNETCORE_ENVIRONMENT=Production \
    Urls="http://127.0.0.1:$port" Groundwork__Urls__Grpc="http://127.0.0.1:$grpc" \
    Groundwork__Database__Provider=postgres \
    ConnectionStrings__Database="$(database);Maximum Pool Size=50" \
    Groundwork__Redis="$(redis)" \
    Groundwork__Messaging__Broker=rabbitmq Groundwork__Messaging__RabbitMq__Uri="amqp://guest:guest@127.0.0.1:$AMQP_PORT/" \
    Groundwork__Auth__KeysPath="$DIR/keys" \
    Groundwork__Network__KnownProxies=127.0.0.1 \
    Groundwork__Observability__MetricsUrl="http://127.0.0.1:$metrics" \
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
  # A folder of our own, made now: never one someone else prepared (we run its programs, as root perhaps).
  [ -e "$DIR" ] && die "$DIR exists: a cluster runs there (down first), or choose another GROUNDWORK_CLUSTER_DIR"
  install_missing
  umask 077
  mkdir -m 711 "$DIR" # others may traverse (PostgreSQL's and nginx's users reach their own subfolders), not list
  : > "$STATE"
  # A failure half-way (a command failing, or die) stops what was started so far.
  trap 'echo "local-cluster: up failed; stopping what it started" >&2; down >/dev/null 2>&1 || true' EXIT

  APP=${GROUNDWORK_APP:-}
  if [ -z "$APP" ]; then
    echo "local-cluster: publishing the service (Release)"
    dotnet publish "$ROOT/src/Groundwork" -c Release -o "$DIR/app" --nologo -v quiet >/dev/null
    APP="$DIR/app/groundwork.dll"
  fi
  save APP "$APP"
  save NODES 0

  # PostgreSQL, with a password (scram) even on loopback
  PG_PORT=$(free_port); PG_PASSWORD=$(secret); save PG_PORT "$PG_PORT"; save PG_PASSWORD "$PG_PASSWORD"
  mkdir -m 700 "$DIR/postgres"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/postgres"
  echo "$PG_PASSWORD" > "$DIR/postgres.pw"; [ "$(id -u)" -eq 0 ] && chown postgres "$DIR/postgres.pw"
  as_pg "$(pg_bin)/initdb" -D "$DIR/postgres/data" -U postgres --auth=scram-sha-256 --pwfile="$DIR/postgres.pw" -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$DIR/postgres.pw"
  # Another program may still bind the port first: then try another one (the log says why it failed).
  for attempt in 1 2 3; do
    as_pg "$(pg_bin)/pg_ctl" -D "$DIR/postgres/data" -l "$DIR/postgres/log" -w \
      -o "-p $PG_PORT -k $DIR/postgres -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null && break
    [ "$attempt" -lt 3 ] || { tail -5 "$DIR/postgres/log" >&2; die "PostgreSQL did not start"; }
    PG_PORT=$(free_port); sed -i "/^PG_PORT=/d" "$STATE"; save PG_PORT "$PG_PORT"
  done
  save PG_PID "$(head -1 "$DIR/postgres/data/postmaster.pid")"
  PGPASSWORD="$PG_PASSWORD" "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE groundwork" >/dev/null

  # Redis, with a password
  REDIS_PORT=$(free_port); REDIS_PASSWORD=$(secret); save REDIS_PORT "$REDIS_PORT"; save REDIS_PASSWORD "$REDIS_PASSWORD"
  mkdir "$DIR/redis"
  printf 'port %s\nbind 127.0.0.1\nrequirepass %s\nsave ""\nappendonly no\ndaemonize yes\ndir %s\npidfile %s\nlogfile %s\n' \
    "$REDIS_PORT" "$REDIS_PASSWORD" "$DIR/redis" "$DIR/redis/redis.pid" "$DIR/redis/redis.log" > "$DIR/redis/redis.conf"
  redis-server "$DIR/redis/redis.conf"
  wait_for 10 "redis" test -s "$DIR/redis/redis.pid"
  REDIS_PID=$(cat "$DIR/redis/redis.pid"); save REDIS_PID "$REDIS_PID"

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
  for i in $(seq 1 "$nodes"); do
    save "NODE${i}_PORT" "$(free_port)"; save "NODE${i}_GRPC" "$(free_port)"; save "NODE${i}_METRICS" "$(free_port)"
  done
  sed -i "/^NODES=/d" "$STATE"; save NODES "$nodes"; NODES=$nodes
  for i in $(seq 1 "$nodes"); do start_node "$i"; done

  # nginx in front: round robin over the nodes; a node that refuses connections is skipped (and retried later).
  HTTP_PORT=$(free_port); GRPC_PORT=$(free_port); save HTTP_PORT "$HTTP_PORT"; save GRPC_PORT "$GRPC_PORT"
  mkdir -m 711 "$DIR/nginx"; mkdir "$DIR/nginx/logs" "$DIR/nginx/temp"
  # Workers run unprivileged (nginx's default user when started as root) and write only their temp folder.
  [ "$(id -u)" -eq 0 ] && chown nobody "$DIR/nginx/temp"
  cat > "$DIR/nginx/nginx.conf" <<EOF
$([ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;")
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
$(for i in $(seq 1 "$nodes"); do echo "    server 127.0.0.1:$(get "NODE${i}_PORT") max_fails=1 fail_timeout=2s;"; done)
    keepalive 64;
  }
  upstream groundwork_grpc {
$(for i in $(seq 1 "$nodes"); do echo "    server 127.0.0.1:$(get "NODE${i}_GRPC") max_fails=1 fail_timeout=2s;"; done)
  }
  server {
    listen 127.0.0.1:$HTTP_PORT;
    # Metrics live on the nodes' own ports; never through the public door.
    location = /metrics { return 404; }
    location / {
      proxy_pass http://groundwork;
      proxy_http_version 1.1;
      proxy_set_header Host \$host;
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
  local nginx_bin; nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  "$nginx_bin" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log"
  wait_for 10 "nginx" test -s "$DIR/nginx/nginx.pid"
  save NGINX_PID "$(cat "$DIR/nginx/nginx.pid")"
  wait_for 30 "nginx → nodes" ready "$HTTP_PORT"
  trap - EXIT

  echo "Groundwork: $nodes node(s) behind nginx"
  echo "  API      http://127.0.0.1:$HTTP_PORT   (docs at /docs, GraphQL at /graphql)"
  echo "  gRPC     127.0.0.1:$GRPC_PORT (h2c)"
  for i in $(seq 1 "$nodes"); do
    echo "  node $i   http://127.0.0.1:$(get "NODE${i}_PORT")   metrics http://127.0.0.1:$(get "NODE${i}_METRICS")/metrics"
  done
  echo "  create an admin: $0 admin EMAIL NAME (password on stdin)"
  echo "  stop: $0 down"
}

status() {
  load
  printf '%-10s %-8s %-9s %s\n' what pid state port
  printf '%-10s %-8s %-9s %s\n' postgres "$(get PG_PID)" "$(alive "$(get PG_PID)" && echo up || echo down)" "$PG_PORT"
  printf '%-10s %-8s %-9s %s\n' redis "$REDIS_PID" "$(alive "$REDIS_PID" && echo up || echo down)" "$REDIS_PORT"
  printf '%-10s %-8s %-9s %s\n' rabbitmq "${RABBIT_PID:-?}" "$(listening "$AMQP_PORT" && echo up || echo down)" "$AMQP_PORT"
  for i in $(seq 1 "$NODES"); do
    local pid port
    pid=$(get "NODE${i}_PID"); port=$(get "NODE${i}_PORT")
    printf '%-10s %-8s %-9s %s\n' "node$i" "$pid" "$(ready "$port" && echo ready || { alive "$pid" && echo "not ready" || echo down; })" "$port"
  done
  printf '%-10s %-8s %-9s %s\n' nginx "$NGINX_PID" "$(alive "$NGINX_PID" && echo up || echo down)" "$HTTP_PORT (gRPC $GRPC_PORT)"
}

# Stops whatever of the cluster exists, in reverse order; works after a failed `up` too.
down() {
  load
  local i pid
  for i in $(seq 1 "$NODES"); do
    pid=$(get "NODE${i}_PID"); alive "$pid" && kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 "$NODES"); do
    pid=$(get "NODE${i}_PID")
    for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  done
  alive "$NGINX_PID" && kill -QUIT "$NGINX_PID" 2>/dev/null || true
  alive "$REDIS_PID" && kill -TERM "$REDIS_PID" 2>/dev/null || true
  if [ -n "$AMQP_PORT" ] && [ -n "$(rabbit_bin)" ]; then
    rabbit_env "$(rabbit_bin)/rabbitmqctl" -q stop >/dev/null 2>&1 || true
    for _ in $(seq 1 300); do alive "$RABBIT_PID" || listening "$AMQP_PORT" || break; sleep 0.1; done
    alive "$RABBIT_PID" && kill -KILL "$RABBIT_PID" 2>/dev/null || true
    rabbit_env epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
  [ -d "$DIR/postgres/data" ] && { as_pg "$(pg_bin)/pg_ctl" -D "$DIR/postgres/data" -m fast stop >/dev/null 2>&1 || true; }
  for _ in $(seq 1 50); do alive "$REDIS_PID" || alive "$NGINX_PID" || break; sleep 0.1; done
  rm -rf "$DIR"
  echo "local-cluster: stopped and removed $DIR"
}

case "${1:-}" in
  up) up "${2:-2}" ;;
  status) status ;;
  down) down ;;
  kill-node) load; pid=$(get "NODE${2:?node number}_PID")
    if alive "$pid"; then kill -KILL "$pid"; echo "node $2 killed"; else echo "node $2 was not running"; fi ;;
  stop-node) load; pid=$(get "NODE${2:?node number}_PID")
    if alive "$pid"; then kill -TERM "$pid"; for _ in $(seq 1 600); do alive "$pid" || break; sleep 0.1; done; echo "node $2 stopped"
    else echo "node $2 was not running"; fi ;;
  start-node) load; start_node "${2:?node number}"; echo "node $2 ready" ;;
  admin) load; env ASPNETCORE_ENVIRONMENT=Production Groundwork__Database__Provider=postgres \
    ConnectionStrings__Database="$(database)" Groundwork__Redis="$(redis)" Groundwork__Auth__KeysPath="$DIR/keys" \
    dotnet "$APP" create-admin --email "${2:?email}" --name "${3:?name}" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
