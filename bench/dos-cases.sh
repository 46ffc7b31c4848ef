#!/usr/bin/env bash
# The "cheap to refuse" cases of ADR 0011, measured against a published build on a fresh SQLite database:
#   dotnet publish src/Groundwork -c Release -o /tmp/gw-release && bench/dos-cases.sh /tmp/gw-release/groundwork.dll 7280
# Prints status, bytes and time per request (curl), and the server's peak RSS. Loopback only, bounded (curl --max-time 120).
set -u
DLL=${1:?path to groundwork.dll}; PORT=${2:-7280}
D=$(mktemp -d /tmp/gw-dos-XXXX); cd "$D"
export ASPNETCORE_ENVIRONMENT=Development Urls=http://127.0.0.1:$PORT Groundwork__Urls__Grpc= Groundwork__Auth__BcryptWorkFactor=4 \
  Groundwork__RateLimits__Default=100000 Groundwork__RateLimits__RegisterPerIp=100000 Groundwork__RateLimits__LoginPerIp=100000
dotnet "$DLL" > server.log 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$D"' EXIT
B=http://127.0.0.1:$PORT
for _ in $(seq 1 150); do curl -s -o /dev/null "$B/health/live" && break; sleep 0.2; done
curl -s -o /dev/null -X POST "$B/api/v1/auth/register" -H 'content-type: application/json' -d '{"email":"author@x.test","name":"Author","password":"author-password"}'
T=$(curl -s -X POST "$B/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"author@x.test","password":"author-password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["accessToken"])')
post() { curl -s -o /dev/null -X POST "$B/api/v1/posts" -H "authorization: Bearer $T" -H 'content-type: application/json' --data-binary @"$1"; }
python3 -c 'import json;print(json.dumps({"title":"t","content":"x"*2000,"published":True}))' > small.json
python3 -c 'import json;print(json.dumps({"title":"t","content":"<"*50000,"published":True}))' > big.json
for _ in $(seq 1 60); do post small.json; done
m() { curl -s -o body -w "%{http_code} bytes=%{size_download} time=%{time_total}s" --max-time 120 "$@"; echo " :: $(head -c 120 body | tr '\n' ' ')"; }
gql() { m -X POST "$B/graphql" -H 'content-type: application/json' -d "{\"query\":\"$1\"}"; }
echo -n "nested seed lists (60 posts of 2 KB):  "; gql '{ posts { author { posts { author { posts { content } } } } } }'
echo -n "negative first:                        "; gql '{ postsConnection(first: -1000) { nodes { author { posts { author { posts { content } } } } } } }'
python3 -c 'import json;print(json.dumps({"email":"a@"+"."*160000+"@","name":"N","password":"long-enough-1"}))' > email160.json
python3 -c 'import json;print(json.dumps({"email":"a@"+"."*900000+"@","name":"N","password":"long-enough-1"}))' > email900.json
echo -n "register, 160 KB e-mail:               "; m -X POST "$B/api/v1/auth/register" -H 'content-type: application/json' --data-binary @email160.json
echo -n "register, 900 KB e-mail:               "; m -X POST "$B/api/v1/auth/register" -H 'content-type: application/json' --data-binary @email900.json
echo -n "login, NUL e-mail:                     "; m -X POST "$B/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"\u0000","password":"whatever-1"}'
echo -n "GET /posts?q=%00:                      "; m "$B/api/v1/posts?q=%00"
echo -n "GET /posts?page=2147483647:            "; m "$B/api/v1/posts?page=2147483647"
for _ in $(seq 1 100); do post big.json; done
echo -n "100 posts of 50,000 '<', nested:       "; gql '{postsConnection(first:48){nodes{author{posts{content}}}}}'
echo -n "same, 15 aliases of posts{content}:    "; gql "{ $(for i in $(seq 1 15); do echo -n "a$i: posts { content } "; done)}"
echo -n "GET /api/v1/posts?limit=100:           "; m "$B/api/v1/posts?limit=100"
echo "server peak RSS: $(grep VmHWM /proc/$PID/status | tr -s ' ')"
