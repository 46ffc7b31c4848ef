#!/usr/bin/env bash
# Usage: bench/login-storm.sh <groundwork.dll> [connections] [port]  (after dotnet publish src/Groundwork -c Release -o /tmp/gw-release)
# A burst of logins (bcrypt, work factor 11) on one node with Redis on, and meanwhile a client reading a cheap endpoint
# every 20 ms on its own connection: what the rest of the node feels while it hashes (ADR 0025). Prints the logins'
# wrk summary (with -c 200 most are refused at once with 503 once 32 per core wait), the cheap endpoint's latency
# idle and during the burst, and whether the node fell back from Redis. Needs wrk, redis-server, python3.
set -u
DLL=${1:?path to groundwork.dll}; CONNS=${2:-32}; PORT=${3:-7581}
D=$(mktemp -d /tmp/loginb-XXXX); cd "$D"
REDIS_PORT=$((PORT + 1))
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --dir "$D" >/dev/null
export ASPNETCORE_ENVIRONMENT=Benchmark Urls=http://127.0.0.1:$PORT Groundwork__Urls__Grpc= Groundwork__Bench__Enabled=true \
  Groundwork__Redis=127.0.0.1:$REDIS_PORT Groundwork__Auth__BcryptWorkFactor=11 Groundwork__Auth__KeysPath=$D/keys \
  Groundwork__RateLimits__Default=100000000 Groundwork__RateLimits__LoginPerIp=100000000 Groundwork__RateLimits__LoginPerAccount=100000000 \
  Logging__LogLevel__Default=Warning Groundwork__Shutdown__Drain=0
GROUNDWORK_ADMIN_PASSWORD=storm-password dotnet "$DLL" create-admin --email storm@x.test --name Storm >/dev/null 2>&1
dotnet "$DLL" > server.log 2>&1 & PID=$!
B=http://127.0.0.1:$PORT
for i in $(seq 1 100); do curl -sf -o /dev/null $B/health/ready && break; sleep 0.2; done
cat > login.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"storm@x.test","password":"storm-password"}'
LUA
cat > probe.py <<'PY'
import socket, sys, time
# Sequential GETs on one keep-alive connection for N seconds, one every 20 ms; p50/p99/max latency.
port, path, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb")
lat = []; end = time.time() + seconds
while time.time() < end:
    t = time.time()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    f.readline(); n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""): break
        if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
    f.read(n); lat.append(time.time() - t); time.sleep(0.02)
lat.sort(); k = len(lat)
print(f"{path}: n={k} p50={lat[k//2]*1000:.1f} ms p99={lat[int(k*.99)]*1000:.1f} ms max={lat[-1]*1000:.1f} ms")
PY
wrk -t1 -c4 -d3s -s login.lua $B/api/v1/auth/login >/dev/null
echo "idle:   $(python3 probe.py $PORT /bench/bare-user 3)"
python3 probe.py $PORT /bench/bare-user 12 > during.txt & PROBE=$!
echo "logins, $CONNS connections, 12 s:"
wrk -t2 -c"$CONNS" -d12s -s login.lua $B/api/v1/auth/login | grep -E "requests in|Latency|Non-2xx|Requests/sec"
wait $PROBE
echo "during: $(cat during.txt)"
echo "Redis fallbacks logged: $(grep -c 'Redis is unreachable' server.log)"
kill $PID; wait $PID 2>/dev/null; redis-cli -p $REDIS_PORT shutdown nosave >/dev/null 2>&1; cd /; rm -rf "$D"
