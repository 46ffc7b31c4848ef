#!/usr/bin/env bash
# Refreshes the GraphQL IDE's third-party assets (GraphiQL + React + graphql-ws for subscriptions, MIT) embedded in the app.
# Run after changing the pinned versions in package.json; commit the results.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
out=../../src/Groundwork/Platform/GraphQLServer/Ide
for f in node_modules/graphiql/graphiql.min.js node_modules/graphiql/graphiql.min.css \
         node_modules/react/umd/react.production.min.js node_modules/react-dom/umd/react-dom.production.min.js \
         node_modules/graphql-ws/umd/graphql-ws.min.js; do
  gzip -9 -n -c "$f" > "$out/$(basename "$f").gz"
done
{
  for p in graphiql react react-dom graphql-ws; do
    echo "== $p $(node -p "require('./node_modules/$p/package.json').version") =="
    cat "node_modules/$p/LICENSE"* 
    echo
  done
} > "$out/THIRD-PARTY-NOTICES.txt"
ls -la "$out"
