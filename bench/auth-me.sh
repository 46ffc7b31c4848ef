#!/usr/bin/env bash
# Usage: bench/auth-me.sh <groundwork.dll> [port]  (after dotnet publish src/Groundwork -c Release -o /tmp/gw-release)
# GET /api/v1/auth/me with a valid bearer token (the authenticated hot path), wrk -t2 -c32 -d8s after a 4 s warm-up.
set -u
DLL=${1:?path to groundwork.dll}; PORT=${2:-7580}
D=$(mktemp -d /tmp/authb-XXXX); cd $D
export ASPNETCORE_ENVIRONMENT=Production Urls=http://127.0.0.1:$PORT Groundwork__Urls__Grpc= Groundwork__Auth__BcryptWorkFactor=11 \
  Groundwork__RateLimits__Default=100000000 Groundwork__RateLimits__RegisterPerIp=1000 Groundwork__RateLimits__LoginPerIp=1000
dotnet $DLL > server.log 2>&1 & PID=$!
B=http://127.0.0.1:$PORT
for i in $(seq 1 100); do curl -s -o /dev/null $B/health/live && break; sleep 0.2; done
curl -s -o /dev/null -X POST $B/api/v1/auth/register -H 'content-type: application/json' -d '{"email":"b@x.test","name":"B","password":"bench-password"}'
T=$(curl -s -X POST $B/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"b@x.test","password":"bench-password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["accessToken"])')
wrk -t2 -c32 -d4s -H "authorization: Bearer $T" $B/api/v1/auth/me > /dev/null
wrk -t2 -c32 -d8s -H "authorization: Bearer $T" $B/api/v1/auth/me | grep -E "Requests/sec|Latency|Non-2xx"
kill $PID; wait $PID 2>/dev/null; rm -rf $D
