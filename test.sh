#!/usr/bin/env bash
# The one test command: makes sure the servers the tests start privately are installed, then runs every test.
# Integration tests start their own PostgreSQL, Redis, RabbitMQ (and, for the cluster tests, nginx) on free loopback
# ports; a missing server fails them, never skips.
set -euo pipefail
cd "$(dirname "$0")"

need=()
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ls /usr/lib/rabbitmq/lib/*/sbin/rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
# The multi-node tests run deploy/local-cluster.sh: nginx in front, curl for its readiness probes.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v curl >/dev/null 2>&1 || need+=(curl)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # Debian starts packaged services on install; the tests run private instances on free ports instead.
    for s in nginx redis-server rabbitmq-server postgresql; do service "$s" stop >/dev/null 2>&1 || true; done
  else
    echo "test.sh: missing ${need[*]} and cannot install them (needs root and apt-get); the tests that need them will fail" >&2
  fi
fi

# The GraphQL-over-HTTP audits (npm graphql-http) and the graphql-ws client run against a live server from the test suite.
command -v node >/dev/null 2>&1 || need_node=1
if [ "${need_node:-0}" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test.sh: installing nodejs and npm"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -d tests/graphql-audit/node_modules/graphql-http ] || [ ! -d tests/graphql-audit/node_modules/graphql-ws ]; then
  (cd tests/graphql-audit && npm ci --no-audit --no-fund --loglevel=error) || echo "test.sh: npm ci failed; the GraphQL audit test will fail" >&2
fi
# Redocly lints the OpenAPI document the server publishes.
if [ ! -d tests/openapi-lint/node_modules/@redocly/cli ]; then
  (cd tests/openapi-lint && npm ci --no-audit --no-fund --loglevel=error) || echo "test.sh: npm ci failed in tests/openapi-lint; the OpenAPI lint test will fail" >&2
fi
# The deployment files (Kubernetes manifests, compose.yaml) are checked against their schemas by deploy/validate.
if [ ! -d deploy/validate/node_modules/kubernetes-models ]; then
  (cd deploy/validate && npm ci --no-audit --no-fund --loglevel=error) || echo "test.sh: npm ci failed in deploy/validate; the deployment test will fail" >&2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet test --project tests/Groundwork.Tests/Groundwork.Tests.csproj "$@"
